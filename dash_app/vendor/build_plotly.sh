#!/bin/sh
# Builds plotly-<version>.min.js: plotly.js's core (scatter) with the only other traces the
# pages draw, bar and heatmap. A first page load spends most of its time evaluating scripts:
# this bundle evaluates in 0.16-0.29 s where the cartesian one took 0.77 s (docs/dashboard.md).
# Build it from the plotly.js version plotly.py ships (the banner of
# plotly/package_data/plotly.min.js), with npm and esbuild:
#     sh dash_app/vendor/build_plotly.sh 4.1.1
set -eu
version=${1:?usage: build_plotly.sh PLOTLY_JS_VERSION}
out=$(cd "$(dirname "$0")" && pwd)/plotly-$version.min.js
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --ignore-scripts --no-audit --no-fund "plotly.js@$version" esbuild@0.28 >/dev/null
cat >entry.js <<'JS'
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap')]);
module.exports = Plotly;
JS
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly \
    --define:global=window --log-level=warning --outfile=bundle.js \
    --banner:js="/* plotly.js v$version (MIT license, Copyright 2012-2026 Plotly, Inc.): core, bar, heatmap */"
cp bundle.js "$out"
rm -f "$out.css"
echo "wrote $out"
