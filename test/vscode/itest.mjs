// Runs the mocha integration suite INSIDE a real VS Code extension host: the VS Code server bundled
// with code-server, started with --enable-smoke-test-driver, honours the workbench URL payload
// extensionDevelopmentPath / extensionTestsPath (as VS Code's own remote integration tests do);
// headless Debian chromium (playwright-core) opens the workbench, and the workbench reports the
// result through window.codeAutomationExit(code).
// env: VSCODE_URL, EXT_DEV_PATH, EXT_TESTS_PATH, WORKSPACE, ITEST_TIMEOUT_MS, CHROMIUM, ITEST_VERBOSE
import { createRequire } from 'node:module';
import { format } from 'node:util';
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const BASE = new URL(process.env.VSCODE_URL || 'http://127.0.0.1:8941');
const EXT = process.env.EXT_DEV_PATH;
const TESTS = process.env.EXT_TESTS_PATH;
const WORKSPACE = process.env.WORKSPACE;
const TIMEOUT = +(process.env.ITEST_TIMEOUT_MS || 300_000);
if (!EXT || !TESTS || !WORKSPACE) throw new Error('EXT_DEV_PATH, EXT_TESTS_PATH and WORKSPACE are required');
const remote = (p) => `vscode-remote://${BASE.host}${p}`; // the server's remote authority = Host header

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = await browser.newPage();
let done;
const exited = new Promise((r) => (done = r));
let passing = 0, failing = 0;
await page.exposeFunction('codeAutomationLog', (type, args) => {
  const line = format(...(args || []));
  const m = /^\s*(\d+) (passing|failing)/.exec(line);
  if (m) m[2] === 'passing' ? (passing = +m[1]) : (failing = +m[1]);
  console.log(line);
});
await page.exposeFunction('codeAutomationExit', (code) => done(code));
if (process.env.ITEST_VERBOSE) page.on('console', (m) => console.log('[browser]', m.text()));
const payload = [['extensionDevelopmentPath', remote(EXT)], ['extensionTestsPath', remote(TESTS)], ['skipWelcome', 'true']];
const url = `${BASE.origin}/?folder=${encodeURIComponent(WORKSPACE)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
const t0 = Date.now();
await page.goto(url);
const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), TIMEOUT))]);
console.log(`extension tests finished: exit code ${code} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
await browser.close();
console.log(`integration (extension host): ${passing} passed, ${failing} failed`);
process.exit(code === 0 && failing === 0 && passing > 0 ? 0 : 1);
