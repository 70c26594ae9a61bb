import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type { Outcome } from '../../src/core/normalizer';
import { compareChannels, StatsEngine } from '../../src/core/stats';
import { HtlcStore, storePathFor } from '../../src/core/store';
import { planWindow, WINDOW_MS, WindowName, WindowTotals } from '../../src/core/store/windows';
import { BIG, DAY, failure, prng, REASONS, rmDir, success, tmpDir, U64_MAX } from './store-helpers';
import { until } from './wait';

const NOW = Date.UTC(2026, 10, 27, 13, 37, 11, 123);

/** Everything observable about an engine: ranking, totals, rings, node. */
function snapshot(engine: StatsEngine, nowMs: number) {
  return {
    ranked: engine.ranked().map((c) => ({
      key: c.key,
      failed: c.failedForwards,
      ok: c.successfulForwards,
      missed: c.missedFeesMsat,
      amount: c.missedAmountMsat,
      earned: c.earnedFeesMsat,
      firstSeen: c.firstSeenMs,
      lastFailure: c.lastFailureAtMs,
      lastActivity: c.lastActivityMs,
      reasons: [...c.failuresByReason].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      top: c.topReason,
      recent: c.recentFailures(),
    })),
    top3: engine.top(3).map((c) => c.key),
    node: engine.node.toJSON(),
    fails1h: engine.node.failuresSince(nowMs, 3_600_000),
    fails24h: engine.node.failuresSince(nowMs, DAY),
  };
}

function workload(n: number, seed: number, startMs: number, spanMs: number): Outcome[] {
  const rnd = prng(seed);
  const out: Outcome[] = [];
  const chans = [1n, 2n, 3n, 0n, BIG, U64_MAX, (900_000n << 40n) | 5n, (16_000_000n << 40n) | 1n];
  for (let i = 0; i < n; i++) {
    const ts = startMs + Math.floor((i / n) * spanMs);
    const outChan = chans[Math.floor(rnd() * chans.length)];
    const inChan = chans[Math.floor(rnd() * chans.length)] || 7n;
    const big = rnd() < 0.2;
    const outAmt = big ? BIG + BigInt(Math.floor(rnd() * 1e6)) : BigInt(Math.floor(rnd() * 5e6));
    const fee = rnd() < 0.3 ? 0n : big ? BIG : BigInt(Math.floor(rnd() * 5000));
    if (rnd() < 0.25) out.push(success({ timestampMs: ts, outgoingChanId: outChan, incomingChanId: inChan, outgoingAmtMsat: outAmt, incomingAmtMsat: outAmt + fee }));
    else
      out.push(
        failure({
          timestampMs: ts,
          outgoingChanId: outChan,
          incomingChanId: inChan,
          outgoingAmtMsat: rnd() < 0.1 ? 0n : outAmt,
          incomingAmtMsat: outAmt + fee,
          reason: REASONS[Math.floor(rnd() * REASONS.length)],
          failureString: rnd() < 0.5 ? '' : `=HYPERLINK("x") ${i}`,
        }),
      );
  }
  return out;
}

describe('store: storePathFor', () => {
  it('keys the file by the first 16 hex digits of the pubkey and refuses anything else', () => {
    const pk = '02' + 'AB'.repeat(32);
    assert.equal(storePathFor('/data', pk), path.join('/data', 'htlc-02ababababababab.sqlite'));
    for (const bad of ['', '../../etc/passwd', '02' + 'zz'.repeat(32), '02ab', 'g'.repeat(66), '02' + 'ab'.repeat(32) + '/x']) {
      assert.throws(() => storePathFor('/data', bad), RangeError);
    }
  });
});

