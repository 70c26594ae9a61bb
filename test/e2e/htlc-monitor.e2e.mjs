// The UI end-to-end scenario, in a real workbench (code-server, headless chromium) with the
// PACKAGED extension installed and `htlc-monitor sim` as the LND node, run as its own process so
// that the disconnect is real. test/e2e/run.mjs starts everything and calls runScenario().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FailingChannelsView } from './pages/sidebar.mjs';
import { StatusBarItem } from './pages/statusBar.mjs';
import { Palette } from './pages/palette.mjs';
import { OpportunitiesPanel } from './pages/webview.mjs';
import { Dialog } from './pages/dialog.mjs';
import { VIEWPORT } from './pages/workbench.mjs';

const CHANNEL_DESCRIPTION = /^[\d,]+ fails? · [\d,.]+ sat missed$/;
const REASON_DESCRIPTION = /^[\d,]+ × · [\d,.]+ sat missed$/;

/**
 * @param {object} ctx
 * @param {import('./pages/workbench.mjs').Workbench} ctx.wb  the open workbench
 * @param {string} ctx.theme  'dark' | 'light'
 * @param {(name: string, clip?: object) => Promise<void>} ctx.shot  screenshot helper
 * @param {() => Promise<object>} ctx.startNode  starts `htlc-monitor sim` (same port and credentials each time)
 * @param {() => Promise<void>} ctx.stopNode  SIGTERMs it
 * @param {(settings: object) => void} ctx.configure  merges settings into the user settings.json
 * @param {string} ctx.extensionDir  where the VSIX was installed
 * @param {(name: string, fn: () => Promise<void>) => Promise<boolean>} ctx.step
 */
