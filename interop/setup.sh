#!/usr/bin/env bash
# Installs the real wslink reference peers used by the interop tests.
#
#   interop/.venv2        Python venv with PyPI wslink 2.6.0  (2.x server)
#   interop/.venv1        Python venv with PyPI wslink 1.12.4 (1.x server)
#   interop/node/         npm wslink 2.5.0 (as "wslink2") and 1.12.4 (as "wslink1"),
#                         ws, playwright-core (no browser download)
#   /usr/bin/chromium     Debian chromium, only with --browser (or INTEROP_BROWSER=1)
#   g++, cmake, valgrind, nlohmann-json3-dev   Debian packages for the C and C++ programs
#                         of examples/cpp (tests/interop_cpp.rs)
#   nats-server, redis-server   Debian's brokers, for the cluster tests (never started here:
#                         the tests start their own on free loopback ports)
#
# Idempotent: a second run only checks what is there. Any missing peer is an error.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY_V2="2.6.0"
PY_V1="1.12.4"
WANT_BROWSER="${INTEROP_BROWSER:-0}"

for arg in "$@"; do
  case "$arg" in
    --browser) WANT_BROWSER=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

die() { echo "setup.sh: ERROR: $*" >&2; exit 1; }
trap 'echo "setup.sh: ERROR: command failed at line $LINENO" >&2' ERR

# --- Python venvs --------------------------------------------------------------
# True when the venv's python imports wslink at exactly the wanted version.
venv_ok() { # $1 venv dir, $2 version
  [ -x "$1/bin/python" ] &&
    "$1/bin/python" - "$2" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
import wslink, wslink.server  # must import, not just be listed
sys.exit(0 if version("wslink") == sys.argv[1] else 1)
PY
}

make_venv() { # $1 venv dir, $2 version
  if venv_ok "$1" "$2"; then
    echo "setup.sh: $(basename "$1") has wslink $2"
    return
  fi
  echo "setup.sh: creating $(basename "$1") with wslink==$2"
  command -v python3 >/dev/null || die "python3 not found"
  [ -x "$1/bin/python" ] || python3 -m venv "$1" || die "python3 -m venv $1 failed"
  "$1/bin/python" -m pip install --disable-pip-version-check -q "wslink==$2" ||
    die "pip install wslink==$2 failed"
  venv_ok "$1" "$2" || die "wslink $2 is not importable in $1 after install"
}

make_venv "$HERE/.venv2" "$PY_V2"
make_venv "$HERE/.venv1" "$PY_V1"

# --- Node harness -------------------------------------------------------------
command -v node >/dev/null || die "node not found"
command -v npm >/dev/null || die "npm not found"
node_ok() {
  (cd "$HERE/node" && node -e '
    const want = {wslink1: "1.12.4", wslink2: "2.5.0"};
    for (const [dir, v] of Object.entries(want)) {
      const got = require(dir + "/package.json").version;
      if (got !== v) throw new Error(dir + " is " + got + ", want " + v);
    }
    const ws = require("ws/package.json").version.split(".").map(Number);
    if (ws[0] < 8 || (ws[0] === 8 && ws[1] < 18)) throw new Error("ws too old");
    require.resolve("playwright-core");
  ') >/dev/null 2>&1
}
LOCK="$HERE/node/package-lock.json"
STAMP="$HERE/node/node_modules/.package-lock.json"   # written by npm on every install
if [ -f "$LOCK" ] && [ -f "$STAMP" ] && [ ! "$LOCK" -nt "$STAMP" ] &&
   [ ! "$HERE/node/package.json" -nt "$STAMP" ] && node_ok; then
  echo "setup.sh: node_modules up to date"
else
  echo "setup.sh: installing npm packages"
  # playwright-core never downloads a browser; make sure nothing else tries to.
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [ -f "$LOCK" ]; then
    (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  else
    (cd "$HERE/node" && npm install --no-audit --no-fund --loglevel=error) || die "npm install failed"
  fi
  node_ok || die "node packages missing or at the wrong version after install"
fi

# --- C and C++ toolchain (examples/cpp, tests/interop_cpp.rs) ---------------------
cpp_ok() {
  command -v g++ >/dev/null && command -v gcc >/dev/null && command -v cmake >/dev/null &&
    command -v valgrind >/dev/null && [ -f /usr/include/nlohmann/json.hpp ]
}
if cpp_ok; then
  echo "setup.sh: g++, cmake, valgrind and nlohmann-json present"
else
  echo "setup.sh: installing g++, cmake, valgrind and nlohmann-json3-dev"
  command -v apt-get >/dev/null || die "apt-get not found; install g++ cmake valgrind nlohmann-json3-dev by hand"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q </dev/null || die "apt-get update failed"
  $SUDO apt-get install -y -q --no-install-recommends g++ gcc cmake make valgrind nlohmann-json3-dev </dev/null ||
    die "apt-get install of the C++ toolchain failed"
  cpp_ok || die "g++, cmake, valgrind or nlohmann-json missing after install"
fi
# --- Brokers (cluster tests) ---------------------------------------------------------
apt_install() { # packages...
  command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q </dev/null || die "apt-get update failed"
  $sudo apt-get install -y -q --no-install-recommends "$@" </dev/null ||
    die "apt-get install $* failed"
}
BROKERS=()
[ -x /usr/sbin/nats-server ] || BROKERS+=(nats-server)
[ -x /usr/bin/redis-server ] || BROKERS+=(redis-server)
if [ "${#BROKERS[@]}" -gt 0 ]; then
  echo "setup.sh: installing Debian ${BROKERS[*]}"
  apt_install "${BROKERS[@]}"
fi
[ -x /usr/sbin/nats-server ] || die "/usr/sbin/nats-server missing after install"
[ -x /usr/bin/redis-server ] || die "/usr/bin/redis-server missing after install"
echo "setup.sh: brokers present ($(/usr/sbin/nats-server --version), $(/usr/bin/redis-server --version | cut -d' ' -f1-3))"

# --- Chromium (browser tests only) ----------------------------------------------
if [ "$WANT_BROWSER" = "1" ]; then
  if [ -x /usr/bin/chromium ]; then
    echo "setup.sh: chromium present"
  else
    echo "setup.sh: installing Debian chromium"
    apt_install chromium
    [ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after install"
  fi
fi

echo "setup.sh: OK"
