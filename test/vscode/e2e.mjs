// UI end to end in the real workbench (the same VS Code server, headless chromium): the activity-bar
// container, the welcome view, "HTLC: Start Demo Node" from the command palette, tree rows, the
// status-bar item, and the Top Opportunities webview's table and charts (nested iframes:
// iframe.webview.ready → #active-frame). Screenshots go to $SHOTS.
// env: VSCODE_URL, EXT_DEV_PATH, WORKSPACE, SHOTS, CHROMIUM
import { createRequire } from 'node:module';
import fs from 'node:fs';
import assert from 'node:assert/strict';
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const BASE = new URL(process.env.VSCODE_URL || 'http://127.0.0.1:8941');
const SHOTS = process.env.SHOTS || './shots';
fs.mkdirSync(SHOTS, { recursive: true });
const remote = (p) => `vscode-remote://${BASE.host}${p}`;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
let passed = 0, failed = 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = await (await browser.newContext({ viewport: { width: 1500, height: 950 } })).newPage();
// The demo node's peers include the alias `<img src=x onerror=alert(1)>`: if any script of an alias
// ran anywhere (workbench, tree, webview iframes), its alert() would open a dialog here.
const dialogs = [];
page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
async function step(name, fn) {
  try { await fn(); passed++; log('PASS', name); }
  catch (e) { failed++; log('FAIL', name, '\n', e?.stack || e); await page.screenshot({ path: `${SHOTS}/fail-${passed + failed}.png` }).catch(() => {}); }
}
async function palette(command) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${command}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

const payload = [['extensionDevelopmentPath', remote(process.env.EXT_DEV_PATH)], ['skipWelcome', 'true']];
await step('workbench loads with the extension', async () => {
  await page.goto(`${BASE.origin}/?folder=${encodeURIComponent(process.env.WORKSPACE)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60_000 });
});
await step('activity bar container opens the view with the "not configured" welcome', async () => {
  await page.locator('.part.activitybar [aria-label^="HTLC Monitor"]').first().click({ timeout: 30_000 });
  await page.locator('.part.sidebar .welcome-view-content', { hasText: 'No LND node is configured yet' }).waitFor({ timeout: 30_000 });
  await page.locator('.part.statusbar .statusbar-item', { hasText: 'HTLC: not connected' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: `${SHOTS}/01-welcome.png` });
});
await step('"HTLC: Start Demo Node" fills the tree and the status bar', async () => {
  await palette('HTLC: Start Demo Node');
  const rows = page.locator('.part.sidebar .monaco-list-row');
  await page.locator('.part.sidebar .monaco-list-row', { hasText: 'sat missed' }).first().waitFor({ timeout: 60_000 });
  const item = page.locator('.part.statusbar .statusbar-item', { hasText: /fails\/1h/ });
  await item.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(3000);
  log('tree rows:', (await rows.allInnerTexts()).slice(0, 6).map((s) => s.replace(/\s+/g, ' ').trim()));
  log('status bar:', (await item.innerText()).trim());
  assert.match((await item.innerText()).trim(), /^\d[\d,]* fails\/1h$/);
  await rows.first().hover();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${SHOTS}/02-tree.png` });
});
await step('"HTLC: Show Top Opportunities" renders the table and both charts', async () => {
  await palette('HTLC: Show Top Opportunities');
  await page.locator('.tabs-container .tab', { hasText: 'Top Opportunities' }).waitFor({ timeout: 20_000 });
  const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await inner.locator('#rows tr').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1500);
  const n = await inner.locator('#rows tr').count();
  const canvases = await inner.locator('canvas').evaluateAll((cs) => cs.map((c) => [c.width, c.height]));
  log(`webview: ${n} rows; canvases ${JSON.stringify(canvases)}; summary: ${(await inner.locator('#summary').innerText()).trim()}`);
  assert.ok(n > 0);
  assert.ok(canvases.length === 2 && canvases.every(([w, h]) => w > 0 && h > 0));
  const hostile = await inner.locator('#rows').evaluate((tb) => tb.querySelectorAll('img, script').length);
  assert.equal(hostile, 0, 'no element injected by an alias');
  const text = await inner.locator('#rows').innerText();
  assert.ok(text.includes('<img src=x onerror=alert(1)>'), 'the hostile alias is shown as text');
  await page.waitForTimeout(1000);
  assert.deepEqual(dialogs, [], 'no script of an alias ran (no alert dialog)');
  await page.screenshot({ path: `${SHOTS}/03-webview.png` });
});
await browser.close();
console.log(`ui e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
