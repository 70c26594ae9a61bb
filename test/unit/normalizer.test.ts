import { strict as assert } from 'node:assert';
import type { HtlcEvent, HtlcInfo } from '../../src/core/lnd/types';
import fc from 'fast-check';
import type { MethodDefinition } from '@grpc/proto-loader';
import { FailureOutcome, NormalizeResult, Normalizer, Outcome, SuccessOutcome } from '../../src/core/normalizer';
import { decodeHtlcEvent } from '../../src/core/lnd/htlcDecoder';
import { loadLndProtos } from '../../src/core/lnd/protos';

// ---------------------------------------------------------------------------------------------
// A small builder for HtlcEvent objects shaped like @grpc/proto-loader's output
// (keepCase, longs: String, enums: String, oneofs: true: `event` names the member that is set).
// ---------------------------------------------------------------------------------------------

const IN_CHAN = '967570232596561921'; // 880000x2345x1
const OUT_CHAN = '879609302220865536'; // 800000x1x0
const TS_NS = '1700000000123456789';

interface Circuit {
  inChan?: string;
  outChan?: string;
  inHtlc?: string;
  outHtlc?: string;
  ts?: string;
  type?: string | number;
}

function info(inAmt: string | number | bigint, outAmt: string | number | bigint): HtlcInfo {
  return { incoming_timelock: 800_100, outgoing_timelock: 800_060, incoming_amt_msat: String(inAmt), outgoing_amt_msat: String(outAmt) };
}

function base(c: Circuit): HtlcEvent {
  return {
    incoming_channel_id: c.inChan ?? IN_CHAN,
    outgoing_channel_id: c.outChan ?? OUT_CHAN,
    incoming_htlc_id: c.inHtlc ?? '7',
    outgoing_htlc_id: c.outHtlc ?? '42',
    timestamp_ns: c.ts ?? TS_NS,
    event_type: c.type ?? 'FORWARD',
  };
}

const ev = {
  forward(inAmt: string | number | bigint, outAmt: string | number | bigint, c: Circuit = {}): HtlcEvent {
    return { ...base(c), forward_event: { info: info(inAmt, outAmt) }, event: 'forward_event' };
  },
  forwardFail(c: Circuit = {}): HtlcEvent {
    return { ...base(c), forward_fail_event: {}, event: 'forward_fail_event' };
  },
  settle(c: Circuit = {}): HtlcEvent {
    return { ...base(c), settle_event: { preimage: Buffer.alloc(32, 1) }, event: 'settle_event' };
  },
  linkFail(
    opts: { info?: HtlcInfo | null; wire?: string | number; detail?: string | number; str?: string } = {},
    c: Circuit = {},
  ): HtlcEvent {
    return {
      ...base(c),
      link_fail_event: {
        info: opts.info === undefined ? info(1_001_000, 1_000_000) : opts.info,
        wire_failure: opts.wire ?? 'TEMPORARY_CHANNEL_FAILURE',
        failure_detail: opts.detail ?? 'INSUFFICIENT_BALANCE',
        failure_string: opts.str ?? 'insufficient bandwidth to route htlc',
      },
      event: 'link_fail_event',
    };
  },
  subscribed(): HtlcEvent {
    return { ...base({ inChan: '0', outChan: '0', inHtlc: '0', outHtlc: '0', ts: '0', type: 'UNKNOWN' }), subscribed_event: {}, event: 'subscribed_event' };
  },
  final(c: Circuit = {}): HtlcEvent {
    return { ...base({ type: 'UNKNOWN', ...c }), final_htlc_event: { settled: true, offchain: true }, event: 'final_htlc_event' };
  },
};

/** Drops the `event` discriminator, as if a decoder had not filled it in. */
function withoutEventName(e: HtlcEvent): HtlcEvent {
  const copy = { ...e };
  delete copy.event;
  return copy;
}

function outcome(r: NormalizeResult): Outcome {
  if (r.type !== 'outcome') assert.fail(`expected an outcome, got ${JSON.stringify(r)}`);
  return (r as { type: 'outcome'; outcome: Outcome }).outcome;
}

function failure(r: NormalizeResult): FailureOutcome {
  const o = outcome(r);
  assert.equal(o.kind, 'failure');
  return o as FailureOutcome;
}

