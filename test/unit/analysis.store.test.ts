import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { analyzeOpportunities, MemoryWindowSource, StoreWindowSource, WINDOW_KEYS, type WindowKey } from '../../src/core/analysis';
import { unknownChannel } from '../../src/core/context/types';
import type { Outcome } from '../../src/core/normalizer';
import { formatScid } from '../../src/core/scid';
import { HtlcStore } from '../../src/core/store';
import { BIG, DAY, failure, prng, REASONS, rmDir, success, tmpDir, U64_MAX } from './store-helpers';

const HOUR = 3_600_000;
/** On a whole hour (not a whole day): the memory source's windows start on hours. */
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0, 0);

function workload(n: number, seed: number): Outcome[] {
  const rnd = prng(seed);
  const chans = [1n, 2n, 3n, 0n, BIG, U64_MAX, (900_000n << 40n) | 5n];
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) {
    // 40 days back to now, with events on hour and day boundaries too
    const ts = rnd() < 0.05 ? NOW - Math.floor(rnd() * 40) * DAY : rnd() < 0.05 ? NOW - Math.floor(rnd() * 900) * HOUR : NOW - 1 - Math.floor(rnd() * 40 * DAY);
    const outChan = chans[Math.floor(rnd() * chans.length)];
    const inChan = chans[Math.floor(rnd() * chans.length)] || 7n;
    const outAmt = BigInt(Math.floor(rnd() * 5e9));
    const fee = rnd() < 0.3 ? 0n : BigInt(Math.floor(rnd() * 5000));
    if (rnd() < 0.25) out.push(success({ timestampMs: ts, outgoingChanId: outChan, incomingChanId: inChan, outgoingAmtMsat: outAmt, incomingAmtMsat: outAmt + fee }));
    else
      out.push(
        failure({ timestampMs: ts, outgoingChanId: outChan, incomingChanId: inChan, outgoingAmtMsat: outAmt, incomingAmtMsat: outAmt + fee, reason: REASONS[Math.floor(rnd() * REASONS.length)] }),
      );
  }
  return out.sort((a, b) => a.timestampMs - b.timestampMs);
}

const byChan = (a: { chanId: string }, b: { chanId: string }) => (a.chanId < b.chanId ? -1 : a.chanId > b.chanId ? 1 : 0);
const byPair = (a: { incomingChanId: string; outgoingChanId: string }, b: { incomingChanId: string; outgoingChanId: string }) =>
  `${a.incomingChanId}>${a.outgoingChanId}` < `${b.incomingChanId}>${b.outgoingChanId}` ? -1 : 1;

describe('StoreWindowSource', () => {
  let dir: string;
  let store: HtlcStore;
  let memory: MemoryWindowSource;
  let source: StoreWindowSource;

  before(async () => {
    dir = tmpDir('htlc-storewin-');
    store = await HtlcStore.open(path.join(dir, 'h.sqlite'), { now: () => NOW, flushIntervalMs: 0, lock: false });
    const outcomes = workload(6000, 11);
    memory = new MemoryWindowSource({ now: () => NOW, startedAtMs: outcomes[0].timestampMs });
    for (const o of outcomes) memory.record(o);
    store.record(outcomes);
    source = new StoreWindowSource(store, { startedAtMs: outcomes[0].timestampMs });
  });
  after(async () => {
    await store.close();
    rmDir(dir);
  });

  for (const w of WINDOW_KEYS) {
    it(`agrees with MemoryWindowSource on ${w}: channel rows, route pairs, failure samples, coverage`, () => {
      const mc = memory.channelRows(w, NOW).sort(byChan);
      const sc = source.channelRows(w, NOW).sort(byChan);
      assert.ok(mc.length > 0);
      assert.deepStrictEqual(sc, mc);
      assert.deepStrictEqual(source.routePairRows(w, NOW).sort(byPair), memory.routePairRows(w, NOW).sort(byPair));
      for (const r of mc) assert.deepStrictEqual(source.failureSamples(r.chanId, w, NOW), memory.failureSamples(r.chanId, w, NOW), `samples of ${r.chanId}`);
      assert.deepStrictEqual({ ...source.coverage(w, NOW), source: 'memory' }, memory.coverage(w, NOW));
    });
  }

  it('the analysis gives the same report from either source', () => {
    const ctx = { get: (id: string) => unknownChannel(id, formatScid(id), NOW), open: () => [] };
    for (const w of ['24h', '7d'] as WindowKey[]) {
      const a = analyzeOpportunities(memory, ctx, { window: w, nowMs: NOW });
      const b = analyzeOpportunities(source, ctx, { window: w, nowMs: NOW });
      assert.deepStrictEqual({ ...b, coverage: { ...b.coverage, source: 'memory' } }, a);
    }
  });

  it('merges rows of an alias SCID into its canonical channel', () => {
    const merged = new StoreWindowSource(store, { context: { resolve: (id) => (String(id) === '2' ? '1' : String(id)) } });
    const rows = merged.channelRows('all', NOW);
    assert.equal(rows.find((r) => r.chanId === '2'), undefined);
    const one = rows.find((r) => r.chanId === '1')!;
    const plain = source.channelRows('all', NOW);
    const f = (id: string) => plain.find((r) => r.chanId === id)!.failures;
    assert.equal(one.failures, f('1') + f('2'));
  });
});
