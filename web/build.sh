#!/bin/sh
# Rebuilds the web pages' vendored JavaScript from web/package-lock.json: installs the exact
# locked versions (npm ci, from the npm registry), bundles Niivue with esbuild into one
# minified ES module and writes the licences of everything inside it. The output is committed
# into the Python package, so that pip users need neither npm nor a network.
set -eu
cd "$(dirname "$0")"
OUT=../src/opensirt/api/static/vendor/niivue
npm ci --no-audit --no-fund
mkdir -p "$OUT"
node_modules/.bin/esbuild src/niivue-entry.js \
    --bundle --format=esm --minify --target=es2020 --platform=browser \
    --legal-comments=none --charset=utf8 \
    --metafile=node_modules/.niivue-meta.json \
    --outfile="$OUT/niivue.js"
node licenses.mjs node_modules/.niivue-meta.json "$OUT/LICENSE"
