"""The province model: one validated view of `inventory/<name>/` shared by every command."""
from .loader import SERVER_GROUPS, InventoryError, Issue, load_province
from .schema import Admin, Host, HostRole, Province, Unit, UnitKind, nfc
from .settings import AccountsSettings, AuditSettings, ReportSettings, ServicesSettings, Settings

__all__ = ["AccountsSettings", "Admin", "AuditSettings", "Host", "HostRole", "InventoryError", "Issue", "Province",
           "ReportSettings", "SERVER_GROUPS", "ServicesSettings", "Settings", "Unit", "UnitKind", "load_province",
           "nfc"]
