#!/bin/sh
# Install MediaNest, from this checkout or from a release, and start it.
#
#   ./install.sh              install Bun if missing, build dist/medianest, migrate ./data, start in the foreground
#   ./install.sh --no-start   the same without starting
#   sudo ./install.sh --system
#                             also install /usr/local/bin/medianest, a `medianest` system user, /var/lib/medianest,
#                             /etc/medianest/medianest.env and a systemd unit, and start the service
#   sudo ./install.sh --system --downloads /srv/plex/youtube [--downloads DIR ...]
#                             also let the service write to each DIR (the library folders downloads go to)
#   ./install.sh --system --downloads DIR --print-unit
#                             print the systemd unit it would write, and do nothing else
#   curl -fsSL <release URL>/install.sh | sudo sh [-s -- --no-start --downloads DIR]
#                             without a checkout: download this machine's release binary from MEDIANEST_RELEASE_URL,
#                             verify it against SHA256SUMS, and install it as --system does
#
# From a checkout it needs only Node.js and npm. Safe to re-run: it never deletes or rewrites the data directory,
# the key file, the database or an existing /etc/medianest/medianest.env.
set -eu

# `bun run release` writes the release's own URL here in the copy it publishes.
DEFAULT_RELEASE_URL="https://github.com/medianest/medianest/releases/latest/download"

START=1
SYSTEM=0
PRINT_UNIT=0
DOWNLOADS=""

add_download_dir() {
  dir="${1%/}"
  # The unit lists the folders on one line separated by spaces, so a folder must be an absolute plain path.
  case "$dir" in
    "" | [!/]* | *[[:space:]]* | *[\"\'\\]* | *..*)
      printf "install.sh: --downloads needs an absolute folder without spaces, quotes or .. (got '%s')\n" "$1" >&2
      exit 2
      ;;
  esac
  DOWNLOADS="${DOWNLOADS:+$DOWNLOADS }$dir"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) START=0 ;;
    --system) SYSTEM=1 ;;
    --print-unit) PRINT_UNIT=1 ;;
    --downloads)
      [ $# -ge 2 ] || {
        echo "install.sh: --downloads needs a folder (--downloads /srv/plex/youtube)" >&2
        exit 2
      }
      add_download_dir "$2"
      shift
      ;;
    --downloads=*) add_download_dir "${1#--downloads=}" ;;
    -h | --help)
      echo "Install MediaNest, from a checkout or from a release, and start it."
      echo
      echo "  ./install.sh              install Bun if missing, build dist/medianest, migrate ./data, start in the foreground"
      echo "  ./install.sh --no-start   the same without starting"
      echo "  sudo ./install.sh --system"
      echo "                            also install /usr/local/bin/medianest, a medianest system user, /var/lib/medianest,"
      echo "                            /etc/medianest/medianest.env and a systemd unit, and start the service"
      echo "  sudo ./install.sh --system --downloads /srv/plex/youtube [--downloads DIR ...]"
      echo "                            also let the service write to each DIR (the library folders downloads go to)"
      echo "  ./install.sh --system --downloads DIR --print-unit"
      echo "                            print the systemd unit it would write, and do nothing else"
      echo "  curl -fsSL <release URL>/install.sh | sudo sh [-s -- --no-start --downloads DIR]"
      echo "                            without a checkout: download the release binary (MEDIANEST_RELEASE_URL), verify"
      echo "                            it against SHA256SUMS and install it as --system does"
      exit 0
      ;;
    *)
      echo "install.sh: unknown option $1 (try --help)" >&2
      exit 2
      ;;
  esac
  shift
done

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

# A checkout has package.json and src/main.ts beside this script; `curl … | sh` runs it from no file at all.
FROM_RELEASE=1
case "$0" in
  */install.sh | install.sh)
    here="$(cd "$(dirname "$0")" && pwd)"
    if [ -f "$here/package.json" ] && [ -f "$here/src/main.ts" ]; then
      FROM_RELEASE=0
      cd "$here"
    fi
    ;;
esac

[ "$FROM_RELEASE" = 0 ] || SYSTEM=1
if [ -n "$DOWNLOADS" ] && [ "$SYSTEM" = 0 ]; then
  echo "install.sh: --downloads is for the service's unit; use it with --system" >&2
  exit 2