export async function runScenario(ctx) {
  const { wb, step, shot } = ctx;
  const page = wb.page;
  const view = new FailingChannelsView(page);
  const status = new StatusBarItem(page);
  const palette = new Palette(page);
  const panel = new OpportunitiesPanel(page);
  const log = (...a) => console.log('       ', ...a);
  let node;
  let subscribedAt = 0;

  await step('the installed VSIX is what runs (no development host, no sources)', async () => {
    const files = fs.readdirSync(ctx.extensionDir).sort();
    log(`installed ${path.basename(ctx.extensionDir)}: ${files.join(' ')}`);
    assert.deepEqual(files.filter((f) => ['src', 'test', 'node_modules', 'out'].includes(f)), []);
    assert.ok(fs.existsSync(path.join(ctx.extensionDir, 'dist/extension.js')));
    const title = `${await wb.title()} | ${await wb.titleBarText()}`;
    log(`window title: ${title}`);
    assert.doesNotMatch(title, /Extension Development Host/);
  });

  await step('the HTLC Monitor view opens on the "not configured" welcome', async () => {
    await view.open();
    await wb.setSidebarWidth(430);
    assert.match(await view.title(), /HTLC MONITOR/i);
    const text = await view.waitForWelcome('No LND node is configured yet');
    assert.match(text, /Connect to LND/);
    assert.match(text, /Start Demo Node/);
    await status.waitFor();
    assert.equal(await status.text(), 'HTLC: not connected');
    let entries = [];
    for (let i = 0; i < 20 && !entries.includes('HTLC: Show Top Opportunities'); i++) entries = await palette.entries('HTLC:');
    log(`palette offers ${entries.length} HTLC commands`);
    assert.ok(entries.includes('HTLC: Show Top Opportunities') && entries.includes('HTLC: Start Demo Node'), entries.join(', '));
    await page.keyboard.press('Escape');
    await wb.dismissNotifications();
    await shot('welcome');
  });

  await step('settings point at the simulator process; "Start Monitoring" fills the tree', async () => {
    node = await ctx.startNode({ backfill: true });
    log(`node: ${node.address} (pid ${node.child.pid})`);
    ctx.configure({
      'htlcMonitor.lnd.server': node.address,
      'htlcMonitor.lnd.tlsCertPath': node.certPath,
      'htlcMonitor.lnd.macaroonPath': node.macaroonPath,
    });
    await view.waitForWelcome('Not connected to LND');
    await view.welcomeButton('Start Monitoring').click();
    subscribedAt = Date.now();
    await view.waitForChannels();
    let channels = await view.channels();
    for (let i = 0; i < 40 && channels.length < 3; i++) {
      await page.waitForTimeout(250);
      channels = await view.channels();
    }
    log(`${channels.length} channels; top 3: ${channels.slice(0, 3).map((c) => `${c.label} — ${c.description}`).join(' | ')}`);
    assert.ok(channels.length >= 3);
    for (const c of channels) {
      assert.ok(c.label.length > 0);
      assert.match(c.description, CHANNEL_DESCRIPTION);
    }
    const sats = channels.map((c) => Number(c.description.split('·')[1].replace(/[^\d.]/g, '')));
    assert.deepEqual([...sats].sort((a, b) => b - a), sats, 'ranked by missed fees');
  });

  await step('the status-bar counter rises as the node fails HTLCs', async () => {
    await status.waitForIcon('zap', 30_000);
    const first = await status.count();
    assert.match(await status.text(), /^[\d,]+ fails\/1h$/);
    const deadline = Date.now() + 30_000;
    let now = first;
    while (now <= first && Date.now() < deadline) {
      await page.waitForTimeout(500);
      now = await status.count();
    }
    log(`status bar: ${first} → ${now} fails/1h`);
    assert.ok(now > first, `the counter rose (${first} → ${now})`);
    assert.match(await status.ariaLabel(), /HTLC Monitor: Connected to /);
  });

  await step('a channel expands to its failure reasons', async () => {
    // the simulator's backfill (6 h of history) has caught up with real time after ~20 s
    const wait = 24_000 - (Date.now() - subscribedAt);
    if (wait > 0) await page.waitForTimeout(wait);
    const children = await view.expandChannel(0);
    const reasons = children.filter((c) => REASON_DESCRIPTION.test(c.description));
    log(`top channel's children: ${children.slice(0, 5).map((c) => `${c.label} — ${c.description}`).join(' | ')}`);
    assert.ok(reasons.length >= 1, 'at least one reason row');
    for (const r of reasons) assert.ok(r.label.length > 0);
  });

  await step('"HTLC: Show Top Opportunities" from the palette: the table and both charts draw', async () => {
    await palette.run('HTLC: Show Top Opportunities');
    await panel.waitForTable();
    await page.waitForTimeout(1500); // chart.js animates in
    const headers = await panel.headers();
    assert.deepEqual(headers.slice(0, 5), ['#', 'Channel', 'Failures', 'Missed fees', 'Top reason']);
    const table = await panel.table();
    log(`webview: ${table.length} rows; first: ${JSON.stringify(table[0]?.slice(0, 5))}; summary: ${(await panel.summary()).replace(/\s+/g, ' ').slice(0, 120)}`);
    assert.ok(table.length >= 3);
    assert.equal(table[0][0], '1');
    const charts = await panel.charts();
    log(`charts: ${JSON.stringify(charts)}`);
    assert.deepEqual(charts.map((c) => c.id).sort(), ['chart-failures', 'chart-fees']);
    for (const c of charts) {
      assert.ok(c.width > 0 && c.height > 0, `${c.id} has a size`);
      assert.ok(c.painted > 1000, `${c.id} drew (${c.painted} painted pixels)`);
    }
    assert.equal(await panel.injectedElements(), 0);
    await wb.dismissNotifications();
    await shot('overview');
    const side = await page.locator('.part.sidebar').boundingBox();
    const act = await page.locator('.part.activitybar').boundingBox();
    await shot('tree', { x: 0, y: 0, width: Math.round((side?.x ?? 0) + (side?.width ?? 400)), height: VIEWPORT.height });
    const editor = await page.locator('.part.editor').boundingBox();
    if (editor && act) await shot('webview', { x: Math.round(editor.x), y: Math.round(editor.y), width: Math.round(editor.width), height: Math.round(editor.height) });
  });

  await step('the status-bar tooltip tells where and how many', async () => {
    const tip = await status.hover();
    log(`tooltip: ${tip.replace(/\s+/g, ' ').slice(0, 160)}`);
    assert.match(tip, /HTLC Monitor — Connected to /);
    assert.match(tip, /failed forwards/);
    const box = await status.box();
    await page.waitForTimeout(300);
    const y = Math.max(0, VIEWPORT.height - 300);
    await page.screenshot({ path: ctx.shotPath('status-bar'), clip: { x: 0, y, width: Math.min(VIEWPORT.width, Math.round((box?.x ?? 0) + 620)), height: VIEWPORT.height - y } });
    await page.mouse.move(VIEWPORT.width - 5, VIEWPORT.height / 2);
  });

  await step('killing the node: the status bar and the tree say so, with the reason', async () => {
    await ctx.stopNode();
    await status.waitForIcon('sync', 30_000);
    const aria = await status.ariaLabel();
    log(`status bar: "${await status.text()}" — ${aria}`);
    assert.match(aria, /Reconnecting to .*\(.+\)/, 'the reason in the accessible label');
    const tip = await status.hover();
    assert.match(tip, /Reconnecting to/);
    await page.mouse.move(VIEWPORT.width - 5, VIEWPORT.height / 2);
    const deadline = Date.now() + 20_000;
    let msg = '';
    while (!/^(Reconnecting|Disconnected): ./.test(msg) && Date.now() < deadline) {
      await page.waitForTimeout(250);
      msg = await view.messageText();
    }
    log(`tree message: ${msg}`);
    assert.match(msg, /^(Reconnecting|Disconnected): ./);
  });

  await step('with the statistics reset, the welcome view shows the disconnected state', async () => {
    await palette.run('HTLC: Reset Statistics');
    const dialog = new Dialog(page);
    assert.match(await dialog.text(), /Reset all HTLC statistics/);
    await dialog.click('Reset');
    const text = await view.waitForWelcome(/Connecting to LND|Not connected to LND/);
    log(`welcome: ${text.replace(/\s+/g, ' ')}`);
    assert.match(text, /status bar item's tooltip/);
    assert.equal((await view.channels()).length, 0);
    assert.equal(await status.icon(), 'sync', 'still reconnecting');
    assert.match(await status.text(), /^0 fails\/1h$/);
    assert.match(await status.ariaLabel(), /Reconnecting to .*\(.+\)/);
    await wb.dismissNotifications();
    await shot('disconnected');
  });

  await step('restarting the node on the same port: it reconnects and counts again', async () => {
    node = await ctx.startNode({ backfill: false });
    await status.waitForIcon('zap', 60_000);
    await view.waitForChannels(30_000);
    assert.equal(await view.messageText(), '');
    assert.match(await status.ariaLabel(), /HTLC Monitor: Connected to /);
    log(`reconnected: ${await status.text()}, ${(await view.channels()).length} channels`);
  });
}
