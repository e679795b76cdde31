"""Exit codes shared by every command (documented in the README)."""
OK = 0
FAILED = 1      # the operation ran and something failed (a host, a service, a check)
BAD_INPUT = 2   # bad input: flags, inventory, roster, baseline; nothing was changed


class BadInput(Exception):
    """Raised for invalid user input; the CLI prints it and exits with BAD_INPUT."""


class OperationFailed(Exception):
    """Raised when an operation could not complete; the CLI prints it and exits with FAILED."""
