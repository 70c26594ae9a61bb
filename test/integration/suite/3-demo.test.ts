import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HtlcMonitorTestApi } from '../../../src/extension/testApi';
import { api, parseDescription, sleep, waitFor } from './util';

suite('demo node: tree, status bar, webview, export', function () {
  let a: HtlcMonitorTestApi;

  suiteSetup(async function () {
    this.timeout(90_000);
    a = await api();
    await vscode.commands.executeCommand('htlcMonitor.failingChannels.focus'); // the view refreshes live only while visible
    const t0 = Date.now();
    const address = await vscode.commands.executeCommand<string>('htlcMonitor.startDemoNode', { seed: 42, eventsPerSecond: 150 });
    assert.match(address ?? '', /^127\.0\.0\.1:\d+$/);
    await waitFor('connected to the demo node', () => a.connection().state === 'connected', 30_000);
    await waitFor('failing channels in the tree', () => a.treeItems().length >= 3, 60_000, 250);
    console.log(`    demo node ${address}: connected with failing channels after ${Date.now() - t0} ms`);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
  });

  test('tree: channels ranked by missed fees, with descriptions, severity colours and stable ids', () => {
    const items = a.treeItems();
    console.log(`    ${items.length} channels; first: ${items.slice(0, 3).map((i) => `${i.label} — ${i.description}`).join(' | ')}`);
    let prevFees = Infinity;
    for (const it of items) {
      const [fails, fees] = parseDescription(it.description);
      assert.ok(fails > 0);
      assert.ok(fees <= prevFees, `ranked by missed fees: ${fees} after ${prevFees}`);
      prevFees = fees;
      assert.match(it.id, /^channel\/\d+$/);
      assert.equal(it.contextValue, 'channel');
      assert.ok(['charts.red', 'charts.orange', 'charts.yellow'].includes(it.iconColor ?? ''), `severity colour ${it.iconColor}`);
      assert.ok(it.label.length > 0);
    }
    const again = a.treeItems();
    assert.deepEqual(new Set(again.map((i) => i.id)).size, again.length, 'ids are unique');
  });

  test('tree: attacker-controlled aliases are escaped in tooltips', async () => {
    await waitFor('aliases from ListChannels', () => a.treeItems().some((i) => !/^\d+x\d+x\d+$/.test(i.label)), 20_000);
    for (const it of a.treeItems()) {
      assert.ok(!/<img|<script/i.test(it.tooltip), `no raw HTML in tooltip of ${it.label}`);
      assert.ok(!/\]\(http/.test(it.tooltip), `no live link in tooltip of ${it.label}`);
      assert.ok(!/(^|[^\\])\*\*bold/.test(it.tooltip), `no live emphasis in tooltip of ${it.label}`);
      assert.match(it.tooltip, /Missed fees/);
    }
  });

  test('tree: children are reasons (counts, missed fees) then recent failures (local time with zone)', () => {
    const top = a.treeItems()[0];
    const children = a.treeChildren(top.id.slice('channel/'.length));
    assert.ok(children.length > 0);
    const kinds = children.map((c) => c.contextValue);
    const firstFailure = kinds.indexOf('failure');
    assert.ok(kinds.slice(0, firstFailure === -1 ? undefined : firstFailure).every((k) => k === 'reason'), `reasons first: ${kinds.join(',')}`);
    const reason = children.find((c) => c.contextValue === 'reason')!;
    assert.match(reason.description, /^[\d,]+ × · [\d,.]+ sat missed$/);
    const failure = children.find((c) => c.contextValue === 'failure');
    assert.ok(failure, 'recent failures listed');
    assert.match(failure.label, /\d{2}:\d{2}:\d{2}/);
    assert.match(failure.description, /sat · fee [\d,.]+ sat · /);
    // escaped Markdown of "Time: 2026-11-27T17:05:03.123+01:00" (local time with its offset)
    assert.match(failure.tooltip, /Time\\: \d{4}\\-\d{2}\\-\d{2}T\d{2}\\:\d{2}\\:\d{2}\\\.\d{3}\\[+-]\d{2}\\:\d{2}/);
    assert.ok(new Set(children.map((c) => c.id)).size === children.length, 'child ids unique');
  });

  test('status bar: live "$(zap) N fails/1h" with a tooltip and accessibility label', async () => {
    const first = await waitFor('a count > 0', () => {
      const m = /^\$\(zap\) ([\d,]+) fails\/1h$/.exec(a.statusText());
      return m && m[1] !== '0' ? m : undefined;
    });
    const n1 = Number(first[1].replace(/,/g, ''));
    assert.ok(n1 > 0);
    const second = await waitFor('the count to grow', () => {
      const m = /^\$\(zap\) ([\d,]+) fails\/1h$/.exec(a.statusText());
      return m && Number(m[1].replace(/,/g, '')) > n1 ? m : undefined;
    });
    console.log(`    status bar: ${first[0]} → ${second[0]}`);
    assert.match(a.statusTooltip(), /Connected to the demo node/);
    assert.match(a.statusAccessibilityLabel(), /failed forwards in the last hour/);
    assert.equal(a.statusBackground(), undefined);
  });

  test('live updates are coalesced: a few tree refreshes a second at most, partial when the order holds', async () => {
    const before = a.treeRefreshStats();
    await sleep(3000);
    const after = a.treeRefreshStats();
    const refreshes = after.full - before.full + (after.partial - before.partial);
    console.log(`    3 s at 150 events/s: ${after.full - before.full} full, ${after.partial - before.partial} partial, ${after.skipped - before.skipped} skipped refreshes`);
    assert.ok(refreshes >= 1, 'the visible tree follows live data');
    assert.ok(refreshes <= 10, `${refreshes} refreshes in 3 s`);
  });

  test('webview: Show Top Opportunities opens the panel, completes the handshake and renders table and charts without CSP violations', async () => {
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.showTopOpportunities'), true);
    await waitFor('the webview tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label === 'Top Opportunities' && t.input instanceof vscode.TabInputWebview));
    const rendered = await waitFor('the webview to render rows', () => {
      const p = a.panel();
      return p && p.readyCount > 0 && p.lastRendered && p.lastRendered.rows > 0 ? p.lastRendered : undefined;
    }, 45_000);
    console.log(`    webview rendered ${rendered.rows} rows and ${rendered.charts} charts (${rendered.window})`);
    assert.equal(rendered.charts, 2);
    const posted = a.panel()!.posted;
    await waitFor('a live update', () => a.panel()!.posted > posted, 10_000);
    assert.deepEqual(a.panel()!.cspViolations, []);
  });

  test('show in analysis focuses a channel in the webview', async () => {
    const top = a.treeItems()[0];
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.showInAnalysis', top.id.slice('channel/'.length)), true);
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.copyChannelId', top.id.slice('channel/'.length)), top.id.slice('channel/'.length));
    assert.match((await vscode.commands.executeCommand<string>('htlcMonitor.copyScid', top.id.slice('channel/'.length))) ?? '', /^\d+x\d+x\d+$/);
  });

  test('webview: a new panel opens on the tree\'s window (the page asserts none of its own)', async () => {
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.label === 'Top Opportunities' && t.input instanceof vscode.TabInputWebview);
    await vscode.window.tabGroups.close(tabs());
    await waitFor('the panel closed', () => a.panel() === undefined);
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.selectWindow', '7d'), '7d');
    try {
      assert.equal(await vscode.commands.executeCommand('htlcMonitor.showTopOpportunities'), true);
      const rendered = await waitFor('the new panel to render', () => a.panel()?.lastRendered, 45_000);
      assert.equal(rendered.window, '7d', 'the first state shown');
      assert.equal(a.panel()!.window, '7d');
    } finally {
      await vscode.commands.executeCommand('htlcMonitor.selectWindow', '24h');
      await vscode.window.tabGroups.close(tabs());
    }
  });

  test('export: CSV and JSON through the extension, formula-safe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-export-'));
    const csvUri = vscode.Uri.file(path.join(dir, 'out.csv'));
    a.setExportTarget(csvUri);
    try {
      const got = await vscode.commands.executeCommand<vscode.Uri>('htlcMonitor.export', 'csv');
      assert.equal(got?.fsPath, csvUri.fsPath);
      const csv = fs.readFileSync(csvUri.fsPath, 'utf8');
      const lines = csv.trim().split('\r\n');
      assert.match(lines[0], /^rank,channel_id,scid,alias,failed_forwards/);
      assert.ok(lines.length > 1);
      assert.ok(!/,=HYPERLINK/.test(csv), 'formulas are neutralised');
      const jsonUri = vscode.Uri.file(path.join(dir, 'out.json'));
      a.setExportTarget(jsonUri);
      await vscode.commands.executeCommand('htlcMonitor.export', 'json');
      const doc = JSON.parse(fs.readFileSync(jsonUri.fsPath, 'utf8'));
      assert.ok(Array.isArray(doc.opportunities) && doc.opportunities.length > 0);
      assert.match(doc.opportunities[0].missedFeesMsat, /^\d+$/);
    } finally {
      a.setExportTarget(undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('window and actionable-only filter', async () => {
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.selectWindow', '1h'), '1h');
    const inHour = a.treeItems().length;
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.selectWindow', 'all'), 'all');
    assert.ok(a.treeItems().length >= inHour);
    await vscode.commands.executeCommand('htlcMonitor.showActionableOnly');
    const actionable = a.treeItems().length;
    await vscode.commands.executeCommand('htlcMonitor.showAllChannels');
    assert.ok(a.treeItems().length >= actionable);
    await vscode.commands.executeCommand('htlcMonitor.selectWindow', '24h');
  });

  test('disconnected: spinner while reconnecting, the reason in the tree, back when the node returns', async () => {
    await a.setDemoMode('down');
    await waitFor('reconnecting', () => a.connection().state === 'reconnecting', 30_000);
    assert.match(a.statusText(), /^\$\(sync~spin\) /);
    assert.ok(a.connection().reason, 'a reason');
    await waitFor('the reason in the tree', () => /^(Reconnecting|Disconnected): /.test(a.treeMessage() ?? ''));
    console.log(`    reconnecting: ${a.treeMessage()}`);
    await a.setDemoMode('ok');
    await waitFor('connected again', () => a.connection().state === 'connected', 45_000, 250);
    assert.match(a.statusText(), /^\$\(zap\) /);
  });

  test('stop and reset', async () => {
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
    await waitFor('stopped', () => a.connection().state === 'stopped');
    assert.match(a.statusText(), /^\$\(debug-disconnect\) /);
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.resetStatistics', { confirm: false }), true);
    assert.deepEqual(a.treeItems(), []);
    assert.match(a.statusText(), / 0 fails\/1h$/);
  });
});
