import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { IndexedMaxHeap } from '../../src/core/heap';

type Entry = { key: string; priority: bigint };
type Op = { op: 'set'; key: string; priority: bigint } | { op: 'delete'; key: string } | { op: 'clear' };

/** priority desc, then key asc (plain code-unit order, like the heap). */
function byRank(a: Entry, b: Entry): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function sortedModel(model: Map<string, bigint>): Entry[] {
  return [...model].map(([key, priority]) => ({ key, priority })).sort(byRank);
}

// A small alphabet so keys collide (updates of existing keys, deletes that hit).
const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'ab', 'B', '10', '9', '');
// Few distinct priorities so equal priorities are common, plus huge ones beyond 2^64.
const prioArb = fc.oneof(
  fc.bigInt({ min: -3n, max: 5n }),
  fc.constantFrom(0n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n, 2n ** 70n),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, priority: prioArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

function run(ops: Op[]): { heap: IndexedMaxHeap; model: Map<string, bigint> } {
  const heap = new IndexedMaxHeap();
  const model = new Map<string, bigint>();
  for (const o of ops) {
    if (o.op === 'set') {
      heap.set(o.key, o.priority);
      model.set(o.key, o.priority);
    } else if (o.op === 'delete') {
      assert.equal(heap.delete(o.key), model.delete(o.key), `delete(${JSON.stringify(o.key)})`);
    } else {
      heap.clear();
      model.clear();
    }
    assert.equal(heap.size, model.size);
  }
  return { heap, model };
}

function plain(entries: Entry[]): Entry[] {
  return entries.map(({ key, priority }) => ({ key, priority }));
}

describe('IndexedMaxHeap', () => {
  it('top(k) equals the first k of a full sort by (priority desc, key asc) after any operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), fc.nat(20), (ops, k) => {
        const { heap, model } = run(ops);
        const sorted = sortedModel(model);
        assert.deepEqual(plain(heap.top(k)), sorted.slice(0, k));
        assert.deepEqual(plain(heap.top(model.size + 5)), sorted);
        assert.deepEqual(heap.peek() && { ...heap.peek() }, sorted[0]);
      }),
      { numRuns: 1000 },
    );
  });

  it('size, has and priority agree with a Map model at every step', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const heap = new IndexedMaxHeap();
        const model = new Map<string, bigint>();
        for (const o of ops) {
          if (o.op === 'set') {
            heap.set(o.key, o.priority);
            model.set(o.key, o.priority);
          } else if (o.op === 'delete') {
            assert.equal(heap.delete(o.key), model.delete(o.key));
          } else {
            heap.clear();
            model.clear();
          }
          assert.equal(heap.size, model.size);
          for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'ab', 'B', '10', '9', '', 'zz']) {
            assert.equal(heap.has(key), model.has(key), `has(${key})`);
            assert.equal(heap.priority(key), model.get(key), `priority(${key})`);
          }
          // the top element is always the best one
          assert.deepEqual(plain(heap.top(1)), sortedModel(model).slice(0, 1));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('top(k) does not disturb the heap', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(fc.nat(15), { maxLength: 5 }), (ops, ks) => {
        const { heap, model } = run(ops);
        const before = plain(heap.top(heap.size));
        for (const k of ks) heap.top(k);
        assert.deepEqual(plain(heap.top(heap.size)), before);
        assert.deepEqual(before, sortedModel(model));
      }),
    );
  });

  it('delete of a missing key returns false and changes nothing', () => {
    const heap = new IndexedMaxHeap();
    assert.equal(heap.delete('x'), false);
    heap.set('a', 5n);
    heap.set('b', 7n);
    assert.equal(heap.delete('x'), false);
    assert.equal(heap.delete('a'), true);
    assert.equal(heap.delete('a'), false);
    assert.equal(heap.size, 1);
    assert.deepEqual(plain(heap.top(5)), [{ key: 'b', priority: 7n }]);
  });

  it('breaks ties by key, ascending', () => {
    const heap = new IndexedMaxHeap();
    for (const k of ['d', 'b', 'c', 'a']) heap.set(k, 1n);
    heap.set('z', 2n);
    assert.deepEqual(
      heap.top(5).map((e) => e.key),
      ['z', 'a', 'b', 'c', 'd'],
    );
  });

  it('handles k <= 0 and an empty heap', () => {
    const heap = new IndexedMaxHeap();
    assert.deepEqual(heap.top(3), []);
    assert.equal(heap.peek(), undefined);
    heap.set('a', 1n);
    assert.deepEqual(heap.top(0), []);
    assert.deepEqual(heap.top(-1), []);
  });

  it('keeps priorities beyond 2^64 exact', () => {
    const heap = new IndexedMaxHeap();
    heap.set('big', 2n ** 64n + 1n);
    heap.set('bigger', 2n ** 64n + 2n);
    assert.deepEqual(plain(heap.top(2)), [
      { key: 'bigger', priority: 18446744073709551618n },
      { key: 'big', priority: 18446744073709551617n },
    ]);
  });

  it('stays correct at a few thousand entries with updates (top-K without a full sort)', () => {
    const heap = new IndexedMaxHeap();
    const model = new Map<string, bigint>();
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      const key = `k${rnd(3000)}`;
      const r = rnd(10);
      if (r === 0) assert.equal(heap.delete(key), model.delete(key));
      else {
        const p = BigInt(rnd(500)) * 1_000_000_000_000n;
        heap.set(key, p);
        model.set(key, p);
      }
    }
    assert.equal(heap.size, model.size);
    assert.deepEqual(plain(heap.top(50)), sortedModel(model).slice(0, 50));
  });
});
