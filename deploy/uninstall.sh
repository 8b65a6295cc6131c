#!/usr/bin/env bash
# Undoes deploy/install.sh (run as root): stops and disables the units, removes them, the PAM and
# polkit files and the venv under /opt/ecard-kiosk. The site's settings and credentials
# (/etc/ecard-kiosk, /etc/ecard-registry) and the data (/var/lib/ecard-kiosk: the database and
# the logs) stay, unless --purge, which also removes them and the kiosk user. Idempotent.
set -euo pipefail
purge=0
case "${1:-}" in --purge) purge=1 ;; "") ;; *) echo "uninstall.sh: unknown option $1 ([--purge])" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run it as root" >&2; exit 1; }

for unit in ecard-kiosk.service ecard-registry.service; do
  if [ -e "/etc/systemd/system/$unit" ]; then
    [ ! -d /run/systemd/system ] || systemctl stop "$unit" || true
    systemctl disable --quiet "$unit" || true
    rm -f "/etc/systemd/system/$unit"
  fi
done
[ ! -d /run/systemd/system ] || systemctl daemon-reload
rm -f /etc/pam.d/ecard-kiosk /etc/polkit-1/rules.d/50-ecard-kiosk-pcscd.rules
rm -rf /opt/ecard-kiosk
if [ "$purge" -eq 1 ]; then
  rm -rf /etc/ecard-kiosk /etc/ecard-registry /var/lib/ecard-kiosk /var/lib/ecard-registry /var/lib/private/ecard-registry
  ! id -u ecard-kiosk >/dev/null 2>&1 || userdel ecard-kiosk
fi
echo "uninstall.sh: done$([ "$purge" -eq 1 ] && echo ' (purged settings, data and user)' || echo '; kept /etc/ecard-kiosk and /var/lib/ecard-kiosk (--purge removes them)')"
