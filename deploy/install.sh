#!/usr/bin/env bash
# Turns a Debian 12 machine into a child e-card kiosk (run as root; idempotent: run it again to
# update). Packages, the kiosk user, a venv of Debian's own python3 under /opt/ecard-kiosk with
# the project's wheel, the systemd unit (cage + foot on tty1, its seat from seatd), the polkit rule for pcscd,
# the site files under /etc/ecard-kiosk (installed once, then the site's), data under
# /var/lib/ecard-kiosk; the unit is enabled (and restarted with --start).
#
#   deploy/install.sh                       build the wheel from this checkout, install it
#   deploy/install.sh --wheel FILE.whl      install that wheel
#   deploy/install.sh --wheels DIR ...      offline: the dependencies (and pyscard) as wheels in DIR
#   deploy/install.sh --registry            ... and the registry service (ecard-registry.service)
#   deploy/install.sh --no-kiosk --registry only the registry service
#   deploy/install.sh --start               start (or restart) the units now
#
# In a chroot or container without a running systemd, units are enabled but nothing is started.
set -euo pipefail

DEPLOY=$(cd "$(dirname "$0")" && pwd)
CHECKOUT=$(dirname "$DEPLOY")
PYTHON=/usr/bin/python3          # Debian's own: never a toolchain on root's PATH
VENV=/opt/ecard-kiosk
KIOSK_USER=ecard-kiosk
KIOSK_ETC=/etc/ecard-kiosk
KIOSK_DATA=/var/lib/ecard-kiosk
REGISTRY_ETC=/etc/ecard-registry
UNITS=/etc/systemd/system

wheel="" wheels="" kiosk=1 registry=0 start=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wheel) wheel=$2; shift 2 ;;
    --wheels) wheels=$2; shift 2 ;;
    --registry) registry=1; shift ;;
    --no-kiosk) kiosk=0; shift ;;
    --start) start=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run it as root (sudo $0 $*)" >&2; exit 1; }
[ -z "$wheel" ] || [ -f "$wheel" ] || { echo "install.sh: no wheel file $wheel" >&2; exit 1; }
[ -z "$wheels" ] || [ -d "$wheels" ] || { echo "install.sh: no wheel folder $wheels" >&2; exit 1; }
pip_source=()
[ -z "$wheels" ] || pip_source=(--no-index --find-links "$wheels")

say() { echo "install.sh: $*"; }
booted() { [ -d /run/systemd/system ]; }

# --- packages: only what is missing (a rerun installs nothing) --------------------------------
# cage 0.1.4 will not start without xwayland; pyscard builds from source (swig, libpcsclite-dev).
packages=(python3 python3-venv python3-dev gcc swig libpcsclite-dev pcscd libccid polkitd dbus
          systemd-timesyncd ca-certificates)
[ "$kiosk" -eq 0 ] || packages+=(cage foot xwayland fonts-noto-cjk fonts-dejavu-core fonts-noto-color-emoji espeak-ng seatd)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- the wheel --------------------------------------------------------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$wheel" ]; then
  [ -f "$CHECKOUT/pyproject.toml" ] || { echo "install.sh: no --wheel and no checkout at $CHECKOUT" >&2; exit 1; }
  say "building the wheel from $CHECKOUT"
  "$PYTHON" -m venv "$work/build"
  "$work/build/bin/python" -m pip wheel -q "${pip_source[@]}" --no-deps --wheel-dir "$work" "$CHECKOUT" >/dev/null
  wheel=$(ls "$work"/child_ecard_kiosk-*.whl)
fi

# --- the venv: Debian's python3, the wheel with the PC/SC extra --------------------------------
wanted=$(sha256sum "$wheel" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(readlink -f "$VENV/bin/python")" != "$(readlink -f "$PYTHON")" ]; then
  say "creating $VENV with $PYTHON"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$VENV/.installed-wheel" 2>/dev/null)" != "$wanted" ]; then
  say "installing $(basename "$wheel") into $VENV"
  # Same version number, new build: --force-reinstall the wheel itself, then whatever it needs.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${pip_source[@]}" --force-reinstall --no-deps "$wheel" >/dev/null
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${pip_source[@]}" "$wheel[pcsc]" >/dev/null
  echo "$wanted" > "$VENV/.installed-wheel"
fi
install -d -m 0755 "$VENV/share"
[ ! -f "$CHECKOUT/README.md" ] || install -m 0644 "$CHECKOUT/README.md" "$VENV/share/README.md"

# Installs $2 from deploy/$1 with mode $3, only when it is not there yet (a site's file stays the site's).
site_file() { [ -e "$2" ] || { install -m "$3" "$DEPLOY/$1" "$2"; say "installed $2"; }; }
# An empty credential file: the unit's LoadCredential= needs it; empty means "not given".
credential() { [ -e "$1" ] || install -m 0600 /dev/null "$1"; }

enable=()
if [ "$kiosk" -eq 1 ]; then
  # --- the kiosk user: a system user, no shell, its home the data directory -------------------
  if ! id -u "$KIOSK_USER" >/dev/null 2>&1; then
    say "creating user $KIOSK_USER"
    useradd --system --user-group --home-dir "$KIOSK_DATA" --no-create-home --shell /usr/sbin/nologin \
      --comment "child e-card kiosk" "$KIOSK_USER"
  fi
  install -d -m 0750 -o "$KIOSK_USER" -g "$KIOSK_USER" "$KIOSK_DATA"
  install -d -m 0755 "$KIOSK_ETC"
  install -d -m 0700 "$KIOSK_ETC/credentials"
  site_file kiosk.toml "$KIOSK_ETC/kiosk.toml" 0644
  site_file foot.ini "$KIOSK_ETC/foot.ini" 0644
  for name in database_url technicians registry_credential; do credential "$KIOSK_ETC/credentials/$name"; done
  # --- package-owned files: always this version's ---------------------------------------------
  install -m 0644 "$DEPLOY/ecard-kiosk.service" "$UNITS/ecard-kiosk.service"
  rm -f /etc/pam.d/ecard-kiosk  # an earlier release's PAM session (logind took the kiosk out of its unit)
  install -d -m 0755 /etc/polkit-1/rules.d
  install -m 0644 "$DEPLOY/polkit/50-ecard-kiosk-pcscd.rules" /etc/polkit-1/rules.d/50-ecard-kiosk-pcscd.rules
  enable+=(ecard-kiosk.service pcscd.socket seatd.service)
fi
if [ "$registry" -eq 1 ]; then
  install -d -m 0755 "$REGISTRY_ETC"
  install -d -m 0700 "$REGISTRY_ETC/credentials"
  site_file registry.env "$REGISTRY_ETC/registry.env" 0640
  for name in database_url metrics_token; do credential "$REGISTRY_ETC/credentials/$name"; done
  install -m 0644 "$DEPLOY/ecard-registry.service" "$UNITS/ecard-registry.service"
  enable+=(ecard-registry.service)
fi

# --- systemd ------------------------------------------------------------------------------------
booted && systemctl daemon-reload
systemctl enable --quiet "${enable[@]}"
[ "$kiosk" -eq 0 ] || [ "$(systemctl get-default)" = graphical.target ] || systemctl set-default --quiet graphical.target
if [ "$start" -eq 1 ] && booted; then
  say "restarting ${enable[*]}"
  systemctl restart "${enable[@]}"
fi
say "done: $("$VENV/bin/python" -c 'from importlib.metadata import version; print("child-ecard-kiosk", version("child-ecard-kiosk"))') in $VENV"
