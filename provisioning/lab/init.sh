#!/bin/bash
# PID 1 of a lab host: mounts what a Debian system expects, starts sshd, reaps orphans.
# Its process name is "init" and /sbin/init is this script (not a systemd symlink), so Ansible's
# service_mgr fact is "sysvinit" and services run through /etc/init.d.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run
mkdir -p /run/sshd /run/lock && chmod 1777 /run/lock
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mount -t tmpfs -o nosuid,mode=755,size=1m tmpfs /dev
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
  set -- $n; mknod -m 666 /dev/$1 c $2 $3; done
ln -s /proc/self/fd /dev/fd; ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr
mkdir /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,gid=5,mode=620,ptmxmode=666 devpts /dev/pts; ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null || true
cat /etc/hostname >/proc/sys/kernel/hostname
# Debian's ssl-cert leaves the snakeoil pair to its postinst; dovecot's postinst needs it: one per host.
if [ -x /usr/sbin/make-ssl-cert ] && [ ! -e /etc/ssl/certs/ssl-cert-snakeoil.pem ]; then
  make-ssl-cert generate-default-snakeoil; fi
# The only package source is the lab's offline repository (bind-mounted read-only).
apt-get update -qq -o Acquire::Languages=none >/var/log/lab-apt-update.log 2>&1 || true
# Services enabled for this runlevel start again when a stopped host is started.
for s in /etc/rc2.d/S*; do [ -x "$s" ] && case "$s" in *ssh) ;; *) "$s" start >/dev/null 2>&1 ;; esac; done
/usr/sbin/sshd -E /var/log/sshd.log
echo "lab host $(hostname) up"
trap 'kill -TERM -1; sleep 1; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
