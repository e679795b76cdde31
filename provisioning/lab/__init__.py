"""The lab province: isolated Debian hosts and simulated switches on one machine."""
from .lab import HostStatus, Lab, LabStatus, check_machine

__all__ = ["HostStatus", "Lab", "LabStatus", "check_machine"]
