"""One rendering layer: plain result objects -> terminal tables and JSON (console.py), and files for
people: self-contained HTML with SVG charts (html.py), print-ready XLSX (xlsx.py), signable A4 PDF
(pdf.py), Excel-safe CSV (csv.py). Messages and number/date formats in Vietnamese and English live in
i18n.py; every file is written atomically (files.py)."""
