#!/usr/bin/env bash
# Set up a Debian 12 or 13 machine (as root) for this project, then optionally run a job:
#   bash scripts/bootstrap.sh          # set up only
#   bash scripts/bootstrap.sh demo     # set up, then run the main job on the lab province
#   bash scripts/bootstrap.sh test     # set up, then run the whole test suite
# Idempotent: a second run only checks what is already there. The same package names serve Debian 12
# (Python 3.11, slapd 2.5, Dovecot 2.3, Postfix 3.7) and 13 (Python 3.13, slapd 2.6, Dovecot 2.4,
# Postfix 3.10); the test fixtures pick the service configuration from the installed versions.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DEBIAN_FRONTEND=noninteractive

# Debian packages on the machine itself. Lab hosts get theirs from the lab's offline repository
# (provisioning/lab/packages.py); these are the clients the tools and tests use, plus the real
# services that tests start on loopback.
APT_PKGS=(
  python3-venv python3-dev gcc libffi-dev           # the project's virtualenv
  debootstrap dpkg-dev iproute2 openssh-client      # the lab: base image, offline repo, namespaces
  util-linux procps psmisc kmod
  ldap-utils bind9-dnsutils swaks curl openssl      # real clients: ldapsearch, dig, swaks, curl
  smbclient                                         # real client of the unit file shares (provision verify)
  slapd slapd-contrib postfix postfix-ldap dovecot-imapd dovecot-lmtpd dovecot-ldap  # services tests start on loopback
  openssh-server                                    # sshd the report tests start on loopback (log collection)
  poppler-utils fonts-dejavu-core fonts-dejavu-extra  # PDF reports: fonts with Vietnamese glyphs (the
                                                    # serif italics are in -extra), pdftotext
  chromium chromium-driver                          # the console's browser tests (Selenium; never a downloaded browser)
  lynis                                             # tests/bench/lynis_bench.py copies it into lab servers
)

[ "$(id -u)" = 0 ] || { echo "bootstrap: run as root (the lab needs namespaces and mounts)" >&2; exit 2; }
release=$(. /etc/os-release 2>/dev/null && echo "${ID:-?} ${VERSION_ID:-?}")
case "$release" in
  "debian 12"|"debian 13") ;;
  *) echo "bootstrap: warning: this machine runs '$release'; the project is set up and tested on Debian 12 or 13" >&2 ;;
esac

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  apt-get update -qq
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # Do not start the services on the machine itself: tests start their own on loopback.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $created_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
fi

if [ ! -x .venv/bin/provision ] || [ pyproject.toml -nt .venv/.installed ] || [ constraints.txt -nt .venv/.installed ]; then
  echo "bootstrap: python environment in $ROOT/.venv"
  /usr/bin/python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e '.[lab,test]' 2>&1 | { grep -v '^WARNING: Location' || true; }
  # fake-switches (the lab's Cisco IOS simulator) pins Twisted<17, which cannot build on Python 3.11+;
  # it runs on the current Twisted installed by the [lab] extra.
  .venv/bin/pip install -q --disable-pip-version-check --no-deps 'fake-switches==1.5.0' 2>&1 | { grep -v '^WARNING: Location' || true; }
  touch .venv/.installed
fi
ln -sf "$ROOT/.venv/bin/provision" /usr/local/bin/provision
export PATH="$ROOT/.venv/bin:$PATH"

case "${1:-}" in
  "") ;;
  demo) exec bash scripts/demo.sh ;;
  test) shift; exec .venv/bin/python -m pytest "$@" ;;
  *) echo "bootstrap: unknown job '$1' (demo or test)" >&2; exit 2 ;;
esac
