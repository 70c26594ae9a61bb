import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { FailureRing, ReasonInterner, RecentFailure } from '../../src/core/ring';
import { categoryOf } from '../../src/core/reasons';

type Input = Omit<RecentFailure, 'missedFeeMsat' | 'category'>;

const U64_MAX = (1n << 64n) - 1n;

function expected(f: Input): RecentFailure {
  return {
    timestampMs: f.timestampMs,
    incomingChanId: f.incomingChanId,
    incomingAmtMsat: f.incomingAmtMsat,
    outgoingAmtMsat: f.outgoingAmtMsat,
    missedFeeMsat: f.outgoingAmtMsat > 0n && f.incomingAmtMsat > f.outgoingAmtMsat ? f.incomingAmtMsat - f.outgoingAmtMsat : 0n,
    reason: f.reason,
    category: categoryOf(f.reason),
    failureString: f.failureString,
  };
}

const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: U64_MAX }));
const inputArb: fc.Arbitrary<Input> = fc.record({
  timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  incomingChanId: u64,
  incomingAmtMsat: u64,
  outgoingAmtMsat: u64,
  reason: fc.constantFrom('INSUFFICIENT_BALANCE', 'FEE_INSUFFICIENT', 'DOWNSTREAM', 'CHANNEL_DISABLED', 'FAILURE_DETAIL_999'),
  failureString: fc.constantFrom('', 'insufficient bandwidth', 'fee too low', 'peer offline'),
});

function input(i: number, over: Partial<Input> = {}): Input {
  return {
    timestampMs: 1_700_000_000_000 + i,
    incomingChanId: BigInt(i),
    incomingAmtMsat: 1000n + BigInt(i),
    outgoingAmtMsat: 1000n,
    reason: 'INSUFFICIENT_BALANCE',
    failureString: '',
    ...over,
  };
}

