/**
 * Extension: activation time without a connection, bundle sizes, VSIX size and contents.
 *
 * - `npm run package` builds the production bundles and the VSIX (skip with BENCH_SKIP_PACKAGE=1
 *   to measure what is already there).
 * - Activation: dist/extension.js is required in a child process with a stub `vscode` module
 *   (a Module._resolveFilename hook; every API is a recursive no-op proxy, settings return their
 *   defaults, so no node is configured and nothing connects), and `activate(fakeContext)` is
 *   timed. Reported: require (module evaluation) and activate() separately, and their sum.
 *
 *   npx tsx bench/extension.bench.ts        (BENCH_RUNS)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, printTable, RUNS, summarize, writeResult } from './util';

const ROOT = path.resolve(__dirname, '..');

/** Runs in the child: stub vscode, require the bundle, time activate(). Prints JSON. */
const CHILD = String.raw`
const Module = require('module');
const path = require('path');
const ROOT = process.argv[1];
function stub(name) {
  const cache = new Map();
  const fn = function () {};
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      if (prop === Symbol.toPrimitive) return () => name;
      if (prop === Symbol.iterator) return function* () {};
      if (prop === 'prototype') return fn.prototype;
      if (!cache.has(prop)) cache.set(prop, stub(name + '.' + String(prop)));
      return cache.get(prop);
    },
    set(_t, prop, v) { cache.set(prop, v); return true; },
    apply(_t, _this, args) {
      // getConfiguration().get(key, default) gives the default: no node configured
      if (name.endsWith('.get') && args.length >= 2) return args[1];
      if (name.endsWith('.get')) return undefined;
      return stub(name + '()');
    },
    construct(_t, args) {
      const o = stub('new ' + name);
      return o;
    },
  });
}
// esbuild's interop copies the module's own keys: give the namespace its real top-level names
const vscode = {};
for (const k of 'ConfigurationTarget Disposable EventEmitter ExtensionMode InputBoxValidationSeverity MarkdownString ProgressLocation StatusBarAlignment ThemeColor ThemeIcon TreeItem TreeItemCollapsibleState Uri ViewColumn QuickPickItemKind commands env window workspace languages extensions l10n'.split(' ')) vscode[k] = stub('vscode.' + k);
vscode.version = '1.100.0';
const realResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode') return 'vscode';
  return realResolve.call(this, request, ...rest);
};
require.cache['vscode'] = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };
const pkg = require(path.join(ROOT, 'package.json'));
const memento = () => { const m = new Map(); return { get: (k, d) => (m.has(k) ? m.get(k) : d), update: async (k, v) => void m.set(k, v), keys: () => [...m.keys()] }; };
const context = {
  subscriptions: [],
  extensionUri: { fsPath: ROOT, path: ROOT, scheme: 'file', toString: () => 'file://' + ROOT },
  extensionPath: ROOT,
  extensionMode: 1,
  extension: { packageJSON: pkg, id: 'htlc-monitor.htlc-monitor' },
  globalState: memento(),
  workspaceState: memento(),
  secrets: { get: async () => undefined, store: async () => {}, delete: async () => {}, onDidChange: () => ({ dispose() {} }) },
  globalStorageUri: { fsPath: path.join(require('os').tmpdir(), 'htlc-bench-storage'), path: '', scheme: 'file' },
  storageUri: undefined,
  logUri: { fsPath: require('os').tmpdir() },
  asAbsolutePath: (p) => path.join(ROOT, p),
};
const t0 = performance.now();
const ext = require(path.join(ROOT, 'dist/extension.js'));
const t1 = performance.now();
let err = null;
try { ext.activate(context); } catch (e) { err = String(e && e.stack || e); }
const t2 = performance.now();
process.stdout.write(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0, subscriptions: context.subscriptions.length, error: err }));
setImmediate(() => process.exit(0));
`;

function activationOnce(): { requireMs: number; activateMs: number; totalMs: number; subscriptions: number; error: string | null } {
  const r = spawnSync(process.execPath, ['-e', CHILD, ROOT], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`activation child failed: ${r.stderr || r.stdout}`);
  }
}

function size(file: string): number {
  return fs.statSync(path.join(ROOT, file)).size;
}

