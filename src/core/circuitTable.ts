/**
 * A bounded, expiring table of HTLC circuits for the normaliser: keys are (slot, htlc) pairs of
 * small integers (the slot names the incoming channel), each entry holds `width` uint32 values.
 * The oldest entry goes first when it is full, and an entry expires `ttlMs` after it was set;
 * reads never change an entry's place.
 *
 * Why not lru-cache or a Map (issue 7, measured): with the de-duplication keys and the pending
 * forwards in lru-cache, its bookkeeping was about a quarter of the hot path's time, and every
 * entry left garbage (a boxed number key, a value object) that lived long enough to make each
 * young-generation GC copy it. Here everything is in typed arrays: a ring of entries in insertion
 * order, and an open-addressing index of ring positions (linear probing, deletion by shifting
 * back, so no tombstones). Removing leaves a hole in the ring, skipped at the head and squeezed out
 * when the ring fills up. Every operation is O(1) amortised; memory is bounded by `max`.
 */
export type CircuitRemoval = 'evict' | 'expire';

export interface CircuitTableOptions {
  /** Most entries kept; inserting past it removes the oldest ('evict'). */
  max: number;
  /** An entry expires this long after it was set ('expire', noticed when read or reached). */
  ttlMs: number;
  /** uint32 values per entry. */
  width: number;
  /** Called for entries removed by the bounds, not for remove() or clear(). */
  onRemove?: (why: CircuitRemoval) => void;
}

const EMPTY = -1;
const HOLE = -1; // in ringSlot: a removed entry

