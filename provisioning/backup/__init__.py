"""`provision backup`: run, list and restore the servers' snapshots (the `backup` role's script)."""
