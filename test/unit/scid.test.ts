import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decodeScid, encodeScid, formatScid, parseChannelRef, parseU64 } from '../../src/core/scid';

const U64_MAX = (1n << 64n) - 1n;

const scidArb = fc.record({
  block: fc.integer({ min: 0, max: 2 ** 24 - 1 }),
  tx: fc.integer({ min: 0, max: 2 ** 24 - 1 }),
  output: fc.integer({ min: 0, max: 2 ** 16 - 1 }),
});

/** The bit layout written out by hand: block (3 bytes) | tx index (3 bytes) | output (2 bytes). */
function layout(block: bigint, tx: bigint, output: bigint): bigint {
  return (block << 40n) | (tx << 16n) | output;
}

describe('scid', () => {
  describe('encode / decode / format', () => {
    it('round-trips every short channel id (block < 2^24, tx < 2^24, out < 2^16)', () => {
      fc.assert(
        fc.property(scidArb, (s) => {
          const id = encodeScid(s);
          assert.equal(typeof id, 'bigint');
          assert.ok(id >= 0n && id <= U64_MAX);
          assert.equal(id, layout(BigInt(s.block), BigInt(s.tx), BigInt(s.output)));
          assert.deepEqual(decodeScid(id), { block: s.block, tx: s.tx, output: s.output });
          const text = formatScid(id);
          assert.equal(text, `${s.block}x${s.tx}x${s.output}`);
          assert.equal(formatScid(id.toString()), text);
          assert.equal(parseChannelRef(text), id);
          assert.equal(parseChannelRef(id.toString()), id);
        }),
        { numRuns: 500 },
      );
    });

    it('decodes every uint64 and re-encodes it exactly', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (id) => {
          assert.equal(encodeScid(decodeScid(id)), id);
          assert.equal(parseChannelRef(formatScid(id)), id);
        }),
        { numRuns: 500 },
      );
    });

    it('formats the golden id 967570232596561921 as 880000x2345x1', () => {
      // 880000 << 40 = 967570232429772800, 2345 << 16 = 153681920, + 1
      assert.equal(layout(880000n, 2345n, 1n), 967570232596561921n);
      assert.equal(880000n * 2n ** 40n + 2345n * 2n ** 16n + 1n, 967570232596561921n);
      assert.equal(formatScid('967570232596561921'), '880000x2345x1');
      assert.equal(formatScid(967570232596561921n), '880000x2345x1');
      assert.deepEqual(decodeScid(967570232596561921n), { block: 880000, tx: 2345, output: 1 });
    });

    it('formats the golden id 879609302220865536 as 800000x1x0', () => {
      assert.equal(layout(800000n, 1n, 0n), 879609302220865536n);
      assert.equal(800000n * 2n ** 40n + 1n * 2n ** 16n, 879609302220865536n);
      assert.equal(formatScid('879609302220865536'), '800000x1x0');
      assert.deepEqual(decodeScid(879609302220865536n), { block: 800000, tx: 1, output: 0 });
    });

    it('keeps the golden ids exact (they are beyond 2^53: a JS number would lose them)', () => {
      assert.ok(967570232596561921n > BigInt(Number.MAX_SAFE_INTEGER));
      assert.notEqual(BigInt(Number('967570232596561921')), 967570232596561921n);
      assert.equal(parseU64('967570232596561921'), 967570232596561921n);
    });

    it('formats the extremes', () => {
      assert.equal(formatScid(0n), '0x0x0');
      assert.equal(formatScid(U64_MAX), '16777215x16777215x65535');
    });
  });

  describe('parseU64', () => {
    it('parses decimal strings exactly, including values beyond 2^53', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (n) => {
          assert.equal(parseU64(n.toString()), n);
        }),
        { numRuns: 500 },
      );
      assert.equal(parseU64('9007199254740993'), 9007199254740993n); // 2^53 + 1
      assert.equal(parseU64('18446744073709551615'), U64_MAX);
      assert.equal(parseU64('0'), 0n);
      assert.equal(parseU64('00042'), 42n);
    });

    it('treats absent values as 0 (proto3 defaults)', () => {
      assert.equal(parseU64(''), 0n);
      assert.equal(parseU64(null), 0n);
      assert.equal(parseU64(undefined), 0n);
    });

    it('accepts safe non-negative integers and bigints', () => {
      assert.equal(parseU64(0), 0n);
      assert.equal(parseU64(Number.MAX_SAFE_INTEGER), 9007199254740991n);
      assert.equal(parseU64(U64_MAX), U64_MAX);
    });

    it('refuses junk', () => {
      for (const junk of ['abc', '1.5', '1e3', '0x10', ' 1', '1 ', '+1', '1_000', '١٢', '12a', '-0', 'NaN', 'Infinity']) {
        assert.throws(() => parseU64(junk), RangeError, JSON.stringify(junk));
      }
    });

    it('refuses negative values', () => {
      assert.throws(() => parseU64('-1'), RangeError);
      assert.throws(() => parseU64(-1), RangeError);
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: U64_MAX }), (n) => {
          assert.throws(() => parseU64(`-${n}`), RangeError);
        }),
      );
    });

    it('refuses values above 2^64 - 1', () => {
      assert.throws(() => parseU64('18446744073709551616'), RangeError);
      assert.throws(() => parseU64('99999999999999999999'), RangeError);
      assert.throws(() => parseU64('100000000000000000000'), RangeError);
      fc.assert(
        fc.property(fc.bigInt({ min: U64_MAX + 1n, max: 1n << 80n }), (n) => {
          assert.throws(() => parseU64(n.toString()), RangeError);
        }),
      );
    });

    it('refuses numbers that are not exact', () => {
      assert.throws(() => parseU64(2 ** 53), RangeError);
      assert.throws(() => parseU64(1.5), RangeError);
      assert.throws(() => parseU64(Number.NaN), RangeError);
      assert.throws(() => parseU64(Number.POSITIVE_INFINITY), RangeError);
    });
  });

  describe('parseChannelRef', () => {
    it('accepts the decimal form', () => {
      assert.equal(parseChannelRef('967570232596561921'), 967570232596561921n);
      assert.equal(parseChannelRef('  879609302220865536 '), 879609302220865536n);
    });

    it('accepts BLOCKxTXxOUT and BLOCK:TX:OUT', () => {
      assert.equal(parseChannelRef('880000x2345x1'), 967570232596561921n);
      assert.equal(parseChannelRef('880000:2345:1'), 967570232596561921n);
      assert.equal(parseChannelRef(' 800000x1x0\n'), 879609302220865536n);
      assert.equal(parseChannelRef('16777215x16777215x65535'), U64_MAX);
    });

    it('refuses out-of-range parts and junk', () => {
      assert.throws(() => parseChannelRef('16777216x0x0'), RangeError);
      assert.throws(() => parseChannelRef('0x16777216x0'), RangeError);
      assert.throws(() => parseChannelRef('0x0x65536'), RangeError);
      assert.throws(() => parseChannelRef('99999999999999999999999x1x1'), RangeError);
      for (const junk of ['', 'x', '1x2', '1x2x3x4', 'axbxc', '-1', '1x-2x3', '18446744073709551616']) {
        assert.throws(() => parseChannelRef(junk), RangeError, JSON.stringify(junk));
      }
    });
  });
});
