import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { FailureOutcome, Outcome, SuccessOutcome } from '../../src/core/normalizer';
import { categoryOf } from '../../src/core/reasons';
import { ChannelStats, compareChannels, StatsEngine } from '../../src/core/stats';

const T0 = Date.UTC(2026, 10, 27, 16, 0, 0); // a minute boundary
const MIN = 60_000;
const HOUR = 60 * MIN;

function fail(
  outChan: bigint,
  opts: { inAmt?: bigint; outAmt?: bigint; reason?: string; ts?: number; inChan?: bigint; source?: 'link' | 'downstream'; str?: string } = {},
): FailureOutcome {
  const inAmt = opts.inAmt ?? 1_001_000n;
  const outAmt = opts.outAmt ?? 1_000_000n;
  const reason = opts.reason ?? 'INSUFFICIENT_BALANCE';
  const ts = opts.ts ?? T0;
  return {
    kind: 'failure',
    source: opts.source ?? (reason === 'DOWNSTREAM' ? 'downstream' : 'link'),
    incomingChanId: opts.inChan ?? 111n,
    outgoingChanId: outChan,
    incomingHtlcId: 1n,
    outgoingHtlcId: 2n,
    timestampNs: BigInt(ts) * 1_000_000n,
    timestampMs: ts,
    incomingAmtMsat: inAmt,
    outgoingAmtMsat: outAmt,
    missedFeeMsat: outAmt > 0n && inAmt > outAmt ? inAmt - outAmt : 0n,
    reason,
    category: categoryOf(reason),
    wireFailure: '',
    failureDetail: '',
    failureString: opts.str ?? '',
    amountsKnown: true,
  };
}

function ok(outChan: bigint, opts: { fee?: bigint; ts?: number } = {}): SuccessOutcome {
  const ts = opts.ts ?? T0;
  const fee = opts.fee ?? 100n;
  return {
    kind: 'success',
    incomingChanId: 111n,
    outgoingChanId: outChan,
    incomingHtlcId: 1n,
    outgoingHtlcId: 2n,
    timestampNs: BigInt(ts) * 1_000_000n,
    timestampMs: ts,
    incomingAmtMsat: 1_000_000n + fee,
    outgoingAmtMsat: 1_000_000n,
    feeMsat: fee,
    amountsKnown: true,
  };
}

const ids = (chs: ChannelStats[]) => chs.map((c) => c.key);

