// UI end-to-end tests: `npm run test:e2e` (also run by .ci/run). From nothing to a verdict:
// installs code-server + chromium (scripts/setup-code-server.sh, cached in .vscode-test/), builds
// the VSIX (`npm run package`), installs it with code-server's --install-extension into a fresh
// extensions dir, runs `htlc-monitor sim` as the node in its own process, starts code-server on a
// free loopback port, and drives the workbench in headless chromium (test/e2e/htlc-monitor.e2e.mjs,
// page objects in test/e2e/pages/) once per theme (Default Dark Modern, Default Light Modern).
//
//   npm run test:e2e                      # screenshots → .vscode-test/shots/e2e/
//   UPDATE_SCREENSHOTS=1 npm run test:e2e # … and the README's → docs/images/
//   E2E_THEMES=dark SKIP_PACKAGE=1 …      # one theme, reuse the VSIX
import fs from 'node:fs';
import path from 'node:path';
import {
  PROJECT, ROOT, QUIET_SETTINGS, freePort, installVsix, makeRunDir, packageVsix, setupCodeServer,
  startCodeServer, startSim, writeMachineSettings, writeUserSettings, VSIX,
} from '../../scripts/code-server.mjs';
import { Workbench } from './pages/workbench.mjs';
import { runScenario } from './htlc-monitor.e2e.mjs';

const THEMES = { dark: 'Default Dark Modern', light: 'Default Light Modern' };
const themes = (process.env.E2E_THEMES || 'dark,light').split(',').map((s) => s.trim()).filter(Boolean);
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const SHOTS = path.join(ROOT, 'shots', 'e2e');
const DOCS = path.join(PROJECT, 'docs', 'images');
/** Screenshots the README shows (UPDATE_SCREENSHOTS=1 writes them to docs/images/). */
const README_SHOTS = new Set(['overview', 'tree', 'status-bar', 'webview']);
const t0 = Date.now();
const secs = (t) => ((Date.now() - t) / 1000).toFixed(1);

setupCodeServer();
if (process.env.SKIP_PACKAGE !== '1') {
  const tp = Date.now();
  packageVsix({ stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`=== packaged ${path.basename(VSIX)} (${(fs.statSync(VSIX).size / 1024).toFixed(0)} KB) in ${secs(tp)}s`);
}
fs.mkdirSync(SHOTS, { recursive: true });
if (UPDATE) fs.mkdirSync(DOCS, { recursive: true });

let passed = 0;
let failed = 0;
for (const theme of themes) {
  if (!THEMES[theme]) throw new Error(`unknown theme "${theme}" (dark, light)`);
  const tt = Date.now();
  console.log(`=== UI e2e, ${THEMES[theme]}`);
  const d = makeRunDir(path.join(ROOT, 'e2e', theme));
  const extensionDir = installVsix(d);
  writeUserSettings(d, { ...QUIET_SETTINGS, 'workbench.colorTheme': THEMES[theme] });
  const nodePort = await freePort();
  let node;
  const nodes = new Set();
  const server = await startCodeServer(d, { port: await freePort() });
  const wb = await Workbench.launch({ colorScheme: theme });
  const shotPath = (name) => {
    const p = path.join(SHOTS, `${name}-${theme}.png`);
    return p;
  };
  const publish = (name) => {
    if (UPDATE && README_SHOTS.has(name)) fs.copyFileSync(shotPath(name), path.join(DOCS, `${name}-${theme}.png`));
  };
  const ctx = {
    wb,
    theme,
    extensionDir,
    shotPath: (name) => {
      // the scenario writes this one itself; publish it once written
      setTimeout(() => fs.existsSync(shotPath(name)) && publish(name), 2000);
      return shotPath(name);
    },
    async shot(name, clip) {
      await wb.screenshot(shotPath(name), clip);
      publish(name);
    },
    async startNode({ backfill }) {
      node = await startSim({
        port: nodePort,
        seed: 21,
        rate: 40,
        credentials: d.creds,
        backfill: backfill ? 360 : 0,
        log: path.join(d.dir, 'sim.log'),
      });
      nodes.add(node);
      return node;
    },
    async stopNode() {
      await node?.stop();
    },
    configure(settings) {
      writeMachineSettings(d, settings);
    },
    async step(name, fn) {
      const ts = Date.now();
      try {
        await fn();
        passed++;
        console.log(`  ✔ ${name} (${secs(ts)}s)`);
        return true;
      } catch (e) {
        failed++;
        console.log(`  ✘ ${name} (${secs(ts)}s)\n${String(e?.stack || e).replace(/^/gm, '      ')}`);
        await wb.page.screenshot({ path: path.join(SHOTS, `fail-${theme}-${passed + failed}.png`) }).catch(() => {});
        return false;
      }
    },
  };
  try {
    await ctx.step('workbench loads', () => wb.open(server.url, d.workspace));
    await wb.tidyLayout();
    await runScenario(ctx);
  } finally {
    await wb.close().catch(() => {});
    await Promise.allSettled([...nodes].map((n) => n.stop()));
    await server.stop();
  }
  console.log(`=== ${THEMES[theme]}: ${secs(tt)}s`);
}
console.log(`ui e2e: ${passed} passed, ${failed} failed in ${secs(t0)}s; screenshots in ${path.relative(PROJECT, SHOTS)}${UPDATE ? ` and ${path.relative(PROJECT, DOCS)}` : ''}`);
process.exit(failed ? 1 : 0);
