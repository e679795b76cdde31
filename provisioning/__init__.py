"""provisioning: audit, deploy, accounts and monthly reports for a province's e-government network."""
__version__ = "0.1.0"