describe('store: restart restores the stats', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('restores ranking, totals, reasons, rings and node totals exactly (values > 2^53 included)', async () => {
    const file = path.join(dir, 'h.sqlite');
    const outcomes = workload(3000, 7, NOW - 3 * DAY, 3 * DAY);
    const before = new StatsEngine({ recentPerChannel: 20, now: () => NOW });
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    // as the monitor does: apply to the engine, then hand the batch to the store
    for (let i = 0; i < outcomes.length; i += 250) {
      const batch = outcomes.slice(i, i + 250);
      for (const o of batch) before.apply(o);
      store.record(batch);
      if (i % 1000 === 0) await store.flush();
    }
    await store.close();

    const reopened = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    const after = new StatsEngine({ recentPerChannel: 20, now: () => NOW });
    const info = reopened.restoreInto(after);
    assert.equal(info.channels, before.channelCount);
    assert.deepEqual(snapshot(after, NOW), snapshot(before, NOW));
    assert.ok(before.ranked().some((c) => c.missedFeesMsat > BIG), 'workload has totals above 2^53');
    assert.ok(before.channel(U64_MAX), 'a uint64-max channel id round-trips');

    // and it keeps counting from there, identically
    const more = workload(500, 8, NOW - 1000, 900);
    for (const o of more) before.apply(o);
    reopened.record(more);
    await reopened.close();
    const third = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    const again = new StatsEngine({ recentPerChannel: 20, now: () => NOW });
    third.restoreInto(again);
    assert.deepEqual(snapshot(again, NOW), snapshot(before, NOW));
    await third.close();
  });

  it('restores the most recently active channels when the engine holds fewer', async () => {
    const file = path.join(dir, 'h.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    store.record(Array.from({ length: 10 }, (_, i) => failure({ timestampMs: NOW - 10_000 + i, outgoingChanId: BigInt(i + 1) })));
    const small = new StatsEngine({ maxChannels: 4, now: () => NOW });
    const info = store.restoreInto(small);
    assert.deepEqual(info, { channels: 4, skipped: 6, recentFailures: 4 });
    assert.deepEqual(small.ranked().map((c) => c.key).sort(), ['10', '7', '8', '9']);
    assert.equal(small.evictions, 0);
    assert.equal(small.node.failedForwards, 10);
    await store.close();
  });

  it('attach() records the monitor batches and lifetime counters', async () => {
    const { EventEmitter } = await import('node:events');
    // A minimal stand-in with the monitor's surface used by attach().
    const ee = new EventEmitter();
    const counters = { received: 5, ignored: 1, duplicates: 0, dropped: 0, malformed: 0, failures: 3, successes: 1, listenerErrors: 0, reconnects: 0, pendingEvicted: 0, evictions: 0 };
    const fake = {
      on: (ev: string, l: (...a: unknown[]) => void) => (ee.on(ev, l), { dispose: () => ee.off(ev, l) }),
      get counters() {
        return counters;
      },
      nodeInfo: { identity_pubkey: '03' + 'cd'.repeat(32) },
    };
    const file = path.join(dir, 'h.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    const sub = store.attach(fake as never);
    ee.emit('changed', { outcomes: [failure({ timestampMs: NOW }), success({ timestampMs: NOW })], channels: new Set(['222']) });
    assert.equal(store.sizes.pending, 2);
    sub.dispose();
    ee.emit('changed', { outcomes: [failure({ timestampMs: NOW })], channels: new Set() });
    assert.equal(store.sizes.pending, 2, 'nothing recorded after dispose');
    await store.close();
    const again = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, readOnly: true });
    assert.equal(again.nodePubkey, fake.nodeInfo.identity_pubkey);
    assert.equal(again.lifetimeCounters.received, 5);
    assert.equal(again.windows('24h', NOW).node.failures, 1);
    await again.close();
  });
});