function hashOf(slot: number, htlc: number): number {
  const h = Math.imul(Math.imul(htlc, 0x85ebca6b) ^ Math.imul(slot + 1, 0x9e3779b1), 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}

export class CircuitTable {
  readonly max: number;
  readonly ttlMs: number;
  readonly width: number;
  private readonly onRemove: ((why: CircuitRemoval) => void) | undefined;
  // the ring: entries between head and tail (ring indexes, tail exclusive), holes where removed
  private cap = 0;
  private ringSlot!: Int32Array;
  private ringHtlc!: Uint32Array;
  private ringTime!: Float64Array;
  private ringVal!: Uint32Array;
  private head = 0;
  private used = 0; // ring cells from head to tail, holes included
  private live = 0;
  // the index: a ring index or EMPTY; twice the ring's capacity, so at most half full
  private index!: Int32Array;

  constructor(opts: CircuitTableOptions) {
    if (!(opts.max >= 1)) throw new RangeError('max must be at least 1');
    this.max = opts.max;
    this.ttlMs = opts.ttlMs;
    this.width = opts.width;
    this.onRemove = opts.onRemove;
    this.resize(64);
  }

  get size(): number {
    return this.live;
  }

  /** The entry's ring index, or -1 when absent or expired (an expired entry is removed). */
  find(slot: number, htlc: number, now: number): number {
    const mask = this.index.length - 1;
    let h = hashOf(slot, htlc) & mask;
    for (;;) {
      const i = this.index[h];
      if (i === EMPTY) return -1;
      if (this.ringSlot[i] === slot && this.ringHtlc[i] === htlc) {
        if (now - this.ringTime[i] >= this.ttlMs) {
          this.removeAt(i, h);
          this.onRemove?.('expire');
          return -1;
        }
        return i;
      }
      h = (h + 1) & mask;
    }
  }

  value(i: number, col: number): number {
    return this.ringVal[i * this.width + col];
  }

  setValue(i: number, col: number, v: number): void {
    this.ringVal[i * this.width + col] = v;
  }

  /**
   * Adds an entry that is not in the table (find() said -1) and returns its ring index, valid
   * until the next insert(); its values start at 0. The oldest entries go if it is full or expired.
   */
  insert(slot: number, htlc: number, now: number): number {
    this.trim(now, 1);
    // full of entries and holes: squeeze the holes out, or double when entries fill a quarter
    // (so a squeeze always frees at least three quarters and stays cheap per insert)
    if (this.used === this.cap) this.resize(this.live * 4 >= this.cap ? this.cap * 2 : this.cap);
    const i = (this.head + this.used) & (this.cap - 1);
    this.used++;
    this.live++;
    this.ringSlot[i] = slot;
    this.ringHtlc[i] = htlc;
    this.ringTime[i] = now;
    this.ringVal.fill(0, i * this.width, (i + 1) * this.width);
    this.indexEntry(i);
    return i;
  }

  /** Removes the entry at ring index i (from find or insert); not counted as evicted. */
  remove(i: number): void {
    this.removeAt(i, this.cellOf(i));
  }

  clear(): void {
    this.index.fill(EMPTY);
    this.head = 0;
    this.used = 0;
    this.live = 0;
  }

  /** Removes the oldest entries while more than `max - room` are kept or the oldest has expired. */
  private trim(now: number, room: number): void {
    // while entries are kept, head is one of them: removeAt moves it past the holes behind it
    while (this.live > 0) {
      const i = this.head;
      let why: CircuitRemoval;
      if (this.live + room > this.max) why = 'evict';
      else if (now - this.ringTime[i] >= this.ttlMs) why = 'expire';
      else break;
      this.removeAt(i, this.cellOf(i));
      this.onRemove?.(why);
    }
  }

  private cellOf(i: number): number {
    const mask = this.index.length - 1;
    let h = hashOf(this.ringSlot[i], this.ringHtlc[i]) & mask;
    while (this.index[h] !== i) h = (h + 1) & mask;
    return h;
  }

  private removeAt(i: number, cell: number): void {
    this.unindex(cell);
    this.ringSlot[i] = HOLE;
    this.live--;
    if (i === this.head) {
      while (this.used > 0 && this.ringSlot[this.head] === HOLE) this.advanceHead();
    }
  }

  /** Empties an index cell, shifting later entries of the probe run back into the gap. */
  private unindex(cell: number): void {
    const mask = this.index.length - 1;
    let gap = cell;
    let j = cell;
    for (;;) {
      j = (j + 1) & mask;
      const e = this.index[j];
      if (e === EMPTY) break;
      const home = hashOf(this.ringSlot[e], this.ringHtlc[e]) & mask;
      // the entry at j may move to the gap unless its home lies cyclically in (gap, j]
      const stays = gap <= j ? gap < home && home <= j : gap < home || home <= j;
      if (!stays) {
        this.index[gap] = e;
        gap = j;
      }
    }
    this.index[gap] = EMPTY;
  }

  private advanceHead(): void {
    this.head = (this.head + 1) & (this.cap - 1);
    this.used--;
  }

  /** Copies the live entries, in order, to the front of a ring of `cap` cells; rebuilds the index. */
  private resize(cap: number): void {
    const slot = new Int32Array(cap).fill(HOLE);
    const htlc = new Uint32Array(cap);
    const time = new Float64Array(cap);
    const val = new Uint32Array(cap * this.width);
    const w = this.width;
    let n = 0;
    for (let k = 0; k < this.used; k++) {
      const i = (this.head + k) & (this.cap - 1);
      if (this.ringSlot[i] === HOLE) continue;
      slot[n] = this.ringSlot[i];
      htlc[n] = this.ringHtlc[i];
      time[n] = this.ringTime[i];
      val.set(this.ringVal.subarray(i * w, (i + 1) * w), n * w);
      n++;
    }
    this.cap = cap;
    this.ringSlot = slot;
    this.ringHtlc = htlc;
    this.ringTime = time;
    this.ringVal = val;
    this.head = 0;
    this.used = n;
    this.index = new Int32Array(cap * 2).fill(EMPTY);
    for (let i = 0; i < n; i++) this.indexEntry(i);
  }

  /** Puts ring index i into the first free cell of its probe run. */
  private indexEntry(i: number): void {
    const mask = this.index.length - 1;
    let h = hashOf(this.ringSlot[i], this.ringHtlc[i]) & mask;
    while (this.index[h] !== EMPTY) h = (h + 1) & mask;
    this.index[h] = i;
  }
}
