#!/usr/bin/env bash
# Fleet sizing benchmark (issue 19), one command: builds, then runs bench/fleet/run.mjs.
# Results: bench/.work/fleet/report.md (markdown) and bench/.work/fleet/*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/node22.sh
npm run build >/dev/null
node bench/fleet/run.mjs "$@"