describe('store: batched writes', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('writes nothing per event; flushes on the interval only when something changed, and on close', async () => {
    const file = path.join(dir, 'h.sqlite');
    let writes = 0;
    const store = await HtlcStore.open(file, {
      flushIntervalMs: 40,
      now: () => NOW,
      fs: {
        writeFileDurable: async (f, data) => {
          writes++;
          fs.writeFileSync(f, data);
        },
      },
    });
    // Count the interval's ticks and wait for them, instead of sleeping and hoping they came: the
    // timer calls flush() on the instance, which this wraps.
    let ticks = 0;
    let last: Promise<unknown> = Promise.resolve();
    const flush = store.flush.bind(store);
    store.flush = () => {
      ticks++;
      const run = flush();
      last = run.catch(() => undefined);
      return run;
    };
    const afterTicks = async (n: number) => {
      const target = ticks + n;
      await until(() => ticks >= target, `${n} ticks of the flush interval`);
      await last;
    };
    await afterTicks(1);
    const initial = writes; // the new file is written once
    assert.equal(initial, 1);
    await afterTicks(3);
    assert.equal(writes, initial, 'no write while idle');
    for (let i = 0; i < 1000; i++) store.record([failure({ timestampMs: NOW - i })]);
    assert.equal(writes, initial, 'record() never writes');
    assert.equal(store.windows('1h', NOW).node.failures, 1000, 'queries see unflushed rows');
    await afterTicks(3);
    assert.equal(writes, initial + 1, 'one write for the whole batch');
    store.record([failure({ timestampMs: NOW })]);
    await store.close();
    assert.equal(writes, initial + 2, 'final flush on close');
    assert.ok(fs.existsSync(`${file}.prev`), 'previous copy kept');
    assert.ok(!fs.existsSync(`${file}.tmp`));
    assert.ok(!fs.existsSync(`${file}.lock`), 'lock released');
  });

  it('statements and pragmas still work after export (flush after flush)', async () => {
    const file = path.join(dir, 'h.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    for (let k = 0; k < 5; k++) {
      store.record([failure({ timestampMs: NOW - k }), success({ timestampMs: NOW - k })]);
      const info = await store.flush();
      assert.ok(info && info.bytes > 0);
      assert.equal(store.windows('1h', NOW).node.failures, k + 1);
    }
    await store.close();
  });

  it('a second process on the same file opens read-only instead of overwriting it', async () => {
    const file = path.join(dir, 'h.sqlite');
    const warnings: string[] = [];
    const a = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    a.record([failure({ timestampMs: NOW })]);
    await a.flush();
    const b = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} } });
    assert.equal(b.readOnly, true);
    assert.equal(b.lockedBy?.pid, process.pid);
    assert.match(warnings.join('\n'), /in use by process/);
    b.record([failure({ timestampMs: NOW })]);
    assert.equal(await b.flush(), undefined);
    assert.equal(b.windows('1h', NOW).node.failures, 2, 'it still counts in memory');
    await b.close();
    await a.close();
    const c = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, readOnly: true });
    assert.equal(c.windows('1h', NOW).node.failures, 1);
    await c.close();
  });

  it('bounds pending rows (maxPending) and warns when the file belongs to another node', async () => {
    const file = path.join(dir, 'h.sqlite');
    const warnings: string[] = [];
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, maxPending: 100 });
    store.on('warning', (m) => warnings.push(m));
    for (let i = 0; i < 250; i++) store.record([failure({ timestampMs: NOW - i })]);
    assert.ok(store.sizes.pending < 100, `pending ${store.sizes.pending}`);
    assert.equal(store.sizes.rawFailures, 250);
    store.setNode('02' + '11'.repeat(32));
    store.setNode('02' + '11'.repeat(32));
    assert.equal(warnings.length, 0);
    store.setNode('03' + '22'.repeat(32));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /belongs to node 0211/);
    assert.equal(store.nodePubkey, '02' + '11'.repeat(32), 'the first node stays the owner');
    await store.close();
    store.record([failure({ timestampMs: NOW })]);
    assert.equal(store.droppedAfterClose, 1);
  });

  it('a stale lock of a dead process is taken over (also one with our own pid, as in a container)', async () => {
    const file = path.join(dir, 'h.sqlite');
    const host = (await import('node:os')).hostname();
    for (const pid of [2 ** 22 + 12345, process.pid]) {
      fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid, host, startedAt: '' }));
      const s = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
      assert.equal(s.readOnly, false, `pid ${pid}`);
      await s.close();
      assert.ok(!fs.existsSync(`${file}.lock`));
    }
  });
});

