#!/usr/bin/env bash
# Scale benchmark, one command: builds the bridge and runs bench/scale/run.mjs.
# About 3 minutes. Results: bench/.work/scale-report.md (markdown) and scale-results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/node22.sh
npm run build >/dev/null
node bench/scale/run.mjs
