// `npm start`: builds the VSIX and opens the real extension in VS Code on the built-in simulator.
//
// - `code` on the PATH: installs the VSIX into your VS Code (`code --install-extension`), opens a
//   new window and tells you to run "HTLC: Start Demo Node".
// - otherwise (or HTLC_START=code-server): installs code-server 4.100.3 from npm into
//   .vscode-test/ (scripts/setup-code-server.sh: Debian's chromium/ripgrep + a native rebuild, a
//   few minutes the first time), installs the VSIX into a fresh profile, runs the simulator
//   (`htlc-monitor sim`, with 6 hours of history) as the node that profile is configured for, and
//   serves VS Code on http://127.0.0.1:8080 (or a free port). Ctrl-C stops everything.
//
// env: HTLC_START=code|code-server, PORT (default 8080 when free), SIM_RATE (events/s, default 40)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  PROJECT, ROOT, QUIET_SETTINGS, freePort, installVsix, makeRunDir, nodeSettings, packageVsix, setupCodeServer,
  startCodeServer, startSim, writeMachineSettings, writeUserSettings,
} from './code-server.mjs';

const t0 = Date.now();
const elapsed = () => `${Math.round((Date.now() - t0) / 1000)} s`;
const say = (m) => console.log(`\x1b[1mhtlc-monitor:\x1b[0m ${m}`);

function hasCode() {
  const r = spawnSync('code', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 && /^\d+\.\d+/.test(r.stdout);
}

say('building the extension (npm run package)…');
const vsix = packageVsix({ stdio: ['ignore', 'ignore', 'inherit'] });
say(`built ${path.relative(PROJECT, vsix)} (${elapsed()})`);

const mode = process.env.HTLC_START || (hasCode() ? 'code' : 'code-server');
if (mode === 'code') {
  const inst = spawnSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
  if (inst.status !== 0) process.exit(inst.status ?? 1);
  spawnSync('code', ['--new-window'], { stdio: 'inherit' });
  say('installed in VS Code and opened a new window. There, click the ⚡ HTLC Monitor icon in the');
  say('activity bar and press "Start Demo Node" (or run "HTLC: Start Demo Node" from the palette).');
  say('To connect to your own node instead: "HTLC: Connect to LND…". Uninstall: code --uninstall-extension htlc-monitor.htlc-monitor');
  process.exit(0);
}
if (mode !== 'code-server') throw new Error(`HTLC_START must be "code" or "code-server", not "${mode}"`);

say('setting up code-server (cached in .vscode-test/; the first time takes a few minutes)…');
setupCodeServer();
const d = makeRunDir(path.join(ROOT, 'start'), { workspaceName: 'routing-node' });
installVsix(d, vsix);
writeUserSettings(d, { ...QUIET_SETTINGS, 'workbench.colorTheme': 'Default Dark Modern' });

let sim;
let server;
let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  await Promise.allSettled([server?.stop(), sim?.stop()]);
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  sim = await startSim({ port: 0, rate: Number(process.env.SIM_RATE || 40), seed: 21, credentials: d.creds, backfill: 360, log: path.join(d.dir, 'sim.log') });
  writeMachineSettings(d, { ...nodeSettings(sim), 'htlcMonitor.autoStart': true });
  const port = await freePort(Number(process.env.PORT || 8080));
  server = await startCodeServer(d, { port });
  sim.child.once('exit', () => !stopping && (say('the simulator exited'), void stopAll(1)));
  server.child.once('exit', () => !stopping && (say(`code-server exited; see ${server.log}`), void stopAll(1)));
  console.log(`
  VS Code with the HTLC Monitor extension (installed from ${path.basename(vsix)}) is ready after ${elapsed()}:

      \x1b[1m${server.url}/?folder=${encodeURIComponent(d.workspace)}\x1b[0m

  Open it in a browser and click the ⚡ HTLC Monitor icon in the activity bar: it connects to the
  simulated LND node at ${sim.address} (started with 6 hours of history; its credentials are in
  ${path.relative(PROJECT, d.creds)}/). Then run "HTLC: Show Top Opportunities" (F1).
  From another machine: ssh -L ${port}:127.0.0.1:${port} <this host>.  Ctrl-C stops everything.
`);
} catch (e) {
  console.error(`htlc-monitor: ${e?.message ?? e}`);
  await stopAll(1);
}
