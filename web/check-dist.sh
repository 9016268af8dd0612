#!/usr/bin/env bash
# Fails when web/dist, the built app that go:embed puts in the binary, is
# not what the sources build to now. Run 'npm run build --prefix web' and
# commit web/dist to fix it. The build is deterministic: the same sources
# and lockfile give the same bytes.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
TREK_WEB_OUT="$out/dist" npx --no-install tsc --noEmit
TREK_WEB_OUT="$out/dist" npx --no-install vite build --logLevel warn
if ! diff -r "$out/dist" dist; then
  echo "web/dist is stale: run 'npm run build --prefix web' and commit web/dist" >&2
  exit 1
fi
echo "web/dist matches the sources"
