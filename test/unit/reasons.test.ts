import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import fc from 'fast-check';
import * as protobuf from 'protobufjs';
import {
  CATEGORIES,
  Category,
  categoryOf,
  DOWNSTREAM,
  FAILURE_CODE,
  FAILURE_DETAIL,
  failureCodeName,
  failureDetailName,
  reasonKey,
  reasonLabel,
} from '../../src/core/reasons';

const PROTOS_DIR = path.resolve(__dirname, '../../protos');

function loadProtos(): protobuf.Root {
  const root = new protobuf.Root();
  // router.proto says `import "lightning.proto"`: resolve every import inside protos/.
  root.resolvePath = (_origin: string, target: string): string =>
    path.isAbsolute(target) ? target : path.join(PROTOS_DIR, target);
  root.loadSync(['router.proto', 'lightning.proto'], { keepCase: true });
  root.resolveAll();
  return root;
}

describe('reasons', () => {
  describe('tables mirror protos/', () => {
    let root: protobuf.Root;
    before(() => {
      root = loadProtos();
    });

    it('FAILURE_DETAIL equals routerrpc.FailureDetail exactly', () => {
      const e = root.lookupEnum('routerrpc.FailureDetail');
      const fromProto = Object.entries(e.values).map(([name, n]) => [n, name] as const);
      assert.ok(fromProto.length > 20, 'enum loaded');
      // the table is an array indexed by number: the proto values must be exactly 0..n-1
      const expected: string[] = [];
      for (const [n, name] of fromProto) {
        assert.equal(expected[n], undefined, `duplicate value ${n}`);
        expected[n] = name;
      }
      assert.equal(expected.length, fromProto.length, 'FailureDetail values are dense from 0');
      assert.deepEqual([...FAILURE_DETAIL], expected);
    });

    it('FAILURE_CODE equals lnrpc.Failure.FailureCode exactly', () => {
      const e = root.lookupEnum('lnrpc.Failure.FailureCode');
      const expected: Record<number, string> = {};
      for (const [name, n] of Object.entries(e.values)) expected[n] = name;
      assert.ok(Object.keys(expected).length > 25, 'enum loaded');
      assert.deepEqual({ ...FAILURE_CODE }, expected);
      // spot checks of the BOLT #4 numbers
      assert.equal(FAILURE_CODE[12], 'FEE_INSUFFICIENT');
      assert.equal(FAILURE_CODE[15], 'TEMPORARY_CHANNEL_FAILURE');
      assert.equal(FAILURE_CODE[999], 'UNREADABLE_FAILURE');
    });

    it('the names round-trip through failureDetailName / failureCodeName', () => {
      const fd = root.lookupEnum('routerrpc.FailureDetail');
      for (const [name, n] of Object.entries(fd.values)) {
        assert.equal(failureDetailName(n), name);
        assert.equal(failureDetailName(String(n)), name);
        assert.equal(failureDetailName(name), name);
      }
      const fcEnum = root.lookupEnum('lnrpc.Failure.FailureCode');
      for (const [name, n] of Object.entries(fcEnum.values)) {
        assert.equal(failureCodeName(n), name);
        assert.equal(failureCodeName(String(n)), name);
        assert.equal(failureCodeName(name), name);
      }
    });
  });

  describe('reasonKey', () => {
    it('uses failure_detail when it says something', () => {
      assert.equal(reasonKey('TEMPORARY_CHANNEL_FAILURE', 'INSUFFICIENT_BALANCE'), 'INSUFFICIENT_BALANCE');
      assert.equal(reasonKey('TEMPORARY_CHANNEL_FAILURE', 'HTLC_EXCEEDS_MAX'), 'HTLC_EXCEEDS_MAX');
      assert.equal(reasonKey('UNKNOWN_NEXT_PEER', 'LINK_NOT_ELIGIBLE'), 'LINK_NOT_ELIGIBLE');
      assert.equal(reasonKey('RESERVED', 'ONION_DECODE'), 'ONION_DECODE');
    });

    it('falls back to wire_failure when failure_detail is UNKNOWN or NO_DETAIL', () => {
      assert.equal(reasonKey('FEE_INSUFFICIENT', 'NO_DETAIL'), 'FEE_INSUFFICIENT');
      assert.equal(reasonKey('FEE_INSUFFICIENT', 'UNKNOWN'), 'FEE_INSUFFICIENT');
      assert.equal(reasonKey('CHANNEL_DISABLED', 1), 'CHANNEL_DISABLED');
      assert.equal(reasonKey('CHANNEL_DISABLED', 0), 'CHANNEL_DISABLED');
      assert.equal(reasonKey('EXPIRY_TOO_SOON', null), 'EXPIRY_TOO_SOON');
      assert.equal(reasonKey('EXPIRY_TOO_SOON', undefined), 'EXPIRY_TOO_SOON');
      assert.equal(reasonKey(null, 'NO_DETAIL'), 'RESERVED');
      assert.equal(reasonKey(undefined, undefined), 'RESERVED');
    });

    it('accepts enum numbers (newer LND with enums: String still sends numbers it cannot name)', () => {
      assert.equal(reasonKey(15, 6), 'INSUFFICIENT_BALANCE');
      assert.equal(reasonKey(12, 1), 'FEE_INSUFFICIENT');
      assert.equal(reasonKey(12, 0), 'FEE_INSUFFICIENT');
    });

    it('accepts numeric strings as numbers', () => {
      assert.equal(reasonKey('12', '1'), 'FEE_INSUFFICIENT');
      assert.equal(reasonKey('15', '6'), 'INSUFFICIENT_BALANCE');
      assert.equal(reasonKey('15', '0'), 'TEMPORARY_CHANNEL_FAILURE');
      assert.equal(failureDetailName('999'), 'FAILURE_DETAIL_999');
      assert.equal(failureCodeName('1234'), 'WIRE_FAILURE_1234');
    });

    it('gives unknown numbers a readable key, never a crash', () => {
      assert.equal(reasonKey('TEMPORARY_CHANNEL_FAILURE', 999), 'FAILURE_DETAIL_999');
      assert.equal(reasonKey('TEMPORARY_CHANNEL_FAILURE', '999'), 'FAILURE_DETAIL_999');
      assert.equal(reasonKey(1234, 'NO_DETAIL'), 'WIRE_FAILURE_1234');
      assert.equal(reasonKey('1234', 'UNKNOWN'), 'WIRE_FAILURE_1234');
      assert.equal(reasonKey(1234, 1), 'WIRE_FAILURE_1234');
      assert.equal(failureDetailName(28), 'FAILURE_DETAIL_28');
      assert.equal(failureCodeName(26), 'WIRE_FAILURE_26');
      assert.equal(failureCodeName(996), 'WIRE_FAILURE_996');
    });

    it('never throws and always yields a non-empty key for any enum number', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.nat(100_000), fc.constantFrom(null, undefined)),
          fc.oneof(fc.nat(100_000), fc.constantFrom(null, undefined)),
          fc.boolean(),
          (wire, detail, asString) => {
            const w = asString && wire != null ? String(wire) : wire;
            const d = asString && detail != null ? String(detail) : detail;
            const key = reasonKey(w, d);
            assert.equal(typeof key, 'string');
            assert.ok(key.length > 0);
            assert.ok(CATEGORIES.includes(categoryOf(key)));
            const dName = failureDetailName(detail);
            if (dName !== 'UNKNOWN' && dName !== 'NO_DETAIL') assert.equal(key, dName);
            else assert.equal(key, failureCodeName(wire));
            if (typeof detail === 'number' && detail >= FAILURE_DETAIL.length) assert.equal(key, `FAILURE_DETAIL_${detail}`);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('failure_string plays no part (reasonKey does not even take it)', () => {
      assert.equal(reasonKey.length, 2);
    });
  });

  describe('categories', () => {
    // Every reason LND's switch/link reports for a forward that fails at our node
    // (htlcswitch: link.go, switch.go, CheckHtlcForward), plus DOWNSTREAM.
    const expected: Record<string, Category> = {
      // detail-bearing outgoing failures
      INSUFFICIENT_BALANCE: 'liquidity',
      HTLC_EXCEEDS_MAX: 'policy',
      LINK_NOT_ELIGIBLE: 'peer',
      HTLC_ADD_FAILED: 'peer',
      FORWARDS_DISABLED: 'peer',
      ONION_DECODE: 'other',
      ON_CHAIN_TIMEOUT: 'other',
      INCOMPLETE_FORWARD: 'other',
      CIRCULAR_ROUTE: 'other',
      // wire failures (failure_detail NO_DETAIL)
      TEMPORARY_CHANNEL_FAILURE: 'liquidity',
      FEE_INSUFFICIENT: 'fee',
      AMOUNT_BELOW_MINIMUM: 'policy',
      INCORRECT_CLTV_EXPIRY: 'policy',
      EXPIRY_TOO_SOON: 'policy',
      EXPIRY_TOO_FAR: 'policy',
      UNKNOWN_NEXT_PEER: 'peer',
      CHANNEL_DISABLED: 'peer',
      PERMANENT_CHANNEL_FAILURE: 'peer',
      TEMPORARY_NODE_FAILURE: 'peer',
      PERMANENT_NODE_FAILURE: 'peer',
      REQUIRED_CHANNEL_FEATURE_MISSING: 'peer',
      REQUIRED_NODE_FEATURE_MISSING: 'peer',
      INVALID_ONION_VERSION: 'other',
      INVALID_ONION_HMAC: 'other',
      INVALID_ONION_KEY: 'other',
      INVALID_ONION_PAYLOAD: 'other',
      INVALID_ONION_BLINDING: 'other',
      INVALID_REALM: 'other',
      INTERNAL_FAILURE: 'other',
      UNKNOWN_FAILURE: 'other',
      UNREADABLE_FAILURE: 'other',
      RESERVED: 'other',
      // after we forwarded it
      [DOWNSTREAM]: 'downstream',
    };

    for (const [reason, category] of Object.entries(expected)) {
      it(`${reason} -> ${category}`, () => {
        assert.equal(categoryOf(reason), category);
      });
    }

    it('puts the reasons of a real link failure where an operator would look', () => {
      assert.equal(categoryOf(reasonKey('TEMPORARY_CHANNEL_FAILURE', 'INSUFFICIENT_BALANCE')), 'liquidity');
      assert.equal(categoryOf(reasonKey('FEE_INSUFFICIENT', 'NO_DETAIL')), 'fee');
      assert.equal(categoryOf(reasonKey('UNKNOWN_NEXT_PEER', 'LINK_NOT_ELIGIBLE')), 'peer');
      assert.equal(categoryOf(reasonKey('TEMPORARY_CHANNEL_FAILURE', 'HTLC_EXCEEDS_MAX')), 'policy');
    });

    it('maps every proto name, every unknown key and any string to one of the six categories', () => {
      assert.deepEqual([...CATEGORIES].sort(), ['downstream', 'fee', 'liquidity', 'other', 'peer', 'policy']);
      for (const name of [...FAILURE_DETAIL, ...Object.values(FAILURE_CODE)]) {
        assert.ok(CATEGORIES.includes(categoryOf(name)), name);
      }
      assert.equal(categoryOf('FAILURE_DETAIL_999'), 'other');
      assert.equal(categoryOf('WIRE_FAILURE_1234'), 'other');
      // names that exist on Object.prototype are reasons like any other
      for (const s of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        assert.equal(categoryOf(s), 'other', s);
      }
      fc.assert(
        fc.property(fc.string(), (s) => {
          assert.ok(CATEGORIES.includes(categoryOf(s)));
        }),
      );
    });

    it('invoice-side details (only a final hop sees them) are not forward categories', () => {
      for (const r of ['INVOICE_CANCELED', 'INVOICE_UNDERPAID', 'MPP_INVOICE_TIMEOUT', 'UNKNOWN_INVOICE', 'INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS']) {
        assert.equal(categoryOf(r), 'other', r);
      }
    });
  });

  it('reasonLabel is human', () => {
    assert.equal(reasonLabel('INSUFFICIENT_BALANCE'), 'insufficient balance');
    assert.equal(reasonLabel(DOWNSTREAM), 'downstream');
  });
});
