import type { Category } from './reasons';
import { categoryOf } from './reasons';
import { forwardFeeMsat } from './normalizer';

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

/**
 * Scratch views that move a double or a uint64 to and from two 32-bit words without allocating
 * (and without going through a JS number: the words are the value's own bytes, in platform order,
 * written and read back the same way).
 */
const SCRATCH = new ArrayBuffer(8);
const S32 = new Uint32Array(SCRATCH);
const S64 = new BigUint64Array(SCRATCH);
const SF64 = new Float64Array(SCRATCH);

/** Words per entry: timestamp (2), incoming channel (2), outgoing amount (2), fee word (1). */
const WORDS = 7;
/** The fee word (incoming − outgoing as an int32) when the difference does not fit −2^31+1..2^31−1: the incoming amount is in `wide`. */
const WIDE = 0x80000000;
const MIN_DIFF = -0x7fffffffn;
const MAX_DIFF = 0x7fffffffn;

/**
 * A fixed-capacity ring of recent failures in one Uint32Array (30 bytes an entry: the timestamp
 * and the incoming channel as 2 words each, the outgoing amount as 2 words, the incoming amount as
 * its signed difference to the outgoing one in 1 word, and the 16-bit reason code, two per word),
 * instead of a few hundred bytes for objects. One ArrayBuffer and one view per ring (each view costs
 * ~0.1 KiB). An incoming amount more than 2^31 msat (2.1M sat) away from the outgoing one is kept
 * exactly in a small map beside the ring. It grows
 * by doubling up to its capacity, so quiet channels stay small.
 */
export class FailureRing {
  private w: Uint32Array;
  private n: number; // allocated entries
  private head = 0; // next write position
  private count = 0;
  /** Incoming amounts of the entries whose fee word is WIDE, by slot (rare: usually undefined). */
  private wide: Map<number, bigint> | undefined;

  constructor(readonly capacity: number, private readonly interner: ReasonInterner, initial = 4) {
    this.n = Math.max(1, Math.min(capacity, initial));
    this.w = FailureRing.alloc(this.n);
  }

  private static alloc(n: number): Uint32Array {
    return new Uint32Array(n * WORDS + ((n + 1) >> 1));
  }

  get size(): number {
    return this.count;
  }

  push(f: Omit<RecentFailure, 'missedFeeMsat' | 'category'>): void {
    if (this.capacity <= 0) return;
    if (this.count === this.n && this.n < this.capacity) this.grow();
    const i = this.head;
    const w = this.w;
    const b = i * WORDS;
    SF64[0] = f.timestampMs;
    w[b] = S32[0];
    w[b + 1] = S32[1];
    S64[0] = f.incomingChanId;
    w[b + 2] = S32[0];
    w[b + 3] = S32[1];
    const out = f.outgoingAmtMsat;
    S64[0] = out;
    w[b + 4] = S32[0];
    w[b + 5] = S32[1];
    const diff = f.incomingAmtMsat - out;
    if (diff >= MIN_DIFF && diff <= MAX_DIFF) {
      w[b + 6] = Number(diff) >>> 0;
      if (this.wide !== undefined) this.wide.delete(i);
    } else {
      w[b + 6] = WIDE;
      (this.wide ??= new Map()).set(i, BigInt.asUintN(64, f.incomingAmtMsat));
    }
    this.setCode(i, this.interner.code(f.reason, f.failureString));
    this.head = (i + 1) % this.n;
    if (this.count < this.n) this.count++;
  }

  /** Newest first. */
  toArray(limit = this.count): RecentFailure[] {
    const out: RecentFailure[] = [];
    const n = this.n;
    for (let k = 0; k < Math.min(limit, this.count); k++) {
      const i = (this.head - 1 - k + n * 2) % n;
      const { reason, failureString } = this.interner.get(this.codeAt(i));
      const e = this.read(i);
      out.push({
        timestampMs: e.ts,
        incomingChanId: e.chan,
        incomingAmtMsat: e.inAmt,
        outgoingAmtMsat: e.outAmt,
        missedFeeMsat: forwardFeeMsat(e.inAmt, e.outAmt),
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
    this.wide = undefined;
  }

  private read(i: number): { ts: number; chan: bigint; inAmt: bigint; outAmt: bigint } {
    const w = this.w;
    const b = i * WORDS;
    S32[0] = w[b];
    S32[1] = w[b + 1];
    const ts = SF64[0];
    S32[0] = w[b + 2];
    S32[1] = w[b + 3];
    const chan = S64[0];
    S32[0] = w[b + 4];
    S32[1] = w[b + 5];
    const outAmt = S64[0];
    const fee = w[b + 6];
    const inAmt = fee === WIDE ? (this.wide?.get(i) ?? 0n) : BigInt.asUintN(64, outAmt + BigInt(fee | 0));
    return { ts, chan, inAmt, outAmt };
  }

  private codeAt(i: number): number {
    return (this.w[this.n * WORDS + (i >> 1)] >>> ((i & 1) << 4)) & 0xffff;
  }

  private setCode(i: number, code: number): void {
    const at = this.n * WORDS + (i >> 1);
    const shift = (i & 1) << 4;
    this.w[at] = (this.w[at] & ~(0xffff << shift)) | ((code & 0xffff) << shift);
  }

  private grow(): void {
    const oldN = this.n;
    const old = this.w;
    const n = Math.min(this.capacity, oldN * 2);
    // entries are in order starting at head (ring is full when growing)
    const w = FailureRing.alloc(n);
    const codes: number[] = [];
    const wide = this.wide;
    this.wide = undefined;
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % oldN;
      w.set(old.subarray(i * WORDS, i * WORDS + WORDS), k * WORDS);
      codes.push(this.codeAt(i));
      if (old[i * WORDS + 6] === WIDE) (this.wide ??= new Map()).set(k, wide?.get(i) ?? 0n);
    }
    this.w = w;
    this.n = n;
    for (let k = 0; k < codes.length; k++) this.setCode(k, codes[k]);
    this.head = this.count % n;
  }
}
