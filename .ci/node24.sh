# Sourced by .ci/run: puts Node 24 first on PATH (from the npm registry, like node22.sh does for
# 22), for the second run of the suite.
source "$(dirname "${BASH_SOURCE[0]}")/nodeFromNpm.sh"
use_node_from_npm 24
