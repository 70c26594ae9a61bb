#!/usr/bin/env bash
# Installs a real VS Code for `npm start` and the tests, from the npm registry and Debian only (no
# download from GitHub or update.code.visualstudio.com): code-server 4.100.3 (VS Code 1.100.3, the
# engines.vscode floor) run by the system Node 20, Debian's chromium (the workbench runs in a
# headless browser driven by playwright-core) and ripgrep. Everything lands in
# <project>/.vscode-test/ (gitignored); a rerun with everything present takes a second.
#
#   bash scripts/setup-code-server.sh  # idempotent (test/vscode/setup.sh runs this)
#   CS_VERSION=4.100.3 (default)       # a code-server whose VS Code matches engines.vscode
set -euo pipefail
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT=${VSCODE_TEST_ROOT:-$PROJECT/.vscode-test}
CS_VERSION=${CS_VERSION:-4.100.3}
CSROOT=$ROOT/code-server-$CS_VERSION
CS=$CSROOT/node_modules/code-server
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_yes=true            # node-pty's postinstall runs `npx node-gyp ...`
# node-gyp builds code-server's native modules against the running node's headers: Debian's
# nodejs puts them in /usr/include/node, a tarball install in <prefix>/include/node; with neither,
# node-gyp downloads them from nodejs.org
NODE_PREFIX=$(cd "$(dirname "$(readlink -f "$(command -v node)")")/.." && pwd)
for d in /usr "$NODE_PREFIX"; do [ -f "$d/include/node/node.h" ] && { export npm_config_nodedir=$d; break; }; done
export npm_config_cache=${npm_config_cache:-$ROOT/npm-cache}

ms() { date +%s%3N; }
step() { local name=$1 s; s=$(ms); shift; echo "=== $name"; "$@"; echo "=== $name: $(( ($(ms) - s) / 1000 ))s"; }

apt_deps() {
  local need=() p
  for p in chromium ripgrep libkrb5-dev build-essential python3 curl; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  if ((${#need[@]})); then
    if [ "$(id -u)" != 0 ]; then echo "missing Debian packages (install them as root): ${need[*]}"; return 1; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
}

check_node() {
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  echo "node $(node -v) at $(command -v node)"
  [ "$major" = 20 ] || echo "warning: code-server $CS_VERSION expects Node 20 (found $(node -v))"
  echo "node headers: ${npm_config_nodedir:-none found locally (node-gyp will download them)}"
}

install_code_server() {
  [ -f "$CS/lib/vscode/out/server-main.js" ] && [ -e "$CS/lib/vscode/extensions/node_modules" ] && [ -f "$CSROOT/.complete" ] && { echo "code-server $CS_VERSION present"; return 0; }
  rm -rf "$CSROOT"; mkdir -p "$CSROOT"; echo '{"private":true}' > "$CSROOT/package.json"
  (cd "$CSROOT" && npm install --ignore-scripts "code-server@$CS_VERSION")
  (cd "$CSROOT" && npm_config_build_from_source=true npm rebuild argon2)   # no GitHub prebuild download
  (
    cd "$CS/lib/vscode"
    npm install --omit=dev --ignore-scripts
    mkdir -p node_modules/@vscode/ripgrep/bin                      # ripgrep's postinstall skips its
    ln -sfn "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg  #   GitHub download when bin/ exists
    npm rebuild                                                     # native modules (kerberos, node-pty, spdlog, ...)
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    cd extensions && npm install --omit=dev
  )
  touch "$CSROOT/.complete"
}

T0=$(ms)
step "apt packages" apt_deps
step "node" check_node
step "code-server $CS_VERSION" install_code_server
echo "setup done in $(( ($(ms) - T0) / 1000 ))s: $CS"