fi

# Where a system install goes. MEDIANEST_INSTALL_ROOT puts every path under another root and MEDIANEST_USER runs
# the service as another existing user (for packaging and for the test suite).
ROOT="${MEDIANEST_INSTALL_ROOT:-}"
SERVICE_USER="${MEDIANEST_USER:-medianest}"
BIN_PATH=/usr/local/bin/medianest
DATA_PATH=/var/lib/medianest
ENV_PATH=/etc/medianest/medianest.env
BIN="$ROOT$BIN_PATH"
DATA="$ROOT$DATA_PATH"
ENV_FILE="$ROOT$ENV_PATH"
UNIT="$ROOT/etc/systemd/system/medianest.service"

bun_works() { bun --version >/dev/null 2>&1; }

# Install Bun with npm when it is missing, and make sure `bun` runs afterwards.
ensure_bun() {
  if bun_works; then
    say "Bun $(bun --version) is installed ($(command -v bun))"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "Bun is not installed and npm is missing; install Node.js and npm first"
  prefix="$(npm prefix -g)"
  if [ "$(id -u)" != 0 ] && [ ! -w "$prefix/lib/node_modules" ] && [ ! -w "$prefix" ]; then
    # A system-wide npm this user cannot write to: install into ~/.local instead of asking for sudo.
    prefix="$HOME/.local"
    say "installing Bun with npm into $prefix"
    npm install -g --prefix "$prefix" bun
  else
    say "installing Bun with npm (global prefix $prefix)"
    npm install -g bun
  fi
  PATH="$prefix/bin:$PATH"
  export PATH
  hash -r 2>/dev/null || true
  if ! bun_works && [ -f "$prefix/lib/node_modules/bun/install.js" ]; then
    # npm skipped install scripts (npm 11 can), so bin/bun.exe is still a placeholder: run Bun's postinstall.
    say "running Bun's postinstall script, which npm skipped"
    (cd "$prefix/lib/node_modules/bun" && node install.js) || true
  fi
  if ! bun_works; then
    for b in "$prefix"/lib/node_modules/bun/node_modules/@oven/bun-*/bin/bun "$prefix"/lib/node_modules/@oven/bun-*/bin/bun; do
      if [ -x "$b" ] && "$b" --version >/dev/null 2>&1; then
        mkdir -p "$prefix/bin"
        ln -sf "$b" "$prefix/bin/bun"
        break
      fi
    done
    hash -r 2>/dev/null || true
  fi
  bun_works || die "Bun was installed with npm but 'bun --version' does not work; see https://bun.sh/docs/installation"
  say "Bun $(bun --version) installed at $(command -v bun)"
  case ":$ORIGINAL_PATH:" in
    *":$prefix/bin:"*) ;;
    *) say "note: $prefix/bin is not on your PATH; add it to use bun in a new shell" ;;
  esac
}

# Name this machine's release binary: medianest-linux-<x64|arm64>[-musl].
release_target() {
  [ "$(uname -s)" = Linux ] || die "release binaries are built for Linux only, not $(uname -s)"
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no release binary is built for this machine's architecture ($(uname -m)); build from a checkout instead" ;;
  esac
  libc=""
  for f in /lib/ld-musl-*; do
    [ -e "$f" ] && libc=-musl
  done
  echo "linux-$arch$libc"
}

# Fetch a URL to a file with curl or wget; fail on an HTTP error.
download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    die "neither curl nor wget is installed"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# Download this machine's binary and SHA256SUMS into $TMP and check one against the other; print the binary's path.
fetch_release() {
  url="${MEDIANEST_RELEASE_URL:-$DEFAULT_RELEASE_URL}"
  url="${url%/}"
  target="$(release_target)"
  name="medianest-$target"
  say "downloading $name from $url" >&2
  download "$url/SHA256SUMS" "$TMP/SHA256SUMS" || die "could not download $url/SHA256SUMS"
  expected="$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$TMP/SHA256SUMS")"
  [ -n "$expected" ] || die "the release at $url has no $name (this machine is $target); SHA256SUMS lists: $(awk '{ print $2 }' "$TMP/SHA256SUMS" | tr '\n' ' ')"
  download "$url/$name" "$TMP/$name" || die "could not download $url/$name"
  actual="$(sha256_of "$TMP/$name")"
  [ "$actual" = "$expected" ] || die "checksum mismatch for $name: SHA256SUMS says $expected, the download is $actual; nothing was installed"
  chmod 0755 "$TMP/$name"
  "$TMP/$name" version >/dev/null 2>&1 || die "the downloaded $name does not run on this machine; nothing was installed"
  say "verified $name ($("$TMP/$name" version | head -n 1))" >&2
  echo "$TMP/$name"
}

