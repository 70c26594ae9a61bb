// The extension's history plumbing without VS Code: NodeHistory (one store per node pubkey,
// restored before events, reset while stopped) and HistoryWindowSource (the UI's windows from the
// store, memory as the fallback).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HtlcMonitor } from '../../src/core/monitor';
import { StatsEngine } from '../../src/core/stats';
import { storePathFor } from '../../src/core/store';
import { HistoryWindowSource } from '../../src/extension/data/historyWindowSource';
import { MemoryWindowSource } from '../../src/extension/data/memoryWindowSource';
import { NodeHistory } from '../../src/extension/data/nodeHistory';
import { renderHistoryExport } from '../../src/extension/export/historyExport';
import { failure, rmDir, success, tmpDir } from './store-helpers';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const PK_A = '02' + 'a'.repeat(64);
const PK_B = '03' + 'b'.repeat(64);
const logger = { debug() {}, info() {}, warn() {}, error() {} };

function monitor(): HtlcMonitor {
  return new HtlcMonitor({ connection: () => { throw new Error('not used'); } });
}

describe('extension: NodeHistory', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir('htlc-nodehist-')));
  afterEach(() => rmDir(dir));

  it('opens the node\'s file in the folder, restores it into the engine, reuses it on reconnect and switches on another node', async () => {
    const h = new NodeHistory({ dir, logger, retentionDays: 30, storeOptions: { flushIntervalMs: 0, now: () => NOW } });
    const stats = new StatsEngine();
    const m = monitor();
    const s1 = (await h.open(PK_A, stats, m))!;
    assert.equal(s1.file, storePathFor(dir, PK_A));
    s1.record([failure({ timestampMs: NOW - 60_000, outgoingChanId: 5n }), failure({ timestampMs: NOW - 30_000, outgoingChanId: 5n })]);
    assert.equal(await h.open(PK_A, stats, m), s1, 'a reconnect keeps the open store');
    await h.close();
    assert.ok(fs.existsSync(s1.file));

    const fresh = new StatsEngine();
    const m2 = monitor();
    const s2 = (await h.open(PK_A, fresh, m2))!;
    assert.equal(fresh.channel(5n)?.failedForwards, 2, 'restored before any event');
    const s3 = (await h.open(PK_B, fresh, m2))!;
    assert.notEqual(s3.file, s2.file);
    assert.equal(fresh.channel(5n), undefined, 'another node starts from its own (empty) history');
    await h.close();
    h.dispose();
  });

  it('a new retention reopens the store with it, keeping what was recorded', async () => {
    const h = new NodeHistory({ dir, logger, retentionDays: 30, storeOptions: { flushIntervalMs: 0, now: () => NOW } });
    const s = (await h.open(PK_A, new StatsEngine(), monitor()))!;
    s.record([failure({ timestampMs: NOW - 1000, outgoingChanId: 9n })]);
    await h.setRetentionDays(7);
    assert.notEqual(h.store, s);
    assert.equal(h.store!.windows('all', NOW).node.failures, 1);
    await h.close();
  });

  it('reset empties the open store, or the last node\'s file while stopped', async () => {
    const h = new NodeHistory({ dir, logger, retentionDays: 30, storeOptions: { flushIntervalMs: 0, now: () => NOW } });
    const s = (await h.open(PK_A, new StatsEngine(), monitor()))!;
    s.record([failure({ timestampMs: NOW - 1000, outgoingChanId: 9n })]);
    await h.close();
    await h.reset(); // stopped: the file is opened, emptied, saved
    const stats = new StatsEngine();
    await h.open(PK_A, stats, monitor());
    assert.equal(stats.ranked().length, 0);
    assert.equal(h.store!.windows('all', NOW).rows.length, 0);
    h.store!.record([failure({ timestampMs: NOW - 1000, outgoingChanId: 9n })]);
    await h.reset();
    assert.equal(h.store!.windows('all', NOW).node.failures, 0);
    await h.close();
  });
});

describe('extension: HistoryWindowSource', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir('htlc-histwin-')));
  afterEach(() => rmDir(dir));

  it('answers from the store when one is open (covering earlier sessions), from memory otherwise', async () => {
    const h = new NodeHistory({ dir, logger, retentionDays: 30, storeOptions: { flushIntervalMs: 0, now: () => NOW } });
    const memory = new MemoryWindowSource({ now: () => NOW });
    const ui = new HistoryWindowSource({ memory, store: () => h.store, onStoreChange: (l) => h.onDidChange(l), now: () => NOW });
    memory.ingest([failure({ timestampMs: NOW - 60_000, outgoingChanId: 7n })]);
    assert.deepEqual(ui.channels('24h', NOW).map((c) => c.channelId), ['7']);
    assert.equal(ui.kind, 'in-memory');

    const store = (await h.open(PK_A, new StatsEngine(), monitor()))!;
    // history of earlier days: 3 days ago on channel 8, plus a success and a failure on the incoming link
    store.record([
      failure({ timestampMs: NOW - 3 * 86_400_000, outgoingChanId: 8n, incomingAmtMsat: 1_005_000n, outgoingAmtMsat: 1_000_000n, failureString: '=cmd|x' }),
      failure({ timestampMs: NOW - 2 * 86_400_000, outgoingChanId: 8n, incomingAmtMsat: 1_005_000n, outgoingAmtMsat: 1_000_000n }),
      failure({ timestampMs: NOW - 10 * 60_000, outgoingChanId: 0n }),
      success({ timestampMs: NOW - 5 * 60_000, outgoingChanId: 8n }),
    ]);
    ui.invalidate();
    assert.equal(ui.kind, 'sql.js store');
    assert.deepEqual(ui.channels('24h', NOW), []);
    const week = ui.channels('7d', NOW);
    assert.deepEqual(week.map((c) => [c.channelId, c.failures, c.successes, c.missedFeesMsat]), [['8', 2, 1, 10_000n]]);
    assert.deepEqual(ui.totals('7d', NOW), { failures: 3, missedFeesMsat: 10_000n + 1_000n, channels: 1 });
    assert.equal(ui.recentFailures('8', '7d', 10, NOW).length, 2);
    const series = ui.failureSeries('7d', NOW);
    assert.equal(series.series.reduce((n, s) => n + s.counts.reduce((x, y) => x + y, 0), 0), 3);
    const csv = renderHistoryExport(store, 'history-failures-csv', '7d', { nowMs: NOW }).text;
    assert.match(csv, /"'=cmd\|x"/, 'failure strings are formula-safe');
    assert.match(renderHistoryExport(store, 'history-channels-csv', '7d', { nowMs: NOW }).text, /^channel_id,scid,alias,failures/);

    await h.close();
    assert.deepEqual(ui.channels('24h', NOW).map((c) => c.channelId), ['7'], 'memory again once the store is closed');
    ui.dispose();
    h.dispose();
  });
});
