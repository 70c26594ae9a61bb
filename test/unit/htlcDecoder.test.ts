import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { MethodDefinition } from '@grpc/proto-loader';
import { loadLndProtos } from '../../src/core/lnd/protos';
import {
  decodeHtlcEvent, MEMBER_FINAL, MEMBER_FORWARD, MEMBER_FORWARD_FAIL, MEMBER_LINK_FAIL, MEMBER_NONE, MEMBER_SETTLE, MEMBER_SUBSCRIBED,
  RawHtlcEvent, readHtlcEvent,
} from '../../src/core/lnd/htlcDecoder';
import type { HtlcEvent } from '../../src/core/lnd/types';
import { FAILURE_CODE, FAILURE_DETAIL } from '../../src/core/reasons';
import { pbBytes, pbVarint, varint as varintBuf } from './faults-helpers';

const method = loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, MethodDefinition<object, object>>;
const { responseSerialize, responseDeserialize } = method.SubscribeHtlcEvents;

const u64 = fc.oneof(
  fc.constantFrom(0n, 1n, 127n, 128n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
).map((v) => v.toString());
const info = fc.record({
  incoming_timelock: fc.nat({ max: 0xffffffff }),
  outgoing_timelock: fc.nat({ max: 0xffffffff }),
  incoming_amt_msat: u64,
  outgoing_amt_msat: u64,
});
const enumNum = fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(997, 998, 999, 1234, 2 ** 31 - 1));
const member = fc.oneof(
  fc.constant({}),
  fc.record({ forward_event: fc.record({ info: fc.option(info, { nil: undefined }) }) }),
  fc.constant({ forward_fail_event: {} }),
  fc.record({ settle_event: fc.record({ preimage: fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)) }) }),
  fc.record({
    link_fail_event: fc.record({
      info: fc.option(info, { nil: undefined }),
      wire_failure: enumNum,
      failure_detail: enumNum,
      failure_string: fc.string({ maxLength: 40 }),
    }),
  }),
  fc.constant({ subscribed_event: {} }),
  fc.record({ final_htlc_event: fc.record({ settled: fc.boolean(), offchain: fc.boolean() }) }),
);
const event = fc
  .record({
    incoming_channel_id: u64,
    outgoing_channel_id: u64,
    incoming_htlc_id: u64,
    outgoing_htlc_id: u64,
    timestamp_ns: u64,
    event_type: fc.integer({ min: 0, max: 5 }),
  })
  .chain((base) => member.map((m) => ({ ...base, ...m })));