# The systemd unit: ProtectSystem=strict, writable only the data directory and the --downloads folders.
unit_text() {
  cat <<UNIT
# Written by MediaNest's install.sh, which rewrites it on every run; put local changes in a drop-in
# (systemctl edit medianest). The folders downloads go to are writable through ReadWritePaths= below:
# ./install.sh --system --downloads DIR (repeatable) adds them.
[Unit]
Description=MediaNest, the front door of a Plex household
Wants=network-online.target
After=network-online.target postgresql.service redis-server.service

[Service]
Type=simple
User=$SERVICE_USER
Group=$SERVICE_GROUP
EnvironmentFile=$ENV_FILE
WorkingDirectory=$DATA
ExecStart=$BIN serve
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
UMask=0027
StateDirectory=medianest
StateDirectoryMode=0750

# Hardening. Not MemoryDenyWriteExecute: Bun's JavaScript JIT needs writable executable memory.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ReadWritePaths=$DATA${DOWNLOADS:+ $DOWNLOADS}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
UNIT
}

if [ "$PRINT_UNIT" = 1 ]; then
  BIN=$BIN_PATH
  DATA=$DATA_PATH
  ENV_FILE=$ENV_PATH
  SERVICE_GROUP="$SERVICE_USER"
  unit_text
  exit 0
fi

ORIGINAL_PATH="$PATH"

if [ "$FROM_RELEASE" = 1 ]; then
  [ "$(id -u)" = 0 ] || die "installing from a release installs a service and needs root: curl -fsSL <release URL>/install.sh | sudo sh"
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  # Everything is downloaded and verified before anything is installed.
  SOURCE_BIN="$(fetch_release)"
else
  if [ "$SYSTEM" = 1 ] && [ "$(id -u)" != 0 ]; then
    die "--system installs a service and needs root: sudo ./install.sh --system"
  fi
  ensure_bun
  say "installing dependencies"
  bun install --frozen-lockfile
  say "building dist/medianest"
  bun run build
  ./dist/medianest version >/dev/null || die "the built binary does not run: ./dist/medianest version failed"
  SOURCE_BIN=dist/medianest
fi

PORT="${MEDIANEST_PORT:-8080}"

if [ "$SYSTEM" = 0 ]; then
  MEDIANEST_DATA_DIR="${MEDIANEST_DATA_DIR:-./data}"
  export MEDIANEST_DATA_DIR
  if [ ! -d "$MEDIANEST_DATA_DIR" ]; then
    say "creating the data directory $MEDIANEST_DATA_DIR"
    (umask 077 && mkdir -p "$MEDIANEST_DATA_DIR")
  fi
  say "migrating the database in $MEDIANEST_DATA_DIR"
  ./dist/medianest migrate
  if [ "$START" = 0 ]; then
    say "installed; start it with: MEDIANEST_DATA_DIR=$MEDIANEST_DATA_DIR ./dist/medianest serve"
    exit 0
  fi
  say "MediaNest is starting at http://localhost:$PORT (Ctrl-C stops it)"
  exec ./dist/medianest serve
fi

# --system: a service run by its own user from /usr/local/bin, data in /var/lib/medianest.
say "installing $BIN"
mkdir -p "$(dirname "$BIN")"
# Copy then rename, so a running service keeps its old binary intact until it restarts.
install -m 0755 "$SOURCE_BIN" "$BIN.new"
mv -f "$BIN.new" "$BIN"

if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  say "creating the system user $SERVICE_USER"
  nologin="$(command -v nologin || echo /usr/sbin/nologin)"
  if command -v useradd >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$DATA_PATH" --no-create-home --shell "$nologin" "$SERVICE_USER"
  else
    addgroup -S "$SERVICE_USER" && adduser -S -D -H -h "$DATA_PATH" -s "$nologin" -G "$SERVICE_USER" "$SERVICE_USER"
  fi
