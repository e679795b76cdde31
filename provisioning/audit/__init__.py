"""Hardware audit of the units' LANs: Linux hosts over SSH (linux.py), network devices over netmiko
(network.py), graded against a YAML baseline (baseline.py, grading.py), run under a hard per-host deadline
(runner.py, deadline.py), written as JSON/CSV/HTML (results.py) and compared run to run (diff.py).
The audit.json schema and the baseline syntax are documented in README.md next to this file."""
