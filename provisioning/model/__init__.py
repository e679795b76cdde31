"""The province model: one validated view of `inventory/<name>/` shared by every command."""
from .loader import InventoryError, Issue, load_province
from .schema import (CENTER_GROUP, SERVER_GROUPS, UNIT_GROUP, Admin, Host, HostRole, LdapTarget, Province, Unit,
                     UnitKind, nfc)
from .settings import AccountsSettings, AuditSettings, ComplianceSettings, ReportSettings, ServicesSettings, Settings

__all__ = ["AccountsSettings", "Admin", "AuditSettings", "CENTER_GROUP", "Host", "HostRole", "InventoryError",
           "ComplianceSettings", "Issue", "LdapTarget", "Province", "ReportSettings", "SERVER_GROUPS", "ServicesSettings", "Settings",
           "UNIT_GROUP", "Unit", "UnitKind", "load_province", "nfc"]
