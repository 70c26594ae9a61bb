import type { Category } from './reasons';
import { categoryOf } from './reasons';

/** One recent failure, as shown in the tree and the analysis. */
export interface RecentFailure {
  timestampMs: number;
  incomingChanId: bigint;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  missedFeeMsat: bigint;
  reason: string;
  category: Category;
  failureString: string;
}

/** Codes are stored in a Uint16Array: 0xffff is never assigned and reads back as UNKNOWN. */
const MAX_CODES = 0xffff;
const UNKNOWN_CODE = 0xffff;

/**
 * Interns (reason, failure_string) pairs to 16-bit codes so a ring entry stays a few typed-array
 * slots. Bounded: past the limit, new strings are kept without their failure_string.
 */
export class ReasonInterner {
  private readonly byKey = new Map<string, number>();
  private readonly entries: { reason: string; failureString: string }[] = [];
  private readonly limit: number;
  constructor(limit = 4096) {
    this.limit = Math.min(limit, MAX_CODES);
  }

  code(reason: string, failureString: string): number {
    const key = `${reason}\u0000${failureString}`;
    let c = this.byKey.get(key);
    if (c !== undefined) return c;
    if (this.entries.length >= this.limit) {
      if (failureString) return this.code(reason, '');
      // The reason alone is still kept (reasons are few: LND's enum names) while codes last;
      // never another reason's code.
      if (this.entries.length >= MAX_CODES) return UNKNOWN_CODE;
    }
    c = this.entries.length;
    this.entries.push({ reason, failureString });
    this.byKey.set(key, c);
    return c;
  }

  get(code: number): { reason: string; failureString: string } {
    return this.entries[code] ?? { reason: 'UNKNOWN', failureString: '' };
  }
}

const BIG_FIELDS = 3; // incoming chan id, incoming amt, outgoing amt

/**
 * A fixed-capacity ring of recent failures in typed arrays (about 34 bytes an entry instead of a
 * few hundred for objects). It grows by doubling up to its capacity, so quiet channels stay small.
 */
export class FailureRing {
  private ts: Float64Array;
  private big: BigUint64Array;
  private codes: Uint16Array;
  private head = 0; // next write position
  private count = 0;

  constructor(readonly capacity: number, private readonly interner: ReasonInterner, initial = 4) {
    const n = Math.max(1, Math.min(capacity, initial));
    [this.ts, this.big, this.codes] = FailureRing.alloc(n);
  }

  /**
   * The three arrays as views on one ArrayBuffer (issue 7, measured: each ArrayBuffer costs a
   * backing store and its bookkeeping, about 0.25 KiB a channel over three separate buffers).
   */
  private static alloc(n: number): [Float64Array, BigUint64Array, Uint16Array] {
    const buf = new ArrayBuffer(n * (8 + 8 * BIG_FIELDS + 2));
    return [new Float64Array(buf, 0, n), new BigUint64Array(buf, n * 8, n * BIG_FIELDS), new Uint16Array(buf, n * (8 + 8 * BIG_FIELDS), n)];
  }

  get size(): number {
    return this.count;
  }

  push(f: Omit<RecentFailure, 'missedFeeMsat' | 'category'>): void {
    if (this.capacity <= 0) return;
    if (this.count === this.ts.length && this.ts.length < this.capacity) this.grow();
    const i = this.head;
    this.ts[i] = f.timestampMs;
    this.big[i * BIG_FIELDS] = f.incomingChanId;
    this.big[i * BIG_FIELDS + 1] = f.incomingAmtMsat;
    this.big[i * BIG_FIELDS + 2] = f.outgoingAmtMsat;
    this.codes[i] = this.interner.code(f.reason, f.failureString);
    this.head = (i + 1) % this.ts.length;
    if (this.count < this.ts.length) this.count++;
  }

  /** Newest first. */
  toArray(limit = this.count): RecentFailure[] {
    const out: RecentFailure[] = [];
    const n = this.ts.length;
    for (let k = 0; k < Math.min(limit, this.count); k++) {
      const i = (this.head - 1 - k + n * 2) % n;
      const { reason, failureString } = this.interner.get(this.codes[i]);
      const inAmt = this.big[i * BIG_FIELDS + 1];
      const outAmt = this.big[i * BIG_FIELDS + 2];
      out.push({
        timestampMs: this.ts[i],
        incomingChanId: this.big[i * BIG_FIELDS],
        incomingAmtMsat: inAmt,
        outgoingAmtMsat: outAmt,
        missedFeeMsat: outAmt > 0n && inAmt > outAmt ? inAmt - outAmt : 0n,
        reason,
        category: categoryOf(reason),
        failureString,
      });
    }
    return out;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const oldN = this.ts.length;
    const n = Math.min(this.capacity, oldN * 2);
    // entries are in order starting at head (ring is full when growing)
    const [ts, big, codes] = FailureRing.alloc(n);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % oldN;
      ts[k] = this.ts[i];
      big[k * BIG_FIELDS] = this.big[i * BIG_FIELDS];
      big[k * BIG_FIELDS + 1] = this.big[i * BIG_FIELDS + 1];
      big[k * BIG_FIELDS + 2] = this.big[i * BIG_FIELDS + 2];
      codes[k] = this.codes[i];
    }
    this.ts = ts;
    this.big = big;
    this.codes = codes;
    this.head = this.count % n;
  }
}