describe('store: retention and roll-ups keep their limits', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('raw events by age and row cap, roll-ups by days and row cap; complete flags follow', async () => {
    const file = path.join(dir, 'h.sqlite');
    let now = NOW - 100 * DAY;
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => now, retentionDays: 10, maxRawEvents: 500, maxRawSuccesses: 100, rollupDays: 40, maxRollupRows: 100 });
    const maxBytes: number[] = [];
    for (let d = 0; d < 100; d++) {
      const batch: Outcome[] = [];
      for (let i = 0; i < 60; i++) {
        const ts = now + i * 1000;
        batch.push(failure({ timestampMs: ts, outgoingChanId: BigInt(1 + (i % 2)), reason: REASONS[i % 2] }));
        if (i % 3 === 0) batch.push(success({ timestampMs: ts, outgoingChanId: BigInt(1 + (i % 2)) }));
      }
      store.record(batch);
      const info = await store.flush();
      maxBytes.push(info!.bytes);
      const s = store.sizes;
      assert.ok(s.rawFailures <= 500, `raw failures ${s.rawFailures}`);
      assert.ok(s.rawSuccesses <= 100);
      assert.ok(s.rollupFailureRows + s.rollupSuccessRows <= 100);
      now += DAY;
    }
    const s = store.sizes;
    assert.equal(s.rawFailures, 500);
    assert.equal(s.rawSuccesses, 100);
    // 2 failure rows + 2 success rows a day: 100 rows hold 25 whole days (fewer than rollupDays 40)
    assert.equal(s.rollupFailureRows, 25 * 2);
    assert.equal(s.rollupSuccessRows, 25 * 2);
    // the file stops growing once the caps bind
    const late = maxBytes.slice(50);
    assert.ok(Math.max(...late) <= Math.min(...late) * 1.25, `file size bounded: ${Math.min(...late)}..${Math.max(...late)}`);
    const t = now - DAY + 59_000;
    // raw failures hold the last ~8 days (500 at 60 a day), raw successes ~5 days (100 at 20 a day)
    assert.equal(store.windows('1h', t).complete, true);
    assert.equal(store.windows('24h', t).complete, true);
    assert.equal(store.windows('7d', t).complete, false, 'raw successes of the partial first day are gone');
    assert.equal(store.windows('30d', t).complete, false);
    assert.equal(store.windows('all', t).complete, false, 'roll-ups dropped days');
    assert.equal(store.windows('1h', t).node.failures, 60);
    await store.close();
  });
});

