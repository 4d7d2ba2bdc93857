#!/bin/sh
# Run the test suite on a machine that has only Node.js and npm: install Bun (npm package `bun`) and the
# dependencies when they are missing, then hand over to `bun test` with any arguments given.
# `npm test` runs this; `bun test` works directly once Bun and node_modules are there.
set -eu
cd "$(dirname "$0")/.."

bun_works() { bun --version >/dev/null 2>&1; }

if ! bun_works; then
  command -v npm >/dev/null 2>&1 || { echo "test/run.sh: neither bun nor npm is installed; install Node.js and npm first" >&2; exit 1; }
  prefix=$(npm prefix -g 2>/dev/null)
  if [ "$(id -u)" != 0 ] && [ ! -w "$prefix/lib/node_modules" ] && [ ! -w "$prefix" ]; then
    # A system-wide npm that this user cannot write to: install into ~/.local instead.
    prefix="$HOME/.local"
    npm install -g --prefix "$prefix" bun >&2
  else
    npm install -g bun >&2
  fi
  PATH="$prefix/bin:$PATH"
  export PATH
  if ! bun_works && [ -f "$prefix/lib/node_modules/bun/install.js" ]; then
    # npm ran without install scripts: bin/bun.exe is still the placeholder; run Bun's postinstall ourselves.
    (cd "$prefix/lib/node_modules/bun" && node install.js) >&2 || true
  fi
  if ! bun_works; then
    for b in "$prefix"/lib/node_modules/bun/node_modules/@oven/bun-*/bin/bun "$prefix"/lib/node_modules/@oven/bun-*/bin/bun; do
      if [ -x "$b" ] && "$b" --version >/dev/null 2>&1; then
        mkdir -p "$prefix/bin" && ln -sf "$b" "$prefix/bin/bun"
        break
      fi
    done
  fi
  bun_works || { echo "test/run.sh: Bun was installed with npm but 'bun --version' still fails" >&2; exit 1; }
  echo "test/run.sh: using Bun $(bun --version) from $(command -v bun)" >&2
fi

if [ ! -d node_modules ]; then
  bun install --frozen-lockfile >&2
fi

# Suites that build the binary, start servers, databases and browsers need more than the 5 s default.
exec bun test --timeout 60000 "$@"