describe('FailureRing', () => {
  it('keeps the newest `capacity` entries, newest first, across growth and wrap-around', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.oneof({ weight: 20, arbitrary: inputArb }, { weight: 1, arbitrary: fc.constant('clear' as const) }), {
          maxLength: 80,
        }),
        fc.nat(30),
        (capacity, initial, ops, limit) => {
          const ring = new FailureRing(capacity, new ReasonInterner(), initial);
          let model: Input[] = [];
          for (const op of ops) {
            if (op === 'clear') {
              ring.clear();
              model = [];
            } else {
              ring.push(op);
              model.push(op);
            }
            const want = model.slice(-capacity).reverse().map(expected);
            assert.equal(ring.size, want.length);
            assert.deepEqual(ring.toArray(), want);
          }
          const want = model.slice(-capacity).reverse().map(expected);
          assert.deepEqual(ring.toArray(limit), want.slice(0, limit));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('default initial size grows to a capacity that is not a power of two', () => {
    const ring = new FailureRing(100, new ReasonInterner());
    const all: Input[] = [];
    for (let i = 0; i < 250; i++) {
      const f = input(i);
      all.push(f);
      ring.push(f);
    }
    assert.equal(ring.size, 100);
    assert.deepEqual(ring.toArray(), all.slice(-100).reverse().map(expected));
    assert.equal(ring.toArray()[0].incomingChanId, 249n);
    assert.equal(ring.toArray()[99].incomingChanId, 150n);
  });

  it('keeps incoming amounts exact however far they are from the outgoing one (the int32 difference word and its fallback), across growth and overwrites', () => {
    const ring = new FailureRing(8, new ReasonInterner(), 1);
    const amounts: [bigint, bigint][] = [
      [0n, 0n],
      [2n ** 64n - 1n, 0n],
      [0n, 2n ** 64n - 1n],
      [1000n + 2n ** 31n - 1n, 1000n],
      [1000n + 2n ** 31n, 1000n],
      [1000n, 1000n + 2n ** 31n - 1n],
      [1000n, 1000n + 2n ** 31n],
      [5_000_000n, 5_003_000n],
      [2n ** 63n + 7n, 2n ** 63n],
    ];
    const all: Input[] = [];
    for (let k = 0; k < 30; k++) {
      const [inAmt, outAmt] = amounts[k % amounts.length];
      const f = { ...input(k), incomingAmtMsat: inAmt, outgoingAmtMsat: outAmt };
      all.push(f);
      ring.push(f);
      const n = Math.min(all.length, 8);
      assert.deepEqual(ring.toArray(), all.slice(-n).reverse().map(expected));
    }
  });

  it('keeps values beyond 2^53 intact', () => {
    const ring = new FailureRing(3, new ReasonInterner());
    const f = input(0, {
      incomingChanId: 967570232596561921n,
      incomingAmtMsat: U64_MAX,
      outgoingAmtMsat: 2n ** 53n + 1n,
    });
    ring.push(f);
    const [got] = ring.toArray();
    assert.equal(got.incomingChanId, 967570232596561921n);
    assert.equal(got.incomingAmtMsat, 18446744073709551615n);
    assert.equal(got.outgoingAmtMsat, 9007199254740993n);
    assert.equal(got.missedFeeMsat, U64_MAX - (2n ** 53n + 1n));
  });

  it('derives the missed fee: in − out only when out > 0 (and in > out)', () => {
    const ring = new FailureRing(10, new ReasonInterner());
    ring.push(input(0, { incomingAmtMsat: 1_001_000n, outgoingAmtMsat: 1_000_000n }));
    ring.push(input(1, { incomingAmtMsat: 1_001_000n, outgoingAmtMsat: 0n }));
    ring.push(input(2, { incomingAmtMsat: 0n, outgoingAmtMsat: 0n }));
    ring.push(input(3, { incomingAmtMsat: 500n, outgoingAmtMsat: 700n }));
    assert.deepEqual(
      ring.toArray().map((f) => f.missedFeeMsat),
      [0n, 0n, 0n, 1000n],
    );
  });

  it('gives back reason, category and failure_string', () => {
    const ring = new FailureRing(10, new ReasonInterner());
    ring.push(input(0, { reason: 'FEE_INSUFFICIENT', failureString: 'fee too low' }));
    ring.push(input(1, { reason: 'DOWNSTREAM' }));
    const [a, b] = ring.toArray();
    assert.equal(a.reason, 'DOWNSTREAM');
    assert.equal(a.category, 'downstream');
    assert.equal(a.failureString, '');
    assert.equal(b.reason, 'FEE_INSUFFICIENT');
    assert.equal(b.category, 'fee');
    assert.equal(b.failureString, 'fee too low');
  });

  it('with capacity 0 keeps nothing', () => {
    const ring = new FailureRing(0, new ReasonInterner());
    ring.push(input(0));
    assert.equal(ring.size, 0);
    assert.deepEqual(ring.toArray(), []);
  });
});

describe('ReasonInterner', () => {
  it('gives one code per (reason, failure_string) pair and reads it back', () => {
    const ri = new ReasonInterner();
    const a = ri.code('INSUFFICIENT_BALANCE', '');
    const b = ri.code('INSUFFICIENT_BALANCE', 'insufficient bandwidth');
    const c = ri.code('FEE_INSUFFICIENT', '');
    assert.equal(new Set([a, b, c]).size, 3);
    assert.equal(ri.code('INSUFFICIENT_BALANCE', 'insufficient bandwidth'), b);
    assert.deepEqual(ri.get(b), { reason: 'INSUFFICIENT_BALANCE', failureString: 'insufficient bandwidth' });
    assert.deepEqual(ri.get(c), { reason: 'FEE_INSUFFICIENT', failureString: '' });
  });

  it('reads an unknown code back as UNKNOWN', () => {
    const ri = new ReasonInterner();
    assert.deepEqual(ri.get(12345), { reason: 'UNKNOWN', failureString: '' });
  });

  it('past the limit keeps new strings without their failure_string', () => {
    const ri = new ReasonInterner(3);
    ri.code('INSUFFICIENT_BALANCE', '');
    ri.code('INSUFFICIENT_BALANCE', 'one');
    ri.code('INSUFFICIENT_BALANCE', 'two');
    // full: known pairs still resolve exactly
    assert.deepEqual(ri.get(ri.code('INSUFFICIENT_BALANCE', 'two')), { reason: 'INSUFFICIENT_BALANCE', failureString: 'two' });
    // a new failure_string of a known reason falls back to the reason alone
    assert.deepEqual(ri.get(ri.code('INSUFFICIENT_BALANCE', 'three')), { reason: 'INSUFFICIENT_BALANCE', failureString: '' });
  });

  it('past the limit never hands out another reason’s code', () => {
    // A busy node fills the table with one reason's varied failure strings; a reason first
    // seen afterwards must still read back as itself, not as whatever code 0 holds.
    const ri = new ReasonInterner(4);
    for (let i = 0; i < 4; i++) ri.code('INSUFFICIENT_BALANCE', `insufficient bandwidth #${i}`);
    assert.deepEqual(ri.get(ri.code('FEE_INSUFFICIENT', 'fee too low')), { reason: 'FEE_INSUFFICIENT', failureString: '' });
    assert.deepEqual(ri.get(ri.code('DOWNSTREAM', '')), { reason: 'DOWNSTREAM', failureString: '' });
    assert.deepEqual(ri.get(ri.code('FEE_INSUFFICIENT', '')), { reason: 'FEE_INSUFFICIENT', failureString: '' });
    // and the ring shows the right reason and category
    const ring = new FailureRing(5, ri);
    ring.push(input(0, { reason: 'CHANNEL_DISABLED', failureString: 'disabled' }));
    const [got] = ring.toArray();
    assert.equal(got.reason, 'CHANNEL_DISABLED');
    assert.equal(got.category, 'peer');
    assert.equal(got.failureString, '');
  });

  it('past the limit stays bounded by the reasons alone', () => {
    const ri = new ReasonInterner(2);
    for (let i = 0; i < 1000; i++) ri.code(i % 2 ? 'A' : 'B', `string ${i}`);
    const codes = new Set<number>();
    for (let i = 0; i < 1000; i++) codes.add(ri.code(i % 2 ? 'A' : 'B', `other ${i}`));
    // A and B past the limit each map to their reason-only entry
    assert.equal(codes.size, 2);
    for (const c of codes) assert.equal(ri.get(c).failureString, '');
  });

  it('codes always fit the ring’s 16-bit slots, whatever the limit', () => {
    const ri = new ReasonInterner(100_000);
    const ring = new FailureRing(4, ri);
    const reasons = ['FEE_INSUFFICIENT', 'INSUFFICIENT_BALANCE', 'CHANNEL_DISABLED'];
    for (let i = 0; i < 70_000; i++) {
      const reason = reasons[i % 3];
      const code = ri.code(reason, `s${i}`);
      assert.ok(code >= 0 && code < 0x10000, `code ${code} does not fit 16 bits`);
      // never another reason: the right one, or UNKNOWN once every code is used
      const back = ri.get(code).reason;
      if (back !== reason) assert.equal(back, 'UNKNOWN', `s${i}`);
      if (i >= 69_996) {
        ring.push(input(i, { reason, failureString: `s${i}` }));
        const got = ring.toArray()[0];
        if (got.reason !== reason) assert.equal(got.reason, 'UNKNOWN');
      }
    }
  });
});
