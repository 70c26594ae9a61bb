// Shared by `npm start` (scripts/start.mjs) and the UI tests (test/e2e/run.mjs): install
// code-server (scripts/setup-code-server.sh), package the VSIX, install it into a fresh
// extensions dir, run the simulator (`htlc-monitor sim`) as its own process, and run code-server
// on 127.0.0.1. Every child is started in its own process group (detached) and stopped by
// killing that group: extension hosts outlive a plain kill of the server otherwise.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

export const PROJECT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const ROOT = process.env.VSCODE_TEST_ROOT ? path.resolve(process.env.VSCODE_TEST_ROOT) : path.join(PROJECT, '.vscode-test');
export const CS_VERSION = process.env.CS_VERSION || '4.100.3';
export const CS = path.join(ROOT, `code-server-${CS_VERSION}`, 'node_modules', 'code-server');
const PKG = JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8'));
export const VSIX = path.join(PROJECT, `${PKG.name}-${PKG.version}.vsix`);
export const EXTENSION_ID = `${PKG.publisher}.${PKG.name}`;

/** Runs a command inheriting stdio; throws on a non-zero exit. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: PROJECT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** code-server + chromium + ripgrep, cached under ROOT (a second when present). */
export function setupCodeServer(opts = {}) {
  run('bash', [path.join(PROJECT, 'scripts/setup-code-server.sh')], { env: { ...process.env, VSCODE_TEST_ROOT: ROOT }, ...opts });
}

/** `npm run package`: production bundle + VSIX. */
export function packageVsix(opts = {}) {
  run('npm', ['run', '--silent', 'package'], opts);
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} was not produced`);
  return VSIX;
}

export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

export async function freePort(preferred) {
  if (preferred && (await isPortFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A run folder: user data (settings), extensions, home, tmp and a workspace. Short paths: sockets live here. */
export function makeRunDir(dir, { workspaceName = 'routing-node', clean = true } = {}) {
  if (clean) fs.rmSync(dir, { recursive: true, force: true });
  const d = {
    dir,
    ud: path.join(dir, 'ud'),
    exts: path.join(dir, 'exts'),
    home: path.join(dir, 'home'),
    tmp: path.join(dir, 'tmp'),
    workspace: path.join(dir, workspaceName),
    creds: path.join(dir, 'node-credentials'),
  };
  for (const p of [path.join(d.ud, 'User'), d.exts, d.home, d.tmp, d.workspace]) fs.mkdirSync(p, { recursive: true });
  return d;
}

function serverEnv(d) {
  return {
    ...process.env,
    HOME: d.home,
    XDG_CONFIG_HOME: path.join(d.home, '.config'),
    XDG_DATA_HOME: path.join(d.home, '.local/share'),
    XDG_CACHE_HOME: path.join(d.home, '.cache'),
    TMPDIR: d.tmp,
  };
}

/** code-server's own `--install-extension <vsix>` into the run's extensions dir. */
export function installVsix(d, vsix = VSIX) {
  const r = spawnSync(process.execPath, [path.join(CS, 'out/node/entry.js'), '--user-data-dir', d.ud, '--extensions-dir', d.exts, '--install-extension', vsix], {
    env: serverEnv(d),
    encoding: 'utf8',
  });
  if (r.status !== 0 || !/successfully installed/.test(r.stdout)) throw new Error(`installing ${vsix} failed:\n${r.stdout}\n${r.stderr}`);
  const installed = fs.readdirSync(d.exts).filter((f) => f.startsWith(`${EXTENSION_ID}-`));
  if (installed.length !== 1) throw new Error(`expected one ${EXTENSION_ID} in ${d.exts}, found ${installed.join(', ') || 'none'}`);
  return path.join(d.exts, installed[0]);
}

/** Settings that make a fresh profile look like a product: no tips, prompts, recommendations or chat. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
  'chat.commandCenter.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.openRepositoryInParentFolders': 'never',
  'git.enabled': false,
  'remote.autoForwardPorts': false,
  'window.commandCenter': true,
};

export function writeUserSettings(d, settings) {
  fs.writeFileSync(path.join(d.ud, 'User', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
}

export function readUserSettings(d) {
  try {
    return JSON.parse(fs.readFileSync(path.join(d.ud, 'User', 'settings.json'), 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Settings of scope "machine" (htlcMonitor.lnd.*) count only in the server's machine settings when
 * VS Code runs remotely, as in code-server: <user-data-dir>/Machine/settings.json.
 */
export function writeMachineSettings(d, settings) {
  const file = path.join(d.ud, 'Machine', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let current = {};
  try {
    current = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* none yet */
  }
  fs.writeFileSync(file, JSON.stringify({ ...current, ...settings }, null, 2) + '\n');
}

/** The extension's settings for a node started by startSim(). */
export function nodeSettings(sim) {
  return {
    'htlcMonitor.lnd.server': sim.address,
    'htlcMonitor.lnd.tlsCertPath': sim.certPath,
    'htlcMonitor.lnd.macaroonPath': sim.macaroonPath,
  };
}

function killGroup(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

/**
 * `node dist/cli.js sim …` in its own process group; resolves with its ready line
 * {address, certPath, macaroonPath} and a stop() that SIGTERMs it and waits for its exit.
 */
export async function startSim({ port = 0, rate = 40, seed = 7, credentials, backfill = 0, log } = {}) {
  const args = [path.join(PROJECT, 'dist/cli.js'), 'sim', '--port', String(port), '--rate', String(rate), '--seed', String(seed), '--credentials', credentials, '--backfill', String(backfill)];
  const child = spawn(process.execPath, args, { cwd: PROJECT, detached: true, stdio: ['ignore', 'pipe', log ? 'pipe' : 'inherit'] });
  if (log) child.stderr.pipe(fs.createWriteStream(log, { flags: 'a' }));
  const ready = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the simulator did not start within 20 s')), 20_000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch (e) {
        reject(new Error(`unexpected output from htlc-monitor sim: ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`htlc-monitor sim exited with ${code}`)));
  });
  return {
    ...ready,
    port: Number(ready.address.split(':').pop()),
    child,
    async stop(signal = 'SIGTERM') {
      killGroup(child, signal);
      await exited(child);
    },
  };
}

/**
 * code-server (no auth, 127.0.0.1 only, this run's user data and extensions) in its own process
 * group; resolves once it answers HTTP. `folder` opens by default.
 */
export async function startCodeServer(d, { port, folder = d.workspace, log = path.join(d.dir, 'code-server.log'), extraEnv = {} } = {}) {
  const args = [
    path.join(CS, 'out/node/entry.js'),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', d.ud,
    '--extensions-dir', d.exts,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    folder,
  ];
  const out = fs.openSync(log, 'a');
  const child = spawn(process.execPath, args, { cwd: d.dir, env: { ...serverEnv(d), ...extraEnv }, detached: true, stdio: ['ignore', out, out] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      killGroup(child);
      throw new Error(`code-server did not answer on ${url} within 60 s; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    child,
    log,
    async stop() {
      killGroup(child);
      await Promise.race([exited(child), new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid, 'SIGKILL'); // whatever is left of the group (extension hosts, watchers)
      } catch {
        /* all gone */
      }
    },
  };
}