describe('decodeHtlcEvent (the hot-path decoder)', () => {
  it('decodes exactly what proto-loader decodes, for any HtlcEvent', () => {
    fc.assert(
      fc.property(event, (obj) => {
        const bytes = responseSerialize(obj as never);
        const expected = responseDeserialize(bytes);
        const actual = decodeHtlcEvent(bytes);
        assert.deepEqual(JSON.parse(JSON.stringify(actual)), JSON.parse(JSON.stringify(expected)));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes the golden ForwardFailEvent and SubscribedEvent', () => {
    const ev = decodeHtlcEvent(Buffer.from('088180a4c98080e0b60d10808084808080c09a0c18eb0920be830128959a8cbc91fbdfae1830034200', 'hex'));
    assert.equal(ev.incoming_channel_id, '967570232596561921');
    assert.equal(ev.outgoing_channel_id, '879609302220865536');
    assert.equal(ev.incoming_htlc_id, '1259');
    assert.equal(ev.outgoing_htlc_id, '16830');
    assert.equal(ev.timestamp_ns, '1755700000123456789');
    assert.equal(ev.event_type, 'FORWARD');
    assert.equal(ev.event, 'forward_fail_event');
    assert.equal(decodeHtlcEvent(Buffer.from('5a00', 'hex')).event, 'subscribed_event');
  });

  it('skips unknown fields and leaves an unknown oneof member unset', () => {
    // field 13, length-delimited (a future oneof member), then event_type FORWARD
    const ev = decodeHtlcEvent(Buffer.from('6a02080130 03'.replace(/ /g, ''), 'hex'));
    assert.equal(ev.event, undefined);
    assert.equal(ev.event_type, 'FORWARD');
  });

  it('refuses truncated input instead of reading past it', () => {
    assert.throws(() => decodeHtlcEvent(Buffer.from('5205', 'hex')), RangeError);
    assert.throws(() => decodeHtlcEvent(Buffer.from('08ffffff', 'hex')));
  });
});

describe('readHtlcEvent (the numeric hot path: one reused record)', () => {
  const MEMBER = { forward_event: MEMBER_FORWARD, forward_fail_event: MEMBER_FORWARD_FAIL, settle_event: MEMBER_SETTLE, link_fail_event: MEMBER_LINK_FAIL, subscribed_event: MEMBER_SUBSCRIBED, final_htlc_event: MEMBER_FINAL } as Record<string, number>;
  const codeOf = (table: Readonly<Record<number, string>>, v: string | number) => {
    if (typeof v === 'number') return v;
    const hit = Object.entries(table).find(([, name]) => name === v);
    assert.ok(hit, `enum name ${v}`);
    return Number(hit[0]);
  };
  const u64 = (hi: number, lo: number) => ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  // unknown fields of every wire type, as a newer LND may add them anywhere
  const unknownField = fc.oneof(
    fc.tuple(fc.integer({ min: 13, max: 2000 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(([f, v]) => pbVarint(f, v)),
    fc.tuple(fc.integer({ min: 13, max: 2000 }), fc.uint8Array({ maxLength: 300 })).map(([f, b]) => pbBytes(f, Buffer.from(b))),
    fc.integer({ min: 13, max: 2000 }).map((f) => Buffer.concat([varintBuf((f << 3) | 1), Buffer.alloc(8, 7)])),
    fc.integer({ min: 13, max: 2000 }).map((f) => Buffer.concat([varintBuf((f << 3) | 5), Buffer.alloc(4, 9)])),
  );

  it('reads exactly what proto-loader decodes, for any HtlcEvent with unknown fields around it', () => {
    const rec = new RawHtlcEvent();
    fc.assert(
      fc.property(event, fc.array(unknownField, { maxLength: 3 }), fc.array(unknownField, { maxLength: 2 }), (obj, before, after) => {
        const bytes = Buffer.concat([...before, responseSerialize(obj as never), ...after]);
        const e = responseDeserialize(bytes) as unknown as HtlcEvent;
        readHtlcEvent(bytes, rec);
        assert.equal(u64(rec.inChanHi, rec.inChanLo), e.incoming_channel_id);
        assert.equal(u64(rec.outChanHi, rec.outChanLo), e.outgoing_channel_id);
        assert.equal(u64(rec.inHtlcHi, rec.inHtlcLo), e.incoming_htlc_id);
        assert.equal(u64(rec.outHtlcHi, rec.outHtlcLo), e.outgoing_htlc_id);
        assert.equal(u64(rec.tsHi, rec.tsLo), e.timestamp_ns);
        assert.equal(rec.eventType, codeOf(['UNKNOWN', 'SEND', 'RECEIVE', 'FORWARD'], e.event_type));
        assert.equal(rec.member, e.event === undefined ? MEMBER_NONE : MEMBER[e.event]);
        const info = e.forward_event?.info ?? e.link_fail_event?.info ?? null;
        assert.equal(rec.hasInfo, info !== null);
        assert.equal(u64(rec.inAmtHi, rec.inAmtLo), info?.incoming_amt_msat ?? '0');
        assert.equal(u64(rec.outAmtHi, rec.outAmtLo), info?.outgoing_amt_msat ?? '0');
        const lf = e.link_fail_event;
        assert.equal(rec.wireFailure, lf ? codeOf(FAILURE_CODE, lf.wire_failure) : 0);
        assert.equal(rec.failureDetail, lf ? codeOf(FAILURE_DETAIL, lf.failure_detail) : 0);
        assert.equal(rec.failureString, lf?.failure_string ?? '');
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses truncated input, and a length running past the end, like decodeHtlcEvent', () => {
    const rec = new RawHtlcEvent();
    for (const hex of ['5205', '08ffffff', '3003 9a06 07 0807120100', '0a ffff03']) {
      assert.throws(() => readHtlcEvent(Buffer.from(hex.replace(/ /g, ''), 'hex'), rec), RangeError, hex);
    }
    // and the reader is fine for the next message
    readHtlcEvent(Buffer.from('5a00', 'hex'), rec);
    assert.equal(rec.member, MEMBER_SUBSCRIBED);
  });
});
