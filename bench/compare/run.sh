#!/usr/bin/env bash
# Side-by-side benchmark, one command: builds the bridge, installs Node-RED into its own folder
# (bench/.work/node-red, gitignored, not a project dependency), runs bench/compare/run.mjs.
# About 3 minutes. Results: bench/.work/compare-report.md (markdown) and compare-results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/node22.sh
npm run build >/dev/null
if [ ! -f bench/.work/node-red/node_modules/node-red/red.js ]; then
  mkdir -p bench/.work/node-red
  npm install --prefix bench/.work/node-red --no-audit --no-fund --no-save node-red >/dev/null
fi
node bench/compare/run.mjs
