import { strict as assert } from 'node:assert';
import { analyzeOpportunities, MemoryWindowSource, StoreWindowSource, type ContextLookup } from '../../src/core/analysis';
import { unknownChannel } from '../../src/core/context/types';
import { formatScid } from '../../src/core/scid';
import { HtlcStore } from '../../src/core/store';
import { failure, rmDir, tmpDir } from './store-helpers';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0, 0);
const CHAN = 123_456n;
const ctx: ContextLookup = { get: (id) => unknownChannel(id, formatScid(id), NOW), open: () => [] };

/** n fee-insufficient failures on CHAN, evenly spread over the `hours` before NOW. */
function failures(n: number, hours: number) {
  return Array.from({ length: n }, (_, i) =>
    failure({ timestampMs: NOW - Math.round(((n - i) / n) * hours * HOUR), outgoingChanId: CHAN, incomingChanId: 7n, outgoingAmtMsat: 1_000_000_000n, incomingAmtMsat: 1_000_100_000n, reason: 'FEE_INSUFFICIENT' }),
  );
}

const hours = (ms: number) => Math.round((ms / HOUR) * 100) / 100;

describe('analysis: observation is the span the evidence covers', () => {
  it('memory: events from before monitoring started (a backfill) count as observed, bounded by the window', () => {
    const ws = new MemoryWindowSource({ now: () => NOW, startedAtMs: NOW - 5 * 60_000 }); // monitoring for 5 min
    for (const o of failures(20, 3)) ws.record(o);
    assert.equal(hours(ws.coverage('24h', NOW).observedMs), 3, 'from the earliest event, 3 h ago');
    assert.equal(hours(ws.coverage('1h', NOW).observedMs), 1, 'never more than the window');
    assert.equal(hours(ws.coverage('all', NOW).observedMs), 3);
    assert.equal(ws.coverage('all', NOW).fromMs, NOW - 3 * HOUR);
  });

  it('memory: live events only → the monitoring run time, so a few minutes stay below the minimum', () => {
    const ws = new MemoryWindowSource({ now: () => NOW, startedAtMs: NOW - 6 * 60_000 });
    for (const o of failures(20, 0.05)) ws.record(o); // the last 3 minutes
    assert.equal(hours(ws.coverage('24h', NOW).observedMs), 0.1);
    const r = analyzeOpportunities(ws, ctx, { nowMs: NOW, window: '24h' });
    assert.equal(r.recommendations.length, 0);
    assert.match(r.summary.message, /Nothing to recommend yet: 6 min observed, recommendations need at least 1 h/);
    assert.equal(r.coverage.observedMs, 6 * 60_000);
  });

  it('memory: with 3 h of backfilled evidence, rows are no longer held back by "0 min observed"', () => {
    const ws = new MemoryWindowSource({ now: () => NOW, startedAtMs: NOW }); // just started
    for (const o of failures(20, 3)) ws.record(o);
    const r = analyzeOpportunities(ws, ctx, { nowMs: NOW, window: '24h' });
    assert.doesNotMatch(r.summary.message, /Nothing to recommend yet/);
    const opp = r.channels.find((c) => c.chanId === CHAN.toString());
    assert.ok(opp);
    assert.ok(!opp.notes.some((n) => /observed: below the minimum/.test(n)), opp.notes.join(' | '));
    assert.equal(r.coverage.observedMs, 3 * HOUR);
  });

  it('store: from the earliest stored event (historyStartMs), not the session start; bounded by the window', async () => {
    const dir = tmpDir('cov');
    const store = await HtlcStore.open(`${dir}/h.sqlite`, { now: () => NOW, flushIntervalMs: 0, lock: false });
    try {
      store.record(failures(20, 5));
      const src = new StoreWindowSource(store, { startedAtMs: NOW - 60_000 });
      assert.equal(hours(src.coverage('24h', NOW).observedMs), 5);
      assert.equal(hours(src.coverage('1h', NOW).observedMs), 1);
      const fresh = new StoreWindowSource(store, { startedAtMs: NOW - 60_000 });
      assert.equal(hours(fresh.coverage('all', NOW).observedMs), 5);
      // and an empty store: the session only
      const dir2 = tmpDir('cov2');
      const empty = await HtlcStore.open(`${dir2}/h.sqlite`, { now: () => NOW, flushIntervalMs: 0, lock: false });
      assert.equal(new StoreWindowSource(empty, { startedAtMs: NOW - 30 * 60_000 }).coverage('24h', NOW).observedMs, 30 * 60_000);
      await empty.close();
      rmDir(dir2);
    } finally {
      await store.close();
      rmDir(dir);
    }
  });
});
