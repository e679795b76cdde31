"""The province model: one validated view of `inventory/<name>/` shared by every command."""
from .loader import SERVER_GROUPS, InventoryError, Issue, load_province
from .schema import Admin, Host, HostRole, Province, Unit, UnitKind, nfc

__all__ = ["Admin", "Host", "HostRole", "InventoryError", "Issue", "Province", "SERVER_GROUPS", "Unit",
           "UnitKind", "load_province", "nfc"]