function success(r: NormalizeResult): SuccessOutcome {
  const o = outcome(r);
  assert.equal(o.kind, 'success');
  return o as SuccessOutcome;
}

describe('Normalizer', () => {
  describe('what counts', () => {
    it('ignores subscribed_event (event_type UNKNOWN)', () => {
      const n = new Normalizer();
      assert.deepEqual(n.normalize(ev.subscribed()), { type: 'ignored', why: 'subscribed' });
      assert.deepEqual(n.normalize(withoutEventName(ev.subscribed())), { type: 'ignored', why: 'subscribed' });
    });

    it('ignores final_htlc_event (event_type UNKNOWN)', () => {
      const n = new Normalizer();
      assert.deepEqual(n.normalize(ev.final()), { type: 'ignored', why: 'final' });
      assert.deepEqual(n.normalize(ev.final({ type: 'FORWARD' })), { type: 'ignored', why: 'final' });
    });

    for (const type of ['SEND', 'RECEIVE', 'UNKNOWN', 1, 2, 0] as const) {
      it(`ignores every member with event_type ${type}`, () => {
        const n = new Normalizer();
        for (const e of [ev.forward(2000, 1000, { type }), ev.forwardFail({ type }), ev.settle({ type }), ev.linkFail({}, { type })]) {
          assert.deepEqual(n.normalize(e), { type: 'ignored', why: 'not-forward' });
        }
        assert.equal(n.pendingForwards, 0, 'a SEND/RECEIVE forward_event is not remembered');
      });
    }

    it('counts event_type given as the number 3 (FORWARD)', () => {
      const n = new Normalizer();
      const f = failure(n.normalize(ev.linkFail({}, { type: 3 })));
      assert.equal(f.reason, 'INSUFFICIENT_BALANCE');
      assert.deepEqual(n.normalize(ev.forward(2000, 1000, { type: 3, inHtlc: '8' })), { type: 'ignored', why: 'forward-pending' });
      assert.equal(success(n.normalize(ev.settle({ type: 3, inHtlc: '8' }))).feeMsat, 1000n);
    });

    it('ignores an unknown oneof member (event undefined, no member set) as unknown-event', () => {
      const n = new Normalizer();
      const e: HtlcEvent = { ...base({}), event: undefined };
      assert.deepEqual(n.normalize(e), { type: 'ignored', why: 'unknown-event' });
      assert.deepEqual(n.normalize({ ...base({}) }), { type: 'ignored', why: 'unknown-event' });
      assert.deepEqual(n.normalize({ ...base({}), event: 'some_future_event' }), { type: 'ignored', why: 'unknown-event' });
    });

    it('finds the member without the `event` name too', () => {
      const n = new Normalizer();
      assert.equal(failure(n.normalize(withoutEventName(ev.linkFail()))).source, 'link');
      assert.deepEqual(n.normalize(withoutEventName(ev.forward(2000, 1000, { inHtlc: '9' }))), { type: 'ignored', why: 'forward-pending' });
      assert.equal(success(n.normalize(withoutEventName(ev.settle({ inHtlc: '9' })))).feeMsat, 1000n);
    });

    it('keeps ids, amounts and timestamps exact (uint64 beyond 2^53)', () => {
      const n = new Normalizer();
      const f = failure(
        n.normalize(
          ev.linkFail(
            { info: info('18446744073709551615', '9007199254740993') },
            { inHtlc: '18446744073709551614', outHtlc: '9007199254740993' },
          ),
        ),
      );
      assert.equal(f.incomingChanId, 967570232596561921n);
      assert.equal(f.outgoingChanId, 879609302220865536n);
      assert.equal(f.incomingHtlcId, 18446744073709551614n);
      assert.equal(f.outgoingHtlcId, 9007199254740993n);
      assert.equal(f.incomingAmtMsat, 18446744073709551615n);
      assert.equal(f.outgoingAmtMsat, 9007199254740993n);
      assert.equal(f.missedFeeMsat, 18446744073709551615n - 9007199254740993n);
      assert.equal(f.timestampNs, 1700000000123456789n);
      assert.equal(f.timestampMs, 1700000000123);
    });
  });

  describe('link_fail_event', () => {
    it('is a failure at our node with the amounts from info and missed fee = in − out', () => {
      const n = new Normalizer();
      const f = failure(n.normalize(ev.linkFail({ info: info(1_001_500, 1_000_000) })));
      assert.equal(f.source, 'link');
      assert.equal(f.incomingAmtMsat, 1_001_500n);
      assert.equal(f.outgoingAmtMsat, 1_000_000n);
      assert.equal(f.missedFeeMsat, 1_500n);
      assert.equal(f.reason, 'INSUFFICIENT_BALANCE');
      assert.equal(f.category, 'liquidity');
      assert.equal(f.wireFailure, 'TEMPORARY_CHANNEL_FAILURE');
      assert.equal(f.failureDetail, 'INSUFFICIENT_BALANCE');
      assert.equal(f.failureString, 'insufficient bandwidth to route htlc');
      assert.equal(f.amountsKnown, true);
      assert.equal(typeof f.missedFeeMsat, 'bigint');
    });

    it('outgoing_amt_msat 0 → no missed fee', () => {
      const n = new Normalizer();
      const f = failure(n.normalize(ev.linkFail({ info: info(1_001_000, 0) })));
      assert.equal(f.missedFeeMsat, 0n);
      assert.equal(f.incomingAmtMsat, 1_001_000n);
    });

    it('outgoing_channel_id "0" (failed on the incoming link) stays node-level: outgoingChanId 0n', () => {
      const n = new Normalizer();
      const f = failure(
        n.normalize(ev.linkFail({ wire: 'INVALID_ONION_HMAC', detail: 'ONION_DECODE', info: info(1_000_000, 0) }, { outChan: '0', outHtlc: '0' })),
      );
      assert.equal(f.outgoingChanId, 0n);
      assert.equal(f.reason, 'ONION_DECODE');
      assert.equal(f.missedFeeMsat, 0n);
    });

    it('no info → amounts 0, amountsKnown false, no missed fee', () => {
      const n = new Normalizer();
      const f = failure(n.normalize(ev.linkFail({ info: null })));
      assert.equal(f.incomingAmtMsat, 0n);
      assert.equal(f.outgoingAmtMsat, 0n);
      assert.equal(f.missedFeeMsat, 0n);
      assert.equal(f.amountsKnown, false);
    });

    it('reason from failure_detail, else wire_failure; unknown numbers get readable keys', () => {
      const n = new Normalizer();
      let h = 100;
      const reason = (wire: string | number, detail: string | number) =>
        failure(n.normalize(ev.linkFail({ wire, detail }, { inHtlc: String(h++) })));
      assert.equal(reason('FEE_INSUFFICIENT', 'NO_DETAIL').reason, 'FEE_INSUFFICIENT');
      assert.equal(reason('FEE_INSUFFICIENT', 'NO_DETAIL').category, 'fee');
      assert.equal(reason('CHANNEL_DISABLED', 'UNKNOWN').reason, 'CHANNEL_DISABLED');
      assert.equal(reason('UNKNOWN_NEXT_PEER', 'LINK_NOT_ELIGIBLE').category, 'peer');
      const u1 = reason('TEMPORARY_CHANNEL_FAILURE', 999);
      assert.equal(u1.reason, 'FAILURE_DETAIL_999');
      assert.equal(u1.failureDetail, 'FAILURE_DETAIL_999');
      assert.equal(u1.category, 'other');
      const u2 = reason(1234, 'NO_DETAIL');
      assert.equal(u2.reason, 'WIRE_FAILURE_1234');
      assert.equal(u2.wireFailure, 'WIRE_FAILURE_1234');
    });

    it('failure_string is for display only: it never changes the reason', () => {
      const n = new Normalizer();
      const a = failure(n.normalize(ev.linkFail({ wire: 'FEE_INSUFFICIENT', detail: 'NO_DETAIL', str: 'insufficient balance' }, { inHtlc: '1' })));
      const b = failure(n.normalize(ev.linkFail({ wire: 'FEE_INSUFFICIENT', detail: 'NO_DETAIL', str: '' }, { inHtlc: '2' })));
      assert.equal(a.reason, 'FEE_INSUFFICIENT');
      assert.equal(b.reason, 'FEE_INSUFFICIENT');
      assert.equal(a.failureString, 'insufficient balance');
    });
  });

  describe('forward_event → forward_fail_event / settle_event', () => {
    it('forward then forward_fail → DOWNSTREAM failure with the remembered amounts', () => {
      const n = new Normalizer();
      assert.deepEqual(n.normalize(ev.forward(2_002_000, 2_000_000)), { type: 'ignored', why: 'forward-pending' });
      assert.equal(n.pendingForwards, 1);
      const f = failure(n.normalize(ev.forwardFail()));
      assert.equal(f.source, 'downstream');
      assert.equal(f.reason, 'DOWNSTREAM');
      assert.equal(f.category, 'downstream');
      assert.equal(f.incomingAmtMsat, 2_002_000n);
      assert.equal(f.outgoingAmtMsat, 2_000_000n);
      assert.equal(f.missedFeeMsat, 2_000n);
      assert.equal(f.amountsKnown, true);
      assert.equal(f.outgoingChanId, 879609302220865536n);
      assert.equal(n.pendingForwards, 0, 'resolved forwards are forgotten');
      assert.equal(n.pendingEvicted, 0, 'a resolved forward is not an eviction');
    });

    it('matches by incoming circuit (incoming channel, incoming htlc id)', () => {
      const n = new Normalizer();
      n.normalize(ev.forward(3000, 1000, { inChan: '1', inHtlc: '5' }));
      n.normalize(ev.forward(5000, 1000, { inChan: '2', inHtlc: '5' }));
      n.normalize(ev.forward(9000, 1000, { inChan: '1', inHtlc: '6' }));
      // outgoing ids do not matter for the match
      assert.equal(failure(n.normalize(ev.forwardFail({ inChan: '2', inHtlc: '5', outHtlc: '999' }))).missedFeeMsat, 4000n);
      assert.equal(failure(n.normalize(ev.forwardFail({ inChan: '1', inHtlc: '6' }))).missedFeeMsat, 8000n);
      assert.equal(success(n.normalize(ev.settle({ inChan: '1', inHtlc: '5' }))).feeMsat, 2000n);
    });

    it('forward_fail without a forward → DOWNSTREAM, missed fee 0, amountsKnown false', () => {
      const n = new Normalizer();
      const f = failure(n.normalize(ev.forwardFail()));
      assert.equal(f.reason, 'DOWNSTREAM');
      assert.equal(f.category, 'downstream');
      assert.equal(f.missedFeeMsat, 0n);
      assert.equal(f.incomingAmtMsat, 0n);
      assert.equal(f.outgoingAmtMsat, 0n);
      assert.equal(f.amountsKnown, false);
    });

    it('forward with outgoing 0 then forward_fail → no missed fee', () => {
      const n = new Normalizer();
      n.normalize(ev.forward(1000, 0));
      const f = failure(n.normalize(ev.forwardFail()));
      assert.equal(f.missedFeeMsat, 0n);
      assert.equal(f.amountsKnown, true);
    });

    it('settle after a forward → success with the fee', () => {
      const n = new Normalizer();
      n.normalize(ev.forward(1_000_250, 1_000_000));
      const s = success(n.normalize(ev.settle()));
      assert.equal(s.feeMsat, 250n);
      assert.equal(s.incomingAmtMsat, 1_000_250n);
      assert.equal(s.outgoingAmtMsat, 1_000_000n);
      assert.equal(s.amountsKnown, true);
      assert.equal(s.outgoingChanId, 879609302220865536n);
      assert.equal(n.pendingForwards, 0);
    });

    it('settle without a forward → success, fee 0, amountsKnown false', () => {
      const n = new Normalizer();
      const s = success(n.normalize(ev.settle()));
      assert.equal(s.feeMsat, 0n);
      assert.equal(s.amountsKnown, false);
    });

    it('a circuit resolves once: a later forward_fail on a settled circuit has no amounts', () => {
      const n = new Normalizer();
      n.normalize(ev.forward(2000, 1000));
      success(n.normalize(ev.settle()));
      const f = failure(n.normalize(ev.forwardFail()));
      assert.equal(f.amountsKnown, false);
      assert.equal(f.missedFeeMsat, 0n);
    });
  });

  describe('de-duplication', () => {
    it('detects a duplicate of each kind by kind + circuit', () => {
      const n = new Normalizer();
      assert.equal(n.normalize(ev.forward(2000, 1000)).type, 'ignored');
      assert.deepEqual(n.normalize(ev.forward(2000, 1000)), { type: 'duplicate' });
      assert.equal(n.normalize(ev.forwardFail()).type, 'outcome');
      assert.deepEqual(n.normalize(ev.forwardFail()), { type: 'duplicate' });

      assert.equal(n.normalize(ev.settle({ inHtlc: '8' })).type, 'outcome');
      assert.deepEqual(n.normalize(ev.settle({ inHtlc: '8' })), { type: 'duplicate' });

      assert.equal(n.normalize(ev.linkFail({}, { inHtlc: '9' })).type, 'outcome');
      assert.deepEqual(n.normalize(ev.linkFail({}, { inHtlc: '9' })), { type: 'duplicate' });
      // also when the replay carries a different failure_string or timestamp
      assert.deepEqual(n.normalize(ev.linkFail({ str: 'other' }, { inHtlc: '9', ts: '1700000001000000000' })), { type: 'duplicate' });
    });

    it('different kinds on one circuit are not duplicates of each other', () => {
      const n = new Normalizer();
      assert.equal(n.normalize(ev.forward(2000, 1000)).type, 'ignored');
      assert.equal(n.normalize(ev.settle()).type, 'outcome');
      assert.equal(n.normalize(ev.linkFail()).type, 'outcome');
    });

    it('the same htlc id on another incoming channel is another circuit', () => {
      const n = new Normalizer();
      assert.equal(n.normalize(ev.linkFail({}, { inChan: '1' })).type, 'outcome');
      assert.equal(n.normalize(ev.linkFail({}, { inChan: '2' })).type, 'outcome');
    });

    it('a replay after reconnect counts nothing twice', () => {
      const n = new Normalizer();
      const stream = [
        ev.forward(3000, 1000, { inHtlc: '1' }),
        ev.settle({ inHtlc: '1' }),
        ev.forward(5000, 1000, { inHtlc: '2' }),
        ev.forwardFail({ inHtlc: '2' }),
        ev.linkFail({}, { inHtlc: '3' }),
        ev.forward(7000, 1000, { inHtlc: '4' }),
      ];
      const first = stream.map((e) => n.normalize(e).type);
      assert.deepEqual(first, ['ignored', 'outcome', 'ignored', 'outcome', 'outcome', 'ignored']);
      // reconnect: LND sends subscribed_event, then (best effort) some of the same events again
      assert.equal(n.normalize(ev.subscribed()).type, 'ignored');
      for (const e of stream) assert.deepEqual(n.normalize(e), { type: 'duplicate' });
      // the forward still pending before the reconnect resolves with its amounts
      assert.equal(failure(n.normalize(ev.forwardFail({ inHtlc: '4' }))).missedFeeMsat, 6000n);
    });

    it('is bounded: past dedupeMax the oldest keys are forgotten', () => {
      const n = new Normalizer({ dedupeMax: 3 });
      for (let i = 0; i < 4; i++) assert.equal(n.normalize(ev.linkFail({}, { inHtlc: String(i) })).type, 'outcome');
      assert.equal(n.normalize(ev.linkFail({}, { inHtlc: '3' })).type, 'duplicate');
      assert.equal(n.normalize(ev.linkFail({}, { inHtlc: '0' })).type, 'outcome', 'forgotten after 3 newer keys');
    });

    // The times are given (normalize's `now`): with the wall clock, a pause of the process between
    // two calls (a loaded machine) could outlast the window where the test needs it not to.
    it('is a window: after dedupeTtlMs a key is forgotten', () => {
      const n = new Normalizer({ dedupeTtlMs: 30 });
      const t0 = 1_700_000_000_000;
      assert.equal(n.normalize(ev.linkFail(), t0).type, 'outcome');
      assert.equal(n.normalize(ev.linkFail(), t0 + 29).type, 'duplicate');
      assert.equal(n.normalize(ev.linkFail(), t0 + 30).type, 'outcome');
    });

    it('clear() forgets pending forwards and seen keys', () => {
      const n = new Normalizer();
      n.normalize(ev.forward(2000, 1000));
      n.normalize(ev.linkFail({}, { inHtlc: '9' }));
      n.clear();
      assert.equal(n.pendingForwards, 0);
      assert.equal(n.pendingEvicted, 0, 'clearing is not evicting');
      assert.equal(n.normalize(ev.linkFail({}, { inHtlc: '9' })).type, 'outcome');
      assert.equal(failure(n.normalize(ev.forwardFail())).amountsKnown, false);
    });
  });

  describe('pending forwards are bounded', () => {
    it('past maxPendingForwards the oldest forward is forgotten and counted', () => {
      const n = new Normalizer({ maxPendingForwards: 2 });
      n.normalize(ev.forward(2000, 1000, { inHtlc: '1' }));
      n.normalize(ev.forward(3000, 1000, { inHtlc: '2' }));
      assert.equal(n.pendingEvicted, 0);
      n.normalize(ev.forward(4000, 1000, { inHtlc: '3' }));
      assert.equal(n.pendingForwards, 2);
      assert.equal(n.pendingEvicted, 1);
      const lost = failure(n.normalize(ev.forwardFail({ inHtlc: '1' })));
      assert.equal(lost.amountsKnown, false);
      assert.equal(lost.missedFeeMsat, 0n);
      assert.equal(failure(n.normalize(ev.forwardFail({ inHtlc: '2' }))).missedFeeMsat, 2000n);
      assert.equal(success(n.normalize(ev.settle({ inHtlc: '3' }))).feeMsat, 3000n);
      assert.equal(n.pendingForwards, 0);
      assert.equal(n.pendingEvicted, 1);
    });

    it('a forward older than pendingForwardTtlMs is forgotten and counted', () => {
      const n = new Normalizer({ pendingForwardTtlMs: 30 });
      const t0 = 1_700_000_000_000;
      n.normalize(ev.forward(2000, 1000, { inHtlc: '1' }), t0);
      n.normalize(ev.forward(3000, 1000, { inHtlc: '2' }), t0 + 30);
      const f = failure(n.normalize(ev.forwardFail({ inHtlc: '1' }), t0 + 30));
      assert.equal(f.amountsKnown, false);
      assert.equal(f.missedFeeMsat, 0n);
      assert.equal(n.pendingEvicted, 1);
      // a fresh one still resolves with its amounts
      assert.equal(failure(n.normalize(ev.forwardFail({ inHtlc: '2' }), t0 + 59)).missedFeeMsat, 2000n);
      assert.equal(n.pendingEvicted, 1);
    });
  });
});

