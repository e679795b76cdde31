"""Exit codes shared by every command (documented in the README)."""
OK = 0
FAILED = 1      # the operation ran and something failed (a host, a service, a check)
BAD_INPUT = 2   # bad input: flags, inventory, roster, baseline; nothing was changed


class BadInput(Exception):
    """Raised for invalid user input; the CLI prints it and exits with BAD_INPUT."""


class OperationFailed(Exception):
    """Raised when an operation could not complete; the CLI prints it and exits with FAILED."""


class HostKeyError(OperationFailed):
    """An SSH host key that is not trusted: unknown (not in known_hosts) or changed (another key is
    recorded for the host). The message names the host and says what to do; `kind` is "unknown" or
    "changed"."""

    def __init__(self, message: str, *, host: str, address: str, kind: str):
        super().__init__(message)
        self.host, self.address, self.kind = host, address, kind