fi
SERVICE_GROUP="$(id -gn "$SERVICE_USER")"

if [ ! -d "$DATA" ]; then
  say "creating $DATA"
  install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_GROUP" "$DATA"
fi

if [ ! -e "$ENV_FILE" ]; then
  say "writing $ENV_FILE"
  install -d -m 0755 "$(dirname "$ENV_FILE")"
  (
    umask 027
    cat >"$ENV_FILE" <<ENV
# MediaNest settings, read by medianest.service. install.sh writes this file once and never overwrites it.
# Every variable is listed in the README's configuration table; after a change: systemctl restart medianest
MEDIANEST_DATA_DIR=$DATA
MEDIANEST_PORT=$PORT
MEDIANEST_HOST=0.0.0.0
# MEDIANEST_PUBLIC_URL=https://medianest.example.com
# MEDIANEST_TRUST_PROXY=true
# The key that encrypts stored secrets; without it MediaNest keeps a generated key file in the data directory.
# MEDIANEST_SECRET_KEY_FILE=/etc/medianest/secret.key
# PostgreSQL instead of SQLite:
# DATABASE_URL=postgres://medianest:password@127.0.0.1:5432/medianest
ENV
  )
  chgrp "$SERVICE_GROUP" "$ENV_FILE"
else
  say "keeping the existing $ENV_FILE"
fi

# Run one shell command line as the service user.
run_as_service_user() {
  if command -v runuser >/dev/null 2>&1; then
    runuser -u "$SERVICE_USER" -- /bin/sh -c "$1"
  else
    su -s /bin/sh "$SERVICE_USER" -c "$1"
  fi
}

if [ -z "$DOWNLOADS" ] && [ -f "$UNIT" ]; then
  # A re-run without --downloads keeps the folders an earlier run made writable.
  for dir in $(sed -n 's/^ReadWritePaths=//p' "$UNIT"); do
    [ "$dir" = "$DATA" ] || DOWNLOADS="${DOWNLOADS:+$DOWNLOADS }$dir"
  done
  [ -z "$DOWNLOADS" ] || say "keeping the download folders of the existing unit: $DOWNLOADS"
fi
for dir in $DOWNLOADS; do
  # systemd refuses to start a unit whose ReadWritePaths= names a missing folder.
  [ -d "$dir" ] || die "the download folder $dir does not exist; create it (writable by the $SERVICE_USER user) and run again"
  if ! run_as_service_user "test -w '$dir'" 2>/dev/null; then
    say "note: the $SERVICE_USER user cannot write to $dir yet; for example: chgrp $SERVICE_GROUP $dir && chmod g+rwx $dir"
  fi
done

say "writing $UNIT"
mkdir -p "$(dirname "$UNIT")"
unit_text >"$UNIT"

# Migrate now, as the service user, so a bad setting shows up here rather than in the journal.
say "migrating the database (settings from $ENV_FILE)"
if ! (cd "$DATA" && run_as_service_user "set -a; . '$ENV_FILE'; set +a; exec '$BIN' migrate"); then
  die "migration failed; fix $ENV_FILE and run install.sh again"
fi

# The port the service listens on, as the env file (which may predate this run) says.
PORT="$(sed -n 's/^MEDIANEST_PORT=//p' "$ENV_FILE" | tail -n 1)"
PORT="${PORT:-8080}"
START_CMD="runuser -u $SERVICE_USER -- /bin/sh -c 'set -a; . $ENV_FILE; set +a; cd $DATA && exec $BIN serve'"
if [ -d /run/systemd/system ] && [ -z "$ROOT" ]; then
  systemctl daemon-reload
  if [ "$START" = 1 ]; then
    if systemctl is-active --quiet medianest; then
      say "restarting medianest.service with the new binary"
      systemctl enable medianest
      systemctl restart medianest
    else
      systemctl enable --now medianest
    fi
    say "MediaNest is running at http://localhost:$PORT (systemctl status medianest; journalctl -u medianest)"
  else
    say "installed; start it with: systemctl enable --now medianest"
  fi
else
  say "systemd is not running here, so the service was not started; start MediaNest with:"
  echo "    $START_CMD"
  say "it will answer at http://localhost:$PORT"
fi
say "upgrade later with: sudo medianest upgrade"
