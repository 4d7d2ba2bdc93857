#!/usr/bin/env bash
# Install MediaNest from this checkout and start it on SQLite.
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
#
# Needs only Node.js and npm. Safe to re-run: it never deletes or rewrites the data directory, the key file,
# the database or an existing /etc/medianest/medianest.env.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

START=1
SYSTEM=0
PRINT_UNIT=0
DOWNLOADS=()

add_download_dir() {
  local dir="${1%/}"
  # The unit lists the folders on one line separated by spaces, so a folder must be an absolute plain path.
  if [[ -z "$dir" || "$dir" != /* || "$dir" =~ [[:space:]\"\'\\] || "$dir" == *..* ]]; then
    echo "install.sh: --downloads needs an absolute folder without spaces, quotes or .. (got '$1')" >&2
    exit 2
  fi
  DOWNLOADS+=("$dir")
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-start) START=0 ;;
    --system) SYSTEM=1 ;;
    --print-unit) PRINT_UNIT=1 ;;
    --downloads)
      [[ $# -ge 2 ]] || {
        echo "install.sh: --downloads needs a folder (--downloads /srv/plex/youtube)" >&2
        exit 2
      }
      add_download_dir "$2"
      shift
      ;;
    --downloads=*) add_download_dir "${1#--downloads=}" ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install.sh: unknown option $1 (try --help)" >&2
      exit 2
      ;;
  esac
  shift
done

if [[ "${#DOWNLOADS[@]}" -gt 0 && "$SYSTEM" == 0 ]]; then
  echo "install.sh: --downloads is for the service's unit; use it with --system" >&2
  exit 2
fi

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

bun_works() { bun --version >/dev/null 2>&1; }

# Install Bun with npm when it is missing, and make sure `bun` runs afterwards.
ensure_bun() {
  if bun_works; then
    say "Bun $(bun --version) is installed ($(command -v bun))"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "Bun is not installed and npm is missing; install Node.js and npm first"
  local prefix
  prefix="$(npm prefix -g)"
  if [[ "$(id -u)" != 0 && ! -w "$prefix/lib/node_modules" && ! -w "$prefix" ]]; then
    # A system-wide npm this user cannot write to: install into ~/.local instead of asking for sudo.
    prefix="$HOME/.local"
    say "installing Bun with npm into $prefix"
    npm install -g --prefix "$prefix" bun
  else
    say "installing Bun with npm (global prefix $prefix)"
    npm install -g bun
  fi
  export PATH="$prefix/bin:$PATH"
  hash -r
  if ! bun_works && [[ -f "$prefix/lib/node_modules/bun/install.js" ]]; then
    # npm skipped install scripts (npm 11 can), so bin/bun.exe is still a placeholder: run Bun's postinstall.
    say "running Bun's postinstall script, which npm skipped"
    (cd "$prefix/lib/node_modules/bun" && node install.js) || true
  fi
  if ! bun_works; then
    local b
    for b in "$prefix"/lib/node_modules/bun/node_modules/@oven/bun-*/bin/bun "$prefix"/lib/node_modules/@oven/bun-*/bin/bun; do
      if [[ -x "$b" ]] && "$b" --version >/dev/null 2>&1; then
        mkdir -p "$prefix/bin"
        ln -sf "$b" "$prefix/bin/bun"
        break
      fi
    done
    hash -r
  fi
  bun_works || die "Bun was installed with npm but 'bun --version' does not work; see https://bun.sh/docs/installation"
  say "Bun $(bun --version) installed at $(command -v bun)"
  case ":$ORIGINAL_PATH:" in
    *":$prefix/bin:"*) ;;
    *) say "note: $prefix/bin is not on your PATH; add it to use bun in a new shell" ;;
  esac
}

# The systemd unit: ProtectSystem=strict, writable only the data directory and the --downloads folders.
unit_text() {
  cat <<EOF
# Written by MediaNest's install.sh, which rewrites it on every run; put local changes in a drop-in
# (systemctl edit medianest). The folders downloads go to are writable through ReadWritePaths= below:
# ./install.sh --system --downloads DIR (repeatable) adds them.
[Unit]
Description=MediaNest, the front door of a Plex household
Wants=network-online.target
After=network-online.target postgresql.service redis-server.service

[Service]
Type=simple
User=medianest
Group=medianest
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
ReadWritePaths=$DATA${DOWNLOADS[*]:+ ${DOWNLOADS[*]}}
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
EOF
}

if [[ "$PRINT_UNIT" == 1 ]]; then
  BIN=/usr/local/bin/medianest
  DATA=/var/lib/medianest
  ENV_FILE=/etc/medianest/medianest.env
  unit_text
  exit 0
fi

ORIGINAL_PATH="$PATH"