async function main() {
  let packageError: string | undefined;
  if (!process.env.BENCH_SKIP_PACKAGE) {
    console.log('npm run package …');
    const r = spawnSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) {
      // measure the production bundles anyway, and the newest VSIX there is (reported as stale)
      packageError = (r.stderr || r.stdout).split('\n').filter((l) => /ERROR|Error/.test(l)).join(' ').trim() || `exit ${r.status}`;
      console.log(`npm run package FAILED: ${packageError}\nmeasuring a production build and the newest VSIX present instead`);
      execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    }
  }
  const vsix = fs.readdirSync(ROOT).filter((f) => f.endsWith('.vsix')).sort((a, b) => fs.statSync(path.join(ROOT, b)).mtimeMs - fs.statSync(path.join(ROOT, a)).mtimeMs)[0];
  const bundles = ['dist/extension.js', 'dist/cli.js', 'media/dist/webview.js', 'dist/sql-wasm.wasm'].filter((f) => fs.existsSync(path.join(ROOT, f)));
  const bundleSizes = Object.fromEntries(bundles.map((f) => [f, size(f)]));

  let vsixInfo: { file: string; bytes: number; files: number; unpackedBytes: number; largest: [string, number][]; builtAt: string; stale: boolean } | undefined;
  if (vsix) {
    const list = execFileSync('unzip', ['-l', path.join(ROOT, vsix)], { encoding: 'utf8' });
    const entries: [string, number][] = [];
    for (const line of list.split('\n')) {
      const m = /^\s*(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
      if (m && !m[2].endsWith('/') && m[2] !== 'Name') entries.push([m[2].trim(), Number(m[1])]);
    }
    vsixInfo = {
      file: vsix,
      bytes: size(vsix),
      files: entries.length,
      unpackedBytes: entries.reduce((a, [, n]) => a + n, 0),
      largest: entries.sort((a, b) => b[1] - a[1]).slice(0, 8),
      builtAt: fs.statSync(path.join(ROOT, vsix)).mtime.toISOString(),
      stale: packageError !== undefined || Boolean(process.env.BENCH_SKIP_PACKAGE),
    };
  }

  activationOnce(); // warm the file cache
  const runs = Array.from({ length: Math.max(RUNS, 5) }, () => activationOnce());
  if (runs[0].error) console.log(`activate() threw under the stub: ${runs[0].error}`);
  const total = summarize(runs.map((r) => r.totalMs));
  const req = summarize(runs.map((r) => r.requireMs));
  const act = summarize(runs.map((r) => r.activateMs));

  const rows: (string | number)[][] = [
    ['activation: require(dist/extension.js)', `${fmt(req.median, 1)} ms`, `${fmt(req.min, 1)}–${fmt(req.max, 1)}`, ''],
    ['activation: activate(context)', `${fmt(act.median, 1)} ms`, `${fmt(act.min, 1)}–${fmt(act.max, 1)}`, ''],
    ['activation total (goal < 100 ms)', `${fmt(total.median, 1)} ms`, `${fmt(total.min, 1)}–${fmt(total.max, 1)}`, total.median < 100 ? 'met' : 'missed'],
    ...bundles.map((f) => [f, `${fmt(bundleSizes[f] / 1024)} KiB`, '', '']),
  ];
  if (vsixInfo) rows.push([`${vsixInfo.stale ? `[not rebuilt: built ${vsixInfo.builtAt}] ` : ''}${vsixInfo.file} (${vsixInfo.files} files, ${fmt(vsixInfo.unpackedBytes / 1e6, 2)} MB unpacked) (goal < 3 MB)`, `${fmt(vsixInfo.bytes / 1e6, 2)} MB`, '', vsixInfo.bytes < 3e6 ? 'met' : 'missed']);
  printTable(`Extension (${runs.length} activations in fresh processes)`, ['what', 'median', 'range', 'goal'], rows);
  if (vsixInfo) console.log(`largest in the VSIX: ${vsixInfo.largest.map(([f, n]) => `${f} ${fmt(n / 1024)} KiB`).join(', ')}`);
  const file = writeResult('extension', { packageError, activation: { total, require: req, activate: act, subscriptions: runs[0].subscriptions, error: runs[0].error }, bundleSizes, vsix: vsixInfo });
  console.log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