/** Brute force: every event with ts >= since (all events for 'all'). */
function bruteForce(outcomes: Outcome[], window: WindowName, nowMs: number) {
  const since = window === 'all' ? -Infinity : nowMs - WINDOW_MS[window];
  const per = new Map<string, WindowTotals>();
  const pairs = new Map<string, WindowTotals>();
  const node: WindowTotals = { failures: 0, failuresByReason: new Map(), missedFeesMsat: 0n, missedAmountMsat: 0n, successes: 0, earnedFeesMsat: 0n, forwardedAmountMsat: 0n };
  const add = (t: WindowTotals, o: Outcome) => {
    if (o.kind === 'success') {
      t.successes++;
      t.earnedFeesMsat += o.feeMsat;
      t.forwardedAmountMsat += o.outgoingAmtMsat;
      return;
    }
    const amt = o.missedFeeMsat > 0n ? o.outgoingAmtMsat : 0n;
    t.failures++;
    t.missedFeesMsat += o.missedFeeMsat;
    t.missedAmountMsat += amt;
    const r = t.failuresByReason.get(o.reason) ?? { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
    r.count++;
    r.missedFeesMsat += o.missedFeeMsat;
    r.missedAmountMsat += amt;
    t.failuresByReason.set(o.reason, r);
  };
  const get = (m: Map<string, WindowTotals>, k: string) => {
    let t = m.get(k);
    if (!t) m.set(k, (t = { failures: 0, failuresByReason: new Map(), missedFeesMsat: 0n, missedAmountMsat: 0n, successes: 0, earnedFeesMsat: 0n, forwardedAmountMsat: 0n }));
    return t;
  };
  for (const o of outcomes) {
    if (o.timestampMs < since) continue;
    add(node, o);
    add(get(pairs, `${o.incomingChanId}>${o.outgoingChanId}`), o);
    if (o.outgoingChanId !== 0n) add(get(per, o.outgoingChanId.toString()), o);
  }
  return { per, pairs, node };
}

function norm(t: WindowTotals) {
  return {
    failures: t.failures,
    missedFeesMsat: t.missedFeesMsat,
    missedAmountMsat: t.missedAmountMsat,
    successes: t.successes,
    earnedFeesMsat: t.earnedFeesMsat,
    forwardedAmountMsat: t.forwardedAmountMsat,
    byReason: [...t.failuresByReason].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  };
}

describe('store: windows', () => {
  let dir: string;
  before(() => (dir = tmpDir()));
  after(() => rmDir(dir));

  it('plans long windows as whole roll-up days plus the raw partial first day', () => {
    const now = Date.UTC(2026, 0, 10, 6, 0, 0);
    const p = planWindow('7d', now);
    assert.equal(p.sinceMs, now - 7 * DAY);
    assert.deepEqual(p.raw, { fromMs: now - 7 * DAY, toMs: Date.UTC(2026, 0, 4) });
    assert.equal(p.rollupFromDay, Date.UTC(2026, 0, 4) / DAY);
    const midnight = Date.UTC(2026, 0, 10);
    assert.equal(planWindow('30d', midnight).raw, null, 'no partial day at midnight');
    assert.equal(planWindow('1h', now).rollupFromDay, null);
  });

  it('sum per channel, per route pair and per node to a brute-force count over the raw events (fast-check)', async () => {
    const dayBase = Date.UTC(2026, 2, 1);
    const tsArb = fc.oneof(
      fc.integer({ min: dayBase - 35 * DAY, max: dayBase + 2 * DAY }),
      // boundaries: midnights and the window edges around them, ±1 ms
      fc.tuple(fc.integer({ min: -35, max: 2 }), fc.constantFrom(-1, 0, 1)).map(([d, e]) => dayBase + d * DAY + e),
    );
    const chanArb = fc.constantFrom(0n, 1n, 2n, BIG, U64_MAX);
    const amtArb = fc.oneof(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.constant(U64_MAX - 5n), fc.constant(BIG));
    const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
      fc.record({ ts: tsArb, out: chanArb, inn: chanArb, amt: amtArb, fee: amtArb, reason: fc.constantFrom(...REASONS) }).map((r) =>
        failure({ timestampMs: r.ts, outgoingChanId: r.out, incomingChanId: r.inn, outgoingAmtMsat: r.amt, incomingAmtMsat: r.amt + r.fee, missedFeeMsat: r.amt > 0n ? r.fee : 0n, reason: r.reason }),
      ),
      fc.record({ ts: tsArb, out: chanArb, inn: chanArb, amt: amtArb, fee: amtArb }).map((r) =>
        success({ timestampMs: r.ts, outgoingChanId: r.out, incomingChanId: r.inn, outgoingAmtMsat: r.amt, incomingAmtMsat: r.amt + r.fee, feeMsat: r.fee }),
      ),
    );
    const nowArb = fc.oneof(
      fc.integer({ min: dayBase - 2 * DAY, max: dayBase + 2 * DAY }),
      fc.tuple(fc.integer({ min: -2, max: 2 }), fc.constantFrom(-1, 0, 1, 3_600_000)).map(([d, e]) => dayBase + d * DAY + e),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(outcomeArb, { maxLength: 120 }), fc.array(nowArb, { minLength: 1, maxLength: 3 }), fc.boolean(), async (outcomes, nows, flushMid) => {
        const file = path.join(dir, `w${run++}.sqlite`);
        const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => dayBase, retentionDays: 10_000, rollupDays: 10_000 });
        try {
          const half = Math.floor(outcomes.length / 2);
          store.record(outcomes.slice(0, half));
          if (flushMid) await store.flush();
          store.record(outcomes.slice(half)); // the rest stays pending: answers must include it
          for (const now of nows) {
            for (const w of ['1h', '24h', '7d', '30d', 'all'] as const) {
              const bf = bruteForce(outcomes, w, now);
              const ch = store.windows(w, now);
              assert.equal(ch.complete, true);
              assert.deepEqual(norm(ch.node), norm(bf.node), `node ${w}`);
              assert.deepEqual(
                ch.rows.map((r) => [r.key, norm(r)]),
                [...bf.per].map(([k, t]) => [k, norm(t)]).sort((a, b) => {
                  const x = ch.rows.findIndex((r) => r.key === a[0]);
                  const y = ch.rows.findIndex((r) => r.key === b[0]);
                  return x - y;
                }),
                `channels ${w}`,
              );
              assert.equal(ch.rows.length, bf.per.size);
              const pairs = store.routePairs(w, now);
              assert.equal(pairs.rows.length, bf.pairs.size, `pairs ${w}`);
              for (const p of pairs.rows) assert.deepEqual(norm(p), norm(bf.pairs.get(`${p.incomingChanId}>${p.outgoingChanId}`)!), `pair ${w}`);
              // ranked like the engine
              for (let i = 1; i < ch.rows.length; i++) assert.ok(ch.rows[i - 1].missedFeesMsat >= ch.rows[i].missedFeesMsat);
            }
          }
        } finally {
          await store.close();
          fs.rmSync(file, { force: true });
          fs.rmSync(`${file}.prev`, { force: true });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('stays exact when an SQL sum would overflow int64 (falls back to bigint sums)', async () => {
    const file = path.join(dir, 'overflow.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, maxPending: 500 });
    const fee = (1n << 53n) - 1n; // the largest amount stored as an INTEGER
    const n = 1100; // n × fee > 2^63
    store.record(Array.from({ length: n }, (_, i) => failure({ timestampMs: NOW - i, outgoingAmtMsat: fee, incomingAmtMsat: fee * 2n, missedFeeMsat: fee })));
    store.record(Array.from({ length: n }, (_, i) => success({ timestampMs: NOW - i, outgoingAmtMsat: fee, incomingAmtMsat: fee * 2n, feeMsat: fee })));
    for (const w of ['1h', '7d', 'all'] as const) {
      const r = store.windows(w, NOW);
      assert.equal(r.node.failures, n);
      assert.equal(r.node.missedFeesMsat, fee * BigInt(n), w);
      assert.equal(r.node.missedAmountMsat, fee * BigInt(n), w);
      assert.equal(r.node.earnedFeesMsat, fee * BigInt(n), w);
      assert.equal(r.node.forwardedAmountMsat, fee * BigInt(n), w);
    }
    await store.close();
  });

  it('failures() and failureSeries() agree with the raw events; day buckets from roll-ups equal raw buckets', async () => {
    const file = path.join(dir, 'series.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, retentionDays: 1000 });
    const outcomes = workload(4000, 3, NOW - 20 * DAY, 20 * DAY);
    store.record(outcomes);
    const fails = outcomes.filter((o) => o.kind === 'failure');
    const inDay = fails.filter((o) => o.timestampMs >= NOW - DAY);
    const got = store.failures({ window: '24h', limit: 100_000, nowMs: NOW });
    assert.equal(got.length, inDay.length);
    assert.deepEqual(got.slice(0, 3).map((f) => [f.timestampMs, f.outgoingChanId, f.incomingAmtMsat, f.failureString]), inDay.slice(-3).reverse().map((f) => [f.timestampMs, f.outgoingChanId, f.incomingAmtMsat, f.failureString]));
    assert.equal(store.failures({ window: '24h', limit: 5, nowMs: NOW }).length, 5);
    const c2 = store.failures({ window: '7d', limit: 100_000, channel: 2n, nowMs: NOW });
    assert.equal(c2.length, fails.filter((o) => o.timestampMs >= NOW - 7 * DAY && o.outgoingChanId === 2n).length);
    assert.ok(c2.every((f) => f.outgoingChanId === 2n));
    assert.deepEqual(store.failures({ channel: 999_999n }), []);

    const hourly = store.failureSeries('24h', 3_600_000, { nowMs: NOW });
    assert.equal(hourly.source, 'raw');
    assert.equal(hourly.buckets.length, 25);
    const start = hourly.startMs;
    assert.equal(hourly.buckets.reduce((s, b) => s + b.total, 0), fails.filter((o) => o.timestampMs >= start).length);

    const fromRollups = store.failureSeries('30d', DAY, { nowMs: NOW });
    assert.equal(fromRollups.source, 'rollups');
    const fromRaw = store.failureSeries('30d', DAY, { nowMs: NOW, source: 'raw' });
    assert.equal(fromRaw.source, 'raw');
    assert.deepEqual(fromRollups.buckets, fromRaw.buckets);
    for (const b of fromRollups.buckets) {
      const exp = fails.filter((o) => o.timestampMs >= b.startMs && o.timestampMs < b.startMs + DAY).length;
      assert.equal(b.total, exp);
    }
    assert.throws(() => store.failureSeries('30d', 1000, { nowMs: NOW }), /too many buckets/);
    await store.close();
  });
});

describe('store: ranking equals the engine after restart under random workloads (fast-check)', () => {
  let dir: string;
  before(() => (dir = tmpDir()));
  after(() => rmDir(dir));

  it('holds for random outcome sequences and flush points', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 400 }), async (seed, n) => {
        const file = path.join(dir, `r${run++}.sqlite`);
        const outcomes = workload(n, seed, NOW - 2 * DAY, 2 * DAY);
        const a = new StatsEngine({ now: () => NOW, recentPerChannel: 7 });
        const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
        for (const o of outcomes) a.apply(o);
        store.record(outcomes);
        await store.close();
        const again = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
        const b = new StatsEngine({ now: () => NOW, recentPerChannel: 7 });
        again.restoreInto(b);
        await again.close();
        assert.deepEqual(b.ranked().map((c) => c.key), a.ranked().map((c) => c.key));
        assert.deepEqual(snapshot(b, NOW), snapshot(a, NOW));
        assert.ok(b.ranked().every((c, i, arr) => i === 0 || compareChannels(arr[i - 1], c) < 0));
        for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true });
      }),
      { numRuns: 25 },
    );
  });
});
