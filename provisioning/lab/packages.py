"""What lab hosts are made of.

ROOTFS_INCLUDE: the base image every lab host starts from (debootstrap --variant=minbase + these).
LAB_PACKAGES: what roles may `apt install` inside lab hosts. They are downloaded once into the lab's
offline repository; lab hosts have no other package source. Add a role's packages here: the next
`provision lab up` rebuilds the repository when this list changed.
"""

ROOTFS_INCLUDE = [
    "openssh-server", "python3", "python3-apt", "iproute2", "iputils-ping", "procps", "ca-certificates",
    "ssl-cert", "dmidecode", "pciutils", "util-linux", "lsb-release", "less", "cron", "logrotate",
]

LAB_PACKAGES = [
    "slapd", "ldap-utils",
    "postfix", "postfix-ldap", "dovecot-imapd", "dovecot-lmtpd", "dovecot-ldap", "opendkim",
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
    # not deployed by any role: a test installs it to prove the mail roles coexist with it
    "rsyslog",
]
