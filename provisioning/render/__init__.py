"""One rendering layer: plain result objects -> terminal tables, JSON, and (in later modules) HTML/XLSX/PDF."""
