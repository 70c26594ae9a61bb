import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { MethodDefinition } from '@grpc/proto-loader';
import { loadLndProtos } from '../../src/core/lnd/protos';
import { decodeHtlcEvent } from '../../src/core/lnd/htlcDecoder';

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
