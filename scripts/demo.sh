#!/usr/bin/env bash
# The main job, on the lab province: what a consultant rehearses before touching a real province.
# Run through `bash scripts/bootstrap.sh demo` (which sets the machine up first). Safe to run again:
# every step converges, and the second deploy and account sync say that nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
INV=inventory/lab
DATA=var/lab
MONTH=$(date +%Y-%m)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Debian release of the lab's servers: mixed = integration center on Debian 13, unit servers on 12 and 13
# (a province mid-way through upgrading its servers); DEMO_DEBIAN=12 or 13 for one release everywhere.
DEBIAN=${DEMO_DEBIAN:-mixed}

step "1. Build the lab province ($DEBIAN): integration center, 2 unit servers, workstations, simulated switches (Cisco, Huawei, H3C)"
provision lab up --units 2 --workstations 2 --switches 1 --switch-vendors cisco,huawei,h3c --debian "$DEBIAN"
provision lab status

step "2. Validate the province model"
provision inventory check -i "$INV"

step "3. Audit the units' LAN hardware against the baseline ($DATA/audit/<run>/audit.{json,csv,xlsx,html})"
provision audit -i "$INV"

step "4. Deploy the baseline services (directory, mail, DNS, PKI, portal, NTP, firewall, unit services)"
provision deploy -i "$INV"

step "5. Verify every service from outside, as a user would"
provision verify -i "$INV"

step "5b. Back up the directory, the mail store and the configuration; list the snapshots"
provision backup run -i "$INV"
provision backup list -i "$INV"

step "6. Sync a sample HR roster: identities, mailboxes, first-password sheets"
mkdir -p "$DATA"
[ -f "$DATA/roster-sample.csv" ] || provision accounts sample -i "$INV" --count 300 --out "$DATA/roster-sample.csv"
# The provincial HR office's own official first (the roster's first row), given the console's HR role
HR_ID=$(sed -n 2p "$DATA/roster-sample.csv" | cut -d, -f1)
if ! provision accounts show "$HR_ID" -i "$INV" --json > /dev/null 2>&1; then   # first run: no official yet
  head -n 2 "$DATA/roster-sample.csv" > "$DATA/roster-hr.csv"
  provision accounts apply "$DATA/roster-hr.csv" -i "$INV" --yes
fi
HR_UID=$(provision accounts show "$HR_ID" -i "$INV" --json \
  | python -c 'import json, sys; u = json.load(sys.stdin)["entry"]["uid"]; print(u[0] if isinstance(u, list) else u)')
provision accounts grant province-hr "$HR_UID" -i "$INV"
SHEET=$(provision accounts reset-password "$HR_UID" -i "$INV" | tail -n 1 | tr -d ' ')

step "6b. The web console, https://console.$(python -c 'import sys; from provisioning.model import load_province; print(load_province(sys.argv[1]).dns_zone)' "$INV")/: HR uploads the roster and sees the plan"
python scripts/console_demo.py -i "$INV" --uid "$HR_UID" --sheet "$SHEET" --roster "$DATA/roster-sample.csv" \
  --totp-file "$DATA/console-hr.totp"

step "6c. Apply the roster (the CLI, as the console's apply button would)"
provision accounts plan "$DATA/roster-sample.csv" -i "$INV"
provision accounts apply "$DATA/roster-sample.csv" -i "$INV" --yes
# Unit servers copy their officials into the file share within 5 minutes (cron); do it now, or the
# second deploy below would do it and rightly report that change.
provision deploy -i "$INV" --tags fileshare

step "7. Second deploy and second sync on the unchanged province: nothing changes"
provision deploy -i "$INV"
provision accounts apply "$DATA/roster-sample.csv" -i "$INV" --yes

step "8. Monthly progress report on the directive ($DATA/report/$MONTH/)"
provision report form --month "$MONTH" -i "$INV"
provision report monthly --month "$MONTH" -i "$INV" --roster "$DATA/roster-sample.csv"
