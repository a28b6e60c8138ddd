#!/usr/bin/env bash
# Installs the remote view page's npm packages from the committed lockfile (when the
# lockfile is newer than the install) and bundles the page into dist/ with esbuild.
# Used by scripts/run-remote-view.sh, scripts/test.sh and the interop test's setup.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
stamp=node_modules/.package-lock.json   # npm rewrites it on every install
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
test -s dist/remote_view.js
