import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HtlcMonitorTestApi } from '../../../src/extension/testApi';
import { api, sleep, waitFor } from './util';

/** A node of its own (seed → identity pubkey), so this suite's history file is its own. */
const SEED = 77;

async function startDemo(a: HtlcMonitorTestApi, eventsPerSecond: number): Promise<void> {
  const address = await vscode.commands.executeCommand<string>('htlcMonitor.startDemoNode', { seed: SEED, eventsPerSecond });
  assert.match(address ?? '', /^127\.0\.0\.1:\d+$/);
  await waitFor('connected to the demo node', () => a.connection().state === 'connected', 30_000);
}

async function stop(a: HtlcMonitorTestApi): Promise<void> {
  await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
  await waitFor('stopped', () => a.connection().state === 'stopped');
}

const shape = (a: HtlcMonitorTestApi) => a.treeItems().map((i) => `${i.id} ${i.description}`);
const count = (a: HtlcMonitorTestApi) => /([\d,]+) fails\//.exec(a.statusText())?.[1];

suite('history: one store per node in globalStorage, restored after a restart', function () {
  let a: HtlcMonitorTestApi;

  suiteSetup(async function () {
    this.timeout(90_000);
    a = await api();
    await vscode.commands.executeCommand('htlcMonitor.failingChannels.focus');
    await vscode.commands.executeCommand('htlcMonitor.selectWindow', 'all');
    await startDemo(a, 150);
    await waitFor('failing channels in the tree', () => a.treeItems().length >= 3, 60_000, 250);
    await sleep(1500);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
    await vscode.commands.executeCommand('htlcMonitor.selectWindow', '24h');
  });

  test('the store file is under globalStorageUri, named by the node pubkey, and saved at stop', async () => {
    const pubkey = a.nodePubkey();
    assert.match(pubkey ?? '', /^[0-9a-f]{66}$/);
    const file = a.historyFile();
    assert.equal(file, path.join(a.globalStorage(), `htlc-${pubkey!.slice(0, 16)}.sqlite`));
    await stop(a);
    assert.ok(fs.statSync(file!).size > 0, `${file} written`);
    assert.ok(!fs.existsSync(`${file}.lock`), 'the lock is released at stop');
  });

  test('after deactivate + activate, the tree shows the same channels and totals (from the file)', async function () {
    this.timeout(90_000);
    await sleep(1200); // the status bar re-renders (throttled) once the stopped store is closed
    const before = shape(a);
    const status = count(a);
    assert.ok(before.length >= 3);
    console.log(`    before the restart: ${before.length} channels, ${status} fails/1h; first: ${before.slice(0, 2).join(' | ')}`);

    await a.restartExtension();
    assert.deepEqual(a.treeItems(), [], 'a new instance starts with empty memory');

    await startDemo(a, 0); // no new traffic: what the tree shows is the history alone
    const after = await waitFor('the restored channels', () => {
      const s = shape(a);
      return s.length === before.length ? s : undefined;
    }, 20_000, 200);
    assert.deepEqual(after, before);
    assert.equal(count(a), status);
    await vscode.commands.executeCommand('htlcMonitor.selectWindow', '24h');
    assert.ok(a.treeItems().length > 0, 'the 24 h window comes from the store as well');
    await vscode.commands.executeCommand('htlcMonitor.selectWindow', 'all');
  });

  test('export: the stored history per channel as formula-safe CSV', async () => {
    const out = vscode.Uri.file(path.join(a.globalStorage(), 'export-test.csv'));
    a.setExportTarget(out);
    try {
      await vscode.commands.executeCommand('htlcMonitor.export', 'history-channels-csv');
      const lines = fs.readFileSync(out.fsPath, 'utf8').trim().split('\r\n');
      assert.match(lines[0], /^channel_id,scid,alias,failures,missed_fees_msat/);
      assert.ok(lines.length - 1 >= a.treeItems().length, 'a row per channel with forwards in the window');
      assert.ok(!/,=/.test(lines.join('\n')), 'no cell starts a formula');
    } finally {
      a.setExportTarget(undefined);
      fs.rmSync(out.fsPath, { force: true });
    }
  });

  test('Reset Statistics empties the stored history too', async function () {
    this.timeout(60_000);
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.resetStatistics', { confirm: false }), true);
    assert.deepEqual(a.treeItems(), []);
    await stop(a);
    await a.restartExtension();
    await startDemo(a, 0);
    await sleep(1500);
    assert.deepEqual(a.treeItems(), [], 'nothing comes back from the file');
    assert.match(a.statusText(), / 0 fails\//);
  });
});