if [[ "$SYSTEM" == 1 && "$(id -u)" != 0 ]]; then
  die "--system installs a service and needs root: sudo ./install.sh --system"
fi

ensure_bun
say "installing dependencies"
bun install --frozen-lockfile
say "building dist/medianest"
bun run build
./dist/medianest version >/dev/null || die "the built binary does not run: ./dist/medianest version failed"

PORT="${MEDIANEST_PORT:-8080}"

if [[ "$SYSTEM" == 0 ]]; then
  export MEDIANEST_DATA_DIR="${MEDIANEST_DATA_DIR:-./data}"
  if [[ ! -d "$MEDIANEST_DATA_DIR" ]]; then
    say "creating the data directory $MEDIANEST_DATA_DIR"
    (umask 077 && mkdir -p "$MEDIANEST_DATA_DIR")
  fi
  say "migrating the database in $MEDIANEST_DATA_DIR"
  ./dist/medianest migrate
  if [[ "$START" == 0 ]]; then
    say "installed; start it with: MEDIANEST_DATA_DIR=$MEDIANEST_DATA_DIR ./dist/medianest serve"
    exit 0
  fi
  say "MediaNest is starting at http://localhost:$PORT (Ctrl-C stops it)"
  exec ./dist/medianest serve
fi

# --system: a service run by its own user from /usr/local/bin, data in /var/lib/medianest.
BIN=/usr/local/bin/medianest
DATA=/var/lib/medianest
ENV_FILE=/etc/medianest/medianest.env
UNIT=/etc/systemd/system/medianest.service

say "installing $BIN"
# Copy then rename, so a running service keeps its old binary intact until it restarts.
install -m 0755 dist/medianest "$BIN.new"
mv -f "$BIN.new" "$BIN"

if ! id -u medianest >/dev/null 2>&1; then
  say "creating the system user medianest"
  nologin="$(command -v nologin || echo /usr/sbin/nologin)"
  if command -v useradd >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$DATA" --no-create-home --shell "$nologin" medianest
  else
    addgroup -S medianest && adduser -S -D -H -h "$DATA" -s "$nologin" -G medianest medianest
  fi
fi

if [[ ! -d "$DATA" ]]; then
  say "creating $DATA"
  install -d -m 0750 -o medianest -g medianest "$DATA"
fi

if [[ ! -e "$ENV_FILE" ]]; then
  say "writing $ENV_FILE"
  install -d -m 0755 /etc/medianest
  (
    umask 027
    cat >"$ENV_FILE" <<EOF
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
EOF
  )
  chgrp medianest "$ENV_FILE"
else
  say "keeping the existing $ENV_FILE"
fi

run_as_medianest() {
  if command -v runuser >/dev/null 2>&1; then
    runuser -u medianest -- "$@"
  else
    su -s /bin/sh medianest -c "$(printf '%q ' "$@")"
  fi
}

if [[ "${#DOWNLOADS[@]}" -eq 0 && -f "$UNIT" ]]; then
  # A re-run without --downloads keeps the folders an earlier run made writable.
  for dir in $(sed -n 's/^ReadWritePaths=//p' "$UNIT"); do
    [[ "$dir" == "$DATA" ]] || DOWNLOADS+=("$dir")
  done
  [[ "${#DOWNLOADS[@]}" -eq 0 ]] || say "keeping the download folders of the existing unit: ${DOWNLOADS[*]}"
fi
for dir in "${DOWNLOADS[@]}"; do
  # systemd refuses to start a unit whose ReadWritePaths= names a missing folder.
  [[ -d "$dir" ]] || die "the download folder $dir does not exist; create it (writable by the medianest user) and run again"
  if ! run_as_medianest test -w "$dir" 2>/dev/null; then
    say "note: the medianest user cannot write to $dir yet; for example: chgrp medianest $dir && chmod g+rwx $dir"
  fi
done

say "writing $UNIT"
unit_text >"$UNIT"

# Migrate now, as the service user, so a bad setting shows up here rather than in the journal.
say "migrating the database (settings from $ENV_FILE)"
if ! (cd "$DATA" && run_as_medianest /bin/sh -c "set -a; . '$ENV_FILE'; set +a; exec '$BIN' migrate"); then
  die "migration failed; fix $ENV_FILE and run ./install.sh --system again"
fi

# The port the service listens on, as the env file (which may predate this run) says.
PORT="$(sed -n 's/^MEDIANEST_PORT=//p' "$ENV_FILE" | tail -n 1)"
PORT="${PORT:-8080}"
START_CMD="runuser -u medianest -- /bin/sh -c 'set -a; . $ENV_FILE; set +a; cd $DATA && exec $BIN serve'"
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  if [[ "$START" == 1 ]]; then
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
