import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { CircuitTable } from '../../src/core/circuitTable';

/** The same rules with a plain Map in insertion order: what CircuitTable must behave like. */
class Model {
  readonly map = new Map<string, { t: number; v: number }>();
  removed = { evict: 0, expire: 0 };
  constructor(readonly max: number, readonly ttl: number) {}
  find(k: string, now: number): number | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (now - e.t >= this.ttl) {
      this.map.delete(k);
      this.removed.expire++;
      return undefined;
    }
    return e.v;
  }
  insert(k: string, v: number, now: number): void {
    for (const [key, e] of this.map) {
      if (this.map.size + 1 > this.max) this.removed.evict++;
      else if (now - e.t >= this.ttl) this.removed.expire++;
      else break;
      this.map.delete(key);
    }
    this.map.set(k, { t: now, v });
  }
}

type Op = { op: 'find' | 'upsert' | 'remove'; slot: number; htlc: number; v: number; dt: number };

describe('CircuitTable (the normaliser\'s bounded, expiring circuits)', () => {
  const op = fc.record({
    op: fc.constantFrom<Op['op']>('find', 'upsert', 'upsert', 'remove'),
    slot: fc.integer({ min: 0, max: 6 }),
    htlc: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0xffffffff, 0x80000000)),
    v: fc.nat({ max: 0xffffffff }),
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
  });

  it('behaves like an insertion-ordered Map with the same bounds, through growth, holes and compaction', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000, size: 'max' }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2000 }), (ops, max, ttl) => {
        const removed = { evict: 0, expire: 0 };
        const t = new CircuitTable({ max, ttlMs: ttl, width: 2, onRemove: (why) => removed[why]++ });
        const m = new Model(max, ttl);
        let now = 1_000;
        for (const o of ops) {
          now += o.dt;
          const k = `${o.slot}:${o.htlc}`;
          const i = t.find(o.slot, o.htlc, now);
          const mv = m.find(k, now);
          assert.equal(i >= 0, mv !== undefined, `${o.op} ${k} present`);
          if (i >= 0) {
            assert.equal(t.value(i, 0), mv);
            assert.equal(t.value(i, 1), (mv! ^ 0x5a5a) >>> 0);
          }
          if (o.op === 'upsert') {
            // like the normaliser's isDuplicate: renew means remove and insert as the newest
            if (i >= 0) t.remove(i);
            if (mv !== undefined) m.map.delete(k);
            const j = t.insert(o.slot, o.htlc, now);
            t.setValue(j, 0, o.v);
            t.setValue(j, 1, (o.v ^ 0x5a5a) >>> 0);
            m.insert(k, o.v, now);
          } else if (o.op === 'remove' && i >= 0) {
            t.remove(i);
            m.map.delete(k);
          }
          assert.equal(t.size, m.map.size);
          assert.deepEqual(removed, m.removed);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('stays within its bound and reuses its memory on a long stream of short-lived circuits', () => {
    const t = new CircuitTable({ max: 1000, ttlMs: 1e9, width: 4 });
    t.insert(999, 0, 0); // held for hours (a hodl invoice): the oldest entry never leaves
    for (let n = 0; n < 1_000_000; n++) {
      t.insert(n % 50, n, n);
      if (n >= 10) t.remove(t.find((n - 10) % 50, n - 10, n)); // resolved ten events later
    }
    assert.equal(t.size, 11);
    assert.ok(t.find(999, 0, 1e6) >= 0);
    assert.ok((t as unknown as { cap: number }).cap <= 64, `ring ${(t as unknown as { cap: number }).cap} cells for 10 entries`);
  });
});
