#!/usr/bin/env bash
# Integration tests inside a real VS Code (code-server 4.100.3's VS Code server, Node extension
# host) driven by headless chromium — no download outside the npm registry and Debian. Installs
# what is missing (test/vscode/setup.sh), builds the extension and the suite, starts the server
# on a free loopback port with everything it writes under .vscode-test/run/, runs the suite
# (test/vscode/itest.mjs), then the UI end-to-end test (test/vscode/e2e.mjs, SKIP_E2E=1 skips it)
# and stops the server's whole process group.
#
#   npm run test:integration            # or: bash test/vscode/run-code-server.sh
#   HTLC_ITEST_GREP='webview' npm run test:integration   # a subset
#   SKIP_BUILD=1 ...                    # reuse dist/ and out/
set -euo pipefail
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT=${VSCODE_TEST_ROOT:-$PROJECT/.vscode-test}
CS_VERSION=${CS_VERSION:-4.100.3}
CS=$ROOT/code-server-$CS_VERSION/node_modules/code-server
RUN=$ROOT/run                       # short: unix sockets live in $RUN/tmp
cd "$PROJECT"
ms() { date +%s%3N; }
T0=$(ms)

bash "$PROJECT/test/vscode/setup.sh"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "=== build"; node esbuild.mjs >/dev/null; node test/vscode/build-tests.mjs
fi

rm -rf "$RUN"; mkdir -p "$RUN"/{exts,ud/User,sd,workspace,home,tmp}
echo '# HTLC Monitor integration test workspace' > "$RUN/workspace/README.md"
cat > "$RUN/ud/User/settings.json" <<'JSON'
{ "workbench.startupEditor": "none", "security.workspace.trust.enabled": false, "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false, "extensions.autoUpdate": false, "update.mode": "none",
  "workbench.tips.enabled": false, "workbench.enableExperiments": false }
JSON
PORT=${IT_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then echo "port $PORT already in use"; exit 1; fi

# the exec chain keeps $! == the server's pid == its process-group id (setsid), so the trap can
# kill the whole tree: extension hosts outlive a plain kill of the server otherwise
( exec env HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share" \
    XDG_CACHE_HOME="$RUN/home/.cache" VSCODE_AGENT_FOLDER="$RUN/home/.vscode-server" TMPDIR="$RUN/tmp" \
    HTLC_ITEST_GREP="${HTLC_ITEST_GREP:-}" \
    setsid node "$CS/lib/vscode/out/server-main.js" --host 127.0.0.1 --port "$PORT" \
      --without-connection-token --accept-server-license-terms --enable-smoke-test-driver --disable-telemetry \
      --disable-workspace-trust --user-data-dir "$RUN/ud" --server-data-dir "$RUN/sd" --extensions-dir "$RUN/exts" ) \
  > "$RUN/vscode-server.log" 2>&1 < /dev/null &
SERVER_PID=$!
stop_server() { kill -- "-$SERVER_PID" 2>/dev/null || true; }
trap stop_server EXIT
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || { echo "VS Code server did not start:"; tail -30 "$RUN/vscode-server.log"; exit 1; }
echo "=== VS Code server (code-server $CS_VERSION) on 127.0.0.1:$PORT, pid $SERVER_PID"

rc=0
T1=$(ms)
env HOME="$RUN/home" VSCODE_URL="http://127.0.0.1:$PORT" EXT_DEV_PATH="$PROJECT" \
  EXT_TESTS_PATH="$PROJECT/out/test/integration/suite" WORKSPACE="$RUN/workspace" \
  node "$PROJECT/test/vscode/itest.mjs" || rc=$?
echo "=== integration tests: $(( ($(ms) - T1) / 1000 ))s"
if [ "${SKIP_E2E:-0}" != 1 ]; then
  T2=$(ms)
  mkdir -p "$RUN/workspace-ui" && echo '# UI test workspace' > "$RUN/workspace-ui/README.md"
  env HOME="$RUN/home" VSCODE_URL="http://127.0.0.1:$PORT" EXT_DEV_PATH="$PROJECT" WORKSPACE="$RUN/workspace-ui" \
    SHOTS="$ROOT/shots" node "$PROJECT/test/vscode/e2e.mjs" || rc=$?
  echo "=== UI e2e: $(( ($(ms) - T2) / 1000 ))s (screenshots in ${ROOT#$PROJECT/}/shots)"
fi
echo "=== total $(( ($(ms) - T0) / 1000 ))s, exit $rc"
[ $rc = 0 ] || { echo "--- last lines of the server log ($RUN/vscode-server.log):"; tail -40 "$RUN/vscode-server.log"; }
exit $rc
