#!/usr/bin/env bash
# The main job, on the lab province: what a consultant rehearses before touching a real province.
# Run through `bash scripts/bootstrap.sh demo` (which sets the machine up first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
INV=inventory/lab
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Build the lab province (center, 2 unit servers, workstations, simulated switches)"
provision lab up --units 2 --workstations 2 --switches 1
step "2. Validate the province model"
provision inventory check -i "$INV"
step "3. Lab status"
provision lab status