describe('StatsEngine', () => {
  describe('per-channel counters', () => {
    it('counts failures, successes, missed fees and amounts per outgoing channel', () => {
      const s = new StatsEngine({ now: () => T0 });
      const A = 967570232596561921n;
      const B = 879609302220865536n;
      s.apply(fail(A, { inAmt: 1_001_000n, outAmt: 1_000_000n, ts: T0 + 1000 }));
      s.apply(fail(A, { inAmt: 2_003_000n, outAmt: 2_000_000n, reason: 'FEE_INSUFFICIENT', ts: T0 + 2000 }));
      s.apply(fail(A, { inAmt: 5_000n, outAmt: 0n, reason: 'FEE_INSUFFICIENT', ts: T0 + 3000 })); // no missed fee
      s.apply(fail(A, { inAmt: 3_000_500n, outAmt: 3_000_000n, reason: 'DOWNSTREAM', ts: T0 + 500 })); // older, arrives late
      s.apply(ok(A, { fee: 250n, ts: T0 + 4000 }));
      s.apply(ok(B, { fee: 10n, ts: T0 + 5000 }));

      const a = s.channel(A)!;
      assert.ok(a);
      assert.equal(a.chanId, A);
      assert.equal(a.scid, '880000x2345x1');
      assert.equal(a.failedForwards, 4);
      assert.equal(a.successfulForwards, 1);
      assert.equal(a.missedFeesMsat, 1000n + 3000n + 500n);
      assert.equal(a.missedAmountMsat, 1_000_000n + 2_000_000n + 3_000_000n);
      assert.equal(a.earnedFeesMsat, 250n);
      assert.equal(a.firstSeenMs, T0 + 1000);
      assert.equal(a.lastFailureAtMs, T0 + 3000, 'the latest failure time, not the last applied');
      assert.deepEqual(Object.fromEntries(a.failuresByReason), {
        INSUFFICIENT_BALANCE: { count: 1, missedFeesMsat: 1000n, missedAmountMsat: 1_000_000n },
        FEE_INSUFFICIENT: { count: 2, missedFeesMsat: 3000n, missedAmountMsat: 2_000_000n },
        DOWNSTREAM: { count: 1, missedFeesMsat: 500n, missedAmountMsat: 3_000_000n },
      });
      assert.equal(a.topReason, 'FEE_INSUFFICIENT');
      assert.deepEqual(
        a.recentFailures().map((f) => [f.reason, f.missedFeeMsat]),
        [
          ['DOWNSTREAM', 500n],
          ['FEE_INSUFFICIENT', 0n],
          ['FEE_INSUFFICIENT', 3000n],
          ['INSUFFICIENT_BALANCE', 1000n],
        ],
      );
      assert.equal(a.recentFailures(2).length, 2);

      const b = s.channel(B.toString())!;
      assert.equal(b.failedForwards, 0);
      assert.equal(b.successfulForwards, 1);
      assert.equal(b.earnedFeesMsat, 10n);
      assert.equal(b.lastFailureAtMs, 0);
      assert.equal(b.topReason, undefined);

      assert.equal(s.node.failedForwards, 4);
      assert.equal(s.node.successfulForwards, 2);
      assert.equal(s.node.missedFeesMsat, 4500n);
      assert.equal(s.node.missedAmountMsat, 6_000_000n);
      assert.equal(s.node.earnedFeesMsat, 260n);
      assert.deepEqual(Object.fromEntries(s.node.failuresByReason), { INSUFFICIENT_BALANCE: 1, FEE_INSUFFICIENT: 2, DOWNSTREAM: 1 });
      assert.equal(s.channelCount, 2);
    });

    it('topReason breaks count ties by missed fees', () => {
      const s = new StatsEngine();
      s.apply(fail(1n, { reason: 'INSUFFICIENT_BALANCE', inAmt: 1100n, outAmt: 1000n }));
      s.apply(fail(1n, { reason: 'FEE_INSUFFICIENT', inAmt: 1500n, outAmt: 1000n }));
      assert.equal(s.channel(1n)!.topReason, 'FEE_INSUFFICIENT');
    });

    it('keeps the ring of recent failures at recentPerChannel (default 100)', () => {
      const s = new StatsEngine();
      for (let i = 0; i < 130; i++) s.apply(fail(5n, { ts: T0 + i, inChan: BigInt(i) }));
      const recent = s.channel(5n)!.recentFailures();
      assert.equal(recent.length, 100);
      assert.equal(recent[0].incomingChanId, 129n);
      assert.equal(recent[99].incomingChanId, 30n);
      assert.equal(s.channel(5n)!.failedForwards, 130);

      const small = new StatsEngine({ recentPerChannel: 3 });
      for (let i = 0; i < 10; i++) small.apply(fail(5n, { inChan: BigInt(i) }));
      assert.deepEqual(
        small.channel(5n)!.recentFailures().map((f) => f.incomingChanId),
        [9n, 8n, 7n],
      );
    });

    it('bumps version on every change', () => {
      const s = new StatsEngine();
      const v0 = s.version;
      s.apply(fail(1n));
      s.apply(ok(1n));
      s.apply(fail(0n));
      assert.equal(s.version, v0 + 3);
    });
  });

  describe('node level', () => {
    it('counts incoming-link failures (outgoing channel 0) at node level, never as a channel "0"', () => {
      const s = new StatsEngine();
      assert.equal(s.apply(fail(0n, { reason: 'ONION_DECODE', outAmt: 0n })), undefined);
      assert.equal(s.apply(fail(0n, { reason: 'INVALID_ONION_HMAC', inAmt: 2000n, outAmt: 1000n })), undefined);
      assert.equal(s.channel(0n), undefined);
      assert.equal(s.channel('0'), undefined);
      assert.equal(s.channelCount, 0);
      assert.deepEqual(s.top(10), []);
      assert.deepEqual(s.ranked(), []);
      assert.equal(s.node.failedForwards, 2);
      assert.equal(s.node.incomingLinkFailures, 2);
      assert.equal(s.node.missedFeesMsat, 1000n);
      assert.deepEqual(Object.fromEntries(s.node.failuresByReason), { ONION_DECODE: 1, INVALID_ONION_HMAC: 1 });
    });

    it('counts successes with outgoing channel 0 at node level only', () => {
      const s = new StatsEngine();
      assert.equal(s.apply(ok(0n, { fee: 7n })), undefined);
      assert.equal(s.channelCount, 0);
      assert.equal(s.node.successfulForwards, 1);
      assert.equal(s.node.earnedFeesMsat, 7n);
    });

    it('apply returns the channel it changed', () => {
      const s = new StatsEngine();
      const ch = s.apply(fail(9n));
      assert.ok(ch);
      assert.equal(ch, s.channel(9n));
      assert.equal(s.node.incomingLinkFailures, 0);
    });
  });

  describe('NodeStats.failuresSince', () => {
    it('counts failures within the window at minute resolution', () => {
      const s = new StatsEngine();
      const now = T0 + 30_000; // half a minute into the minute T0
      const at = [now, T0, T0 - 1, T0 - 5 * MIN, T0 - 59 * MIN, T0 - 60 * MIN, T0 - 2 * HOUR, T0 - 23 * HOUR, T0 - 24 * HOUR, T0 - 25 * HOUR];
      for (const ts of at) s.apply(fail(1n, { ts }));
      const w = (ms: number) => s.node.failuresSince(now, ms);
      assert.equal(w(MIN), 2, 'this minute: now and T0');
      assert.equal(w(2 * MIN), 3, 'and the minute before');
      assert.equal(w(HOUR), 5, 'the last 60 minutes (incl. this one)');
      assert.equal(w(HOUR + MIN), 6);
      assert.equal(w(3 * HOUR), 7);
      assert.equal(w(24 * HOUR), 8, 'the last 1440 minutes');
      assert.equal(w(48 * HOUR), 8, 'windows are capped at 24 h');
      assert.equal(w(0), 0);
      // a later "now" moves the window
      assert.equal(s.node.failuresSince(now + HOUR, HOUR), 0);
      assert.equal(s.node.failuresSince(now + 30 * MIN, HOUR), 4);
      // node-level failures count too
      s.apply(fail(0n, { ts: now }));
      assert.equal(w(MIN), 3);
    });

    it('agrees with a brute-force count, whatever order the timestamps arrive in', () => {
      fc.assert(
        fc.property(
          // minutes 24 h apart share a slot: make such pairs common, in any order
          fc.array(fc.oneof(fc.integer({ min: 0, max: 48 * 60 - 1 }), fc.constantFrom(0, 1, 59, 60, 1439, 1440, 1441, 1500, 2879)), {
            maxLength: 200,
            size: 'medium',
          }),
          fc.integer({ min: 0, max: 59_999 }),
          fc.integer({ min: 1, max: 24 * 60 }),
          (minutesAgo, within, windowMin) => {
            const s = new StatsEngine();
            const nowMinute = Math.floor(T0 / MIN);
            for (const m of minutesAgo) s.apply(fail(1n, { ts: (nowMinute - m) * MIN + (within % 997) * 60 }));
            const now = nowMinute * MIN + within;
            const want = minutesAgo.filter((m) => m < windowMin).length;
            assert.equal(s.node.failuresSince(now, windowMin * MIN), want);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('ranking', () => {
    type Model = { key: string; missed: bigint; failed: number; ok: number; missedAmt: bigint; earned: bigint };

    function rankModel(models: Iterable<Model>): string[] {
      return [...models]
        .sort((a, b) => {
          if (a.missed !== b.missed) return a.missed > b.missed ? -1 : 1;
          if (a.failed !== b.failed) return b.failed - a.failed;
          return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
        })
        .map((m) => m.key);
    }

    // ~30 channel ids, several beyond 2^53
    const CHANNELS = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 967570232596561921n + BigInt(i) : BigInt(i + 1) * 1_000_003n));
    const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .record({
            ch: fc.constantFrom(...CHANNELS, 0n),
            fee: fc.oneof(fc.constant(0n), fc.constantFrom(1n, 2n, 1000n), fc.bigInt({ min: 0n, max: 5000n })),
            out: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 60n })),
            reason: fc.constantFrom('INSUFFICIENT_BALANCE', 'FEE_INSUFFICIENT', 'DOWNSTREAM', 'CHANNEL_DISABLED'),
            ts: fc.integer({ min: T0 - HOUR, max: T0 }),
          })
          .map(({ ch, fee, out, reason, ts }) => fail(ch, { inAmt: out + fee, outAmt: out, reason, ts })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({ ch: fc.constantFrom(...CHANNELS, 0n), fee: fc.bigInt({ min: 0n, max: 3000n }), ts: fc.integer({ min: T0 - HOUR, max: T0 }) })
          .map(({ ch, fee, ts }) => ok(ch, { fee, ts })),
      },
    );

    function applyModel(models: Map<string, Model>, o: Outcome, maxChannels: number): { evicted: number } {
      if (o.outgoingChanId === 0n) return { evicted: 0 };
      const key = o.outgoingChanId.toString();
      let m = models.get(key);
      let evicted = 0;
      if (m) models.delete(key); // re-insert: Map order is the LRU order
      else {
        m = { key, missed: 0n, failed: 0, ok: 0, missedAmt: 0n, earned: 0n };
        if (models.size >= maxChannels) {
          models.delete(models.keys().next().value!);
          evicted = 1;
        }
      }
      models.set(key, m);
      if (o.kind === 'success') {
        m.ok++;
        m.earned += o.feeMsat;
      } else {
        m.failed++;
        if (o.missedFeeMsat > 0n) {
          m.missed += o.missedFeeMsat;
          m.missedAmt += o.outgoingAmtMsat;
        }
      }
      return { evicted };
    }

    it('top(k) and ranked() agree with a brute-force model (missed fees, then failures, then id)', () => {
      fc.assert(
        fc.property(fc.array(outcomeArb, { maxLength: 300, size: 'medium' }), fc.integer({ min: 0, max: 35 }), (outcomes, k) => {
          const s = new StatsEngine();
          const models = new Map<string, Model>();
          for (const o of outcomes) {
            s.apply(o);
            applyModel(models, o, Infinity);
          }
          const want = rankModel(models.values());
          assert.deepEqual(ids(s.ranked()), want);
          assert.deepEqual(ids(s.top(k)), want.slice(0, k));
          assert.deepEqual(ids(s.top(1000)), want);
          assert.deepEqual(ids(s.failing()), want.filter((key) => models.get(key)!.failed > 0));
          assert.deepEqual(ids([...s.ranked()].sort(compareChannels)), want);
          for (const m of models.values()) {
            const ch = s.channel(m.key)!;
            assert.equal(ch.missedFeesMsat, m.missed);
            assert.equal(ch.missedAmountMsat, m.missedAmt);
            assert.equal(ch.failedForwards, m.failed);
            assert.equal(ch.successfulForwards, m.ok);
            assert.equal(ch.earnedFeesMsat, m.earned);
          }
          assert.equal(s.channelCount, models.size);
          assert.equal(s.node.failedForwards, outcomes.filter((o) => o.kind === 'failure').length);
          assert.equal(s.node.incomingLinkFailures, outcomes.filter((o) => o.kind === 'failure' && o.outgoingChanId === 0n).length);
          assert.equal(s.evictions, 0);
        }),
        { numRuns: 300 },
      );
    });

    it('with a small maxChannels still agrees with an LRU model (evicted channels leave the ranking)', () => {
      fc.assert(
        fc.property(fc.array(outcomeArb, { maxLength: 300, size: 'medium' }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 25 }), (outcomes, max, k) => {
          const s = new StatsEngine({ maxChannels: max });
          const models = new Map<string, Model>();
          let evictions = 0;
          for (const o of outcomes) {
            s.apply(o);
            evictions += applyModel(models, o, max).evicted;
            // reading does not change recency
            s.top(3);
            s.ranked();
            s.channel(CHANNELS[0]);
          }
          const want = rankModel(models.values());
          assert.equal(s.evictions, evictions);
          assert.equal(s.channelCount, models.size);
          assert.ok(s.channelCount <= max);
          assert.deepEqual(ids(s.ranked()), want);
          assert.deepEqual(ids(s.top(k)), want.slice(0, k));
          assert.deepEqual(ids(s.top(1000)), want);
        }),
        { numRuns: 300 },
      );
    });

    it('ranks equal missed fees by failures, then by id', () => {
      const s = new StatsEngine();
      s.apply(fail(3n, { outAmt: 0n }));
      s.apply(fail(3n, { outAmt: 0n }));
      s.apply(fail(1n, { outAmt: 0n }));
      s.apply(ok(2n));
      s.apply(fail(4n, { inAmt: 1001n, outAmt: 1000n }));
      assert.deepEqual(ids(s.ranked()), ['4', '3', '1', '2']);
      assert.deepEqual(ids(s.top(4)), ['4', '3', '1', '2']);
      assert.deepEqual(ids(s.top(2)), ['4', '3']);
    });

    it('keeps missed fees beyond 2^53 exact in the ranking', () => {
      const s = new StatsEngine();
      const big = 2n ** 60n;
      s.apply(fail(1n, { inAmt: big + 2n ** 53n + 1n, outAmt: big }));
      s.apply(fail(2n, { inAmt: big + 2n ** 53n + 2n, outAmt: big }));
      assert.deepEqual(ids(s.top(2)), ['2', '1']);
      assert.equal(s.channel(2n)!.missedFeesMsat, 9007199254740994n);
    });
  });

  describe('maxChannels', () => {
    it('evicts the least recently active channel, counts it, and drops it from top()', () => {
      const s = new StatsEngine({ maxChannels: 3 });
      s.apply(fail(1n, { inAmt: 1_000_000n + 9000n, outAmt: 1_000_000n })); // the biggest loser
      s.apply(fail(2n, { inAmt: 1_000_000n + 2000n, outAmt: 1_000_000n }));
      s.apply(fail(3n, { inAmt: 1_000_000n + 3000n, outAmt: 1_000_000n }));
      assert.deepEqual(ids(s.top(3)), ['1', '3', '2']);
      s.apply(ok(2n)); // 2 and 3 are now more recent than 1
      s.apply(ok(3n));
      s.top(10); // reading is not activity
      assert.ok(s.channel(1n));
      s.apply(fail(4n, { inAmt: 1_000_000n + 1000n, outAmt: 1_000_000n }));
      assert.equal(s.evictions, 1);
      assert.equal(s.channelCount, 3);
      assert.equal(s.channel(1n), undefined);
      assert.deepEqual(ids(s.top(10)), ['3', '2', '4']);
      assert.deepEqual(ids(s.ranked()), ['3', '2', '4']);
      // node totals keep what the evicted channel lost
      assert.equal(s.node.failedForwards, 4);
      assert.equal(s.node.missedFeesMsat, 15_000n);
      // a returning channel starts afresh
      s.apply(fail(1n, { inAmt: 1_000_000n + 10n, outAmt: 1_000_000n }));
      assert.equal(s.evictions, 2);
      assert.equal(s.channel(1n)!.missedFeesMsat, 10n);
      assert.equal(s.channel(1n)!.failedForwards, 1);
      assert.deepEqual(ids(s.top(10)), ['3', '4', '1']);
    });
  });

  describe('restore / createChannel', () => {
    it('a restored channel takes its place in the ranking', () => {
      const s = new StatsEngine();
      s.apply(fail(1n, { inAmt: 1500n, outAmt: 1000n }));
      s.apply(fail(2n, { outAmt: 0n }));
      const ch = s.createChannel(3n, T0 - HOUR);
      ch.failedForwards = 2;
      ch.missedFeesMsat = 400n;
      s.restore(ch);
      assert.equal(s.channel(3n), ch);
      assert.deepEqual(ids(s.ranked()), ['1', '3', '2']);
      assert.deepEqual(ids(s.top(3)), ['1', '3', '2']);
      // and keeps counting
      s.apply(fail(3n, { inAmt: 1100n, outAmt: 1000n }));
      assert.equal(s.channel(3n)!.failedForwards, 3);
      assert.equal(s.channel(3n)!.missedFeesMsat, 500n); // ties with channel 1, more failures
      assert.deepEqual(ids(s.top(1)), ['3']);
    });
  });

  describe('reset()', () => {
    it('forgets every channel, the ranking, node totals and windows', () => {
      const s = new StatsEngine({ maxChannels: 2 });
      for (let i = 1n; i <= 3n; i++) s.apply(fail(i));
      s.apply(fail(0n));
      s.apply(ok(1n));
      const v = s.version;
      s.reset();
      assert.ok(s.version > v);
      assert.equal(s.channelCount, 0);
      assert.equal(s.evictions, 0);
      assert.deepEqual(s.top(10), []);
      assert.deepEqual(s.ranked(), []);
      assert.deepEqual(s.node.toJSON(), {
        failedForwards: 0,
        successfulForwards: 0,
        incomingLinkFailures: 0,
        missedFeesMsat: '0',
        missedAmountMsat: '0',
        earnedFeesMsat: '0',
        failuresByReason: {},
      });
      assert.equal(s.node.failuresSince(T0, 24 * HOUR), 0);
      // and counts afresh afterwards
      s.apply(fail(7n, { inAmt: 1500n, outAmt: 1000n }));
      assert.equal(s.channelCount, 1);
      assert.equal(s.evictions, 0);
      assert.deepEqual(ids(s.top(5)), ['7']);
      assert.equal(s.node.failuresSince(T0, MIN), 1);
    });
  });

  describe('toJSON()', () => {
    it('writes bigints as decimal strings, exact beyond 2^53', () => {
      const s = new StatsEngine();
      const A = 967570232596561921n;
      const out = 2n ** 62n;
      s.apply(fail(A, { inAmt: out + 2n ** 53n + 1n, outAmt: out, ts: T0 + 5 }));
      s.apply(fail(A, { reason: 'DOWNSTREAM', inAmt: 1001n, outAmt: 1000n, ts: T0 + 6 }));
      s.apply(ok(A, { fee: 123n, ts: T0 + 7 }));
      const json = s.channel(A)!.toJSON();
      assert.deepEqual(json, {
        channelId: '967570232596561921',
        scid: '880000x2345x1',
        failedForwards: 2,
        successfulForwards: 1,
        missedFeesMsat: (2n ** 53n + 1n + 1n).toString(),
        missedAmountMsat: (out + 1000n).toString(),
        earnedFeesMsat: '123',
        failuresByReason: { INSUFFICIENT_BALANCE: 1, DOWNSTREAM: 1 },
        missedFeesByReasonMsat: { INSUFFICIENT_BALANCE: '9007199254740993', DOWNSTREAM: '1' },
        firstSeen: new Date(T0 + 5).toISOString(),
        lastFailureAt: new Date(T0 + 6).toISOString(),
      });
      assert.equal(json.missedFeesMsat, '9007199254740994');
      // serialisable as is (JSON.stringify throws on a bigint)
      const round = JSON.parse(JSON.stringify({ channel: s.channel(A), node: s.node }));
      assert.equal(round.channel.channelId, '967570232596561921');
      assert.equal(round.node.missedFeesMsat, '9007199254740994');
      assert.equal(round.node.missedAmountMsat, (out + 1000n).toString());
      assert.equal(round.node.earnedFeesMsat, '123');
      assert.deepEqual(round.node.failuresByReason, { INSUFFICIENT_BALANCE: 1, DOWNSTREAM: 1 });
    });

    it('lastFailureAt is null for a channel that never failed', () => {
      const s = new StatsEngine();
      s.apply(ok(5n));
      assert.equal(s.channel(5n)!.toJSON().lastFailureAt, null);
    });
  });
});
