"""What lab hosts are made of.

ROOTFS_INCLUDE: the base image every lab host starts from (debootstrap --variant=minbase + these).
LAB_PACKAGES: what roles may `apt install` inside lab hosts. They are downloaded once into each release's
offline repository; lab hosts have no other package source. Add a role's packages here: the next
`provision lab up` rebuilds the repositories when this list changed. A name that differs between Debian
releases is written "name@codename" (used for that release only); plain names are used for every release.
"""

ROOTFS_INCLUDE = [
    "openssh-server", "python3", "python3-apt", "iproute2", "iputils-ping", "procps", "ca-certificates",
    "ssl-cert", "dmidecode", "pciutils", "util-linux", "lsb-release", "less", "cron@bookworm", "logrotate@bookworm",
]
# Installed by apt inside the fresh image, after debootstrap: trixie's cron needs one of systemd or
# systemd-standalone-sysusers, and debootstrap (always taking the first alternative) fails to install systemd.
ROOTFS_LATER = ["cron@trixie", "logrotate@trixie", "systemd-standalone-sysusers@trixie"]

LAB_PACKAGES = [
    "slapd", "slapd-contrib", "ldap-utils",
    "postfix", "postfix-ldap", "dovecot-imapd", "dovecot-lmtpd", "dovecot-ldap", "opendkim",
    # mail authentication on the center: SPF policy, DMARC, the submission sender milter (python3-milter)
    "postfix-policyd-spf-python", "opendmarc", "dbconfig-mysql", "python3-milter",
    "bind9", "bind9-dnsutils",
    "nginx",
    "chrony", "nftables", "openssl", "rsync", "sudo",
    # unit services and operations: file share, proxy, webmail, package mirror
    "samba", "squid", "roundcube-core", "roundcube-sqlite3", "roundcube-plugins", "php-fpm", "php-ldap",
    "apt-utils", "gpg", "gpg-agent",
    # host hardening: audit, file integrity, malware scanning (mail milter, Samba virusfilter), security updates
    "auditd", "aide", "clamav", "clamav-daemon", "clamav-freshclam", "clamav-milter", "samba-vfs-modules",
    "unattended-upgrades", "apt-listchanges", "apparmor", "apparmor-utils", "apparmor-profiles", "acct",
    "debsums", "libpam-tmpdir", "apt-show-versions", "sysstat",
    # central logs: rsyslog with its TLS (GnuTLS) stream driver
    "rsyslog", "rsyslog-gnutls",
]


def for_release(names: list[str], codename: str) -> list[str]:
    """The names of a list that apply to one release ("name@codename" entries only to that release)."""
    out = []
    for n in names:
        name, _, only = n.partition("@")
        if not only or only == codename:
            out.append(name)
    return out