describe('Normalizer: the byte path (normalizeBytes) equals the object path', () => {
  const method = loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, MethodDefinition<object, object>>;
  const { responseSerialize } = method.SubscribeHtlcEvents;
  // few channels and htlc ids, so circuits repeat: forwards resolve, events repeat, maps fill up
  const chan = fc.constantFrom(IN_CHAN, OUT_CHAN, '0', '18446744073709551615', '123');
  const htlc = fc.oneof(
    fc.integer({ min: 0, max: 12 }).map(String),
    fc.constantFrom('4294967296', '4294967297', '8589934592', '18446744073709551615'), // high halves ≠ 0
  );
  const amt = fc.oneof(fc.integer({ min: 0, max: 5_000_000 }).map(String), fc.constantFrom('9007199254740993', '18446744073709551615'));
  const circuit = fc.record({
    inChan: chan,
    outChan: chan,
    inHtlc: htlc,
    outHtlc: htlc,
    ts: fc.constantFrom(TS_NS, '0', '1700000000999999999', '18446744073709551615'),
    type: fc.constantFrom<string | number>('FORWARD', 'FORWARD', 'FORWARD', 'SEND', 'RECEIVE'),
  });
  const oneEvent = fc.oneof(
    fc.tuple(amt, amt, circuit).map(([i, o, c]) => ev.forward(i, o, c)),
    circuit.map((c) => ev.settle(c)),
    circuit.map((c) => ev.forwardFail(c)),
    fc.tuple(fc.option(fc.tuple(amt, amt), { nil: null }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), circuit).map(([a, w, d, c]) =>
      ev.linkFail({ info: a ? info(a[0], a[1]) : null, wire: w, detail: d, str: `reason ${w}/${d}` }, c),
    ),
    fc.constant(ev.subscribed()),
    circuit.map((c) => ev.final(c)),
  );

  it('gives the same results, event by event, for any stream (small bounds, so eviction happens too)', () => {
    fc.assert(
      fc.property(fc.array(oneEvent, { maxLength: 200, size: 'max' }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 16 }), (events, maxPending, dedupe) => {
        const opts = { maxPendingForwards: maxPending, dedupeMax: dedupe };
        const objects = new Normalizer(opts);
        const bytes = new Normalizer(opts);
        for (const e of events) {
          const buf = responseSerialize(e as never);
          assert.deepEqual(bytes.normalizeBytes(buf), objects.normalize(decodeHtlcEvent(buf)));
        }
        assert.equal(bytes.pendingForwards, objects.pendingForwards);
        assert.equal(bytes.pendingEvicted, objects.pendingEvicted);
      }),
      { numRuns: 300 },
    );
  });

  it('matches a plain-Map model of the rules (circuits keyed by decimal strings, no bounds)', () => {
    fc.assert(
      fc.property(fc.array(oneEvent, { maxLength: 200, size: 'max' }), (events) => {
        const n = new Normalizer();
        const seen = new Set<string>();
        const pending = new Map<string, [bigint, bigint]>();
        for (const e of events) {
          const r = n.normalizeBytes(responseSerialize(e as never));
          if (e.event === 'subscribed_event' || e.event === 'final_htlc_event' || e.event_type !== 'FORWARD') {
            assert.equal(r.type, 'ignored');
            continue;
          }
          const c = `${e.incoming_channel_id}:${e.incoming_htlc_id}`;
          const key = `${e.event}|${c}`;
          if (seen.has(key)) {
            assert.deepEqual(r, { type: 'duplicate' });
            continue;
          }
          seen.add(key);
          if (e.event === 'forward_event') {
            pending.set(c, [BigInt(e.forward_event!.info!.incoming_amt_msat), BigInt(e.forward_event!.info!.outgoing_amt_msat)]);
            assert.equal(r.type, 'ignored');
            continue;
          }
          const o = outcome(r);
          assert.equal(o.incomingChanId, BigInt(e.incoming_channel_id));
          assert.equal(o.outgoingChanId, BigInt(e.outgoing_channel_id));
          assert.equal(o.incomingHtlcId, BigInt(e.incoming_htlc_id));
          assert.equal(o.timestampNs, BigInt(e.timestamp_ns));
          assert.equal(o.timestampMs, Number(BigInt(e.timestamp_ns) / 1_000_000n));
          if (e.event === 'link_fail_event') continue;
          const fwd = pending.get(c);
          pending.delete(c);
          assert.equal(o.amountsKnown, fwd !== undefined);
          assert.equal(o.incomingAmtMsat, fwd?.[0] ?? 0n);
          assert.equal(o.outgoingAmtMsat, fwd?.[1] ?? 0n);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps htlc ids that differ only in their high 32 bits apart', () => {
    const n = new Normalizer();
    n.normalize(ev.forward(2000, 1000, { inHtlc: '5' }));
    n.normalize(ev.forward(9000, 1000, { inHtlc: String(2n ** 32n + 5n) }));
    assert.equal(success(n.normalize(ev.settle({ inHtlc: String(2n ** 32n + 5n) }))).feeMsat, 8000n);
    assert.equal(success(n.normalize(ev.settle({ inHtlc: '5' }))).feeMsat, 1000n);
  });

  it('stays bounded when a stream names more channels than maxChannelSlots: starts afresh, counted', () => {
    const n = new Normalizer({ maxChannelSlots: 4 });
    for (let c = 1; c <= 10; c++) {
      const o = failure(n.normalize(ev.linkFail({}, { inChan: String(c), outChan: String(100 + c) })));
      assert.equal(o.incomingChanId, BigInt(c));
      assert.equal(o.outgoingChanId, BigInt(100 + c));
    }
    assert.ok(n.slotResets >= 4, `resets ${n.slotResets}`);
    // still works after a reset: a forward and its settle on fresh slots
    n.normalize(ev.forward(3000, 1000, { inChan: '77' }));
    assert.equal(success(n.normalize(ev.settle({ inChan: '77' }))).feeMsat, 2000n);
  });
});
