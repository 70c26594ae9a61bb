import type { HtlcEvent, HtlcInfo } from './lnd/types';
import {
  EVENT_TYPE_FORWARD, MEMBER_FINAL, MEMBER_FORWARD, MEMBER_FORWARD_FAIL, MEMBER_LINK_FAIL, MEMBER_NONE, MEMBER_SETTLE,
  MEMBER_SUBSCRIBED, RawHtlcEvent, readHtlcEvent,
} from './lnd/htlcDecoder';
import { parseU64 } from './scid';
import { categoryOf, Category, DOWNSTREAM, failureCodeName, failureDetailName, reasonKey } from './reasons';
import type { SettleMatcher } from './settleMatch';
import { CircuitTable } from './circuitTable';

/** A forward that failed, at our node (link) or after we passed it on (downstream). */
export interface FailureOutcome {
  kind: 'failure';
  source: 'link' | 'downstream';
  incomingChanId: bigint;
  /** 0n when the HTLC failed on its incoming link: then it counts at node level only. */
  outgoingChanId: bigint;
  incomingHtlcId: bigint;
  outgoingHtlcId: bigint;
  timestampNs: bigint;
  timestampMs: number;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  /** incoming − outgoing when the outgoing amount is known and > 0, else 0. */
  missedFeeMsat: bigint;
  reason: string;
  category: Category;
  wireFailure: string;
  failureDetail: string;
  /** For display only; never used to classify. */
  failureString: string;
  /** True when the amounts come from info we saw (link_fail, or a remembered forward_event). */
  amountsKnown: boolean;
}

export interface SuccessOutcome {
  kind: 'success';
  incomingChanId: bigint;
  outgoingChanId: bigint;
  incomingHtlcId: bigint;
  outgoingHtlcId: bigint;
  timestampNs: bigint;
  timestampMs: number;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  feeMsat: bigint;
  amountsKnown: boolean;
  /** 'history' when it came from ForwardingHistory (backfill or history-only polling), not the stream. */
  source?: 'history';
}

export type Outcome = FailureOutcome | SuccessOutcome;

export type IgnoreReason = 'not-forward' | 'subscribed' | 'final' | 'forward-pending' | 'unknown-event';

export type NormalizeResult =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'ignored'; why: IgnoreReason }
  | { type: 'duplicate' };

export interface NormalizerOptions {
  /** How many pending forwards to remember (by incoming circuit). */
  maxPendingForwards?: number;
  /** How long a forward_event is remembered, in ms. HTLCs can be held for hours; default 24 h. */
  pendingForwardTtlMs?: number;
  /** How many event keys to remember for de-duplication after a reconnect. */
  dedupeMax?: number;
  /** How long an event key is remembered for de-duplication, in ms. Default 2 h. */
  dedupeTtlMs?: number;
  /** Distinct channel ids given a slot (default 65,536); past that the slot table, and the circuits it keyed, start afresh. */
  maxChannelSlots?: number;
}

/**
 * The fee a forward earns, or missed when it failed: incoming − outgoing amount, counted only when
 * the outgoing amount is known (> 0) and below the incoming one; otherwise 0.
 */
export function forwardFeeMsat(incomingAmtMsat: bigint, outgoingAmtMsat: bigint): bigint {
  return outgoingAmtMsat > 0n && incomingAmtMsat > outgoingAmtMsat ? incomingAmtMsat - outgoingAmtMsat : 0n;
}

// the kinds an incoming circuit was seen with, one bit each (for de-duplication)
const SEEN_FORWARD = 1;
const SEEN_SETTLE = 2;
const SEEN_DOWNSTREAM = 4;
const SEEN_LINK = 8;

const TWO_32 = 4294967296;
const MASK_32 = 0xffffffffn;

const IGNORED_SUBSCRIBED: NormalizeResult = Object.freeze({ type: 'ignored', why: 'subscribed' });
const IGNORED_FINAL: NormalizeResult = Object.freeze({ type: 'ignored', why: 'final' });
const IGNORED_NOT_FORWARD: NormalizeResult = Object.freeze({ type: 'ignored', why: 'not-forward' });
const IGNORED_PENDING: NormalizeResult = Object.freeze({ type: 'ignored', why: 'forward-pending' });
const IGNORED_UNKNOWN: NormalizeResult = Object.freeze({ type: 'ignored', why: 'unknown-event' });
const DUPLICATE: NormalizeResult = Object.freeze({ type: 'duplicate' });

/** hi·2^32 + lo as a bigint; one allocation below 2^53. */
function u64Big(hi: number, lo: number): bigint {
  return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Nanoseconds (hi, lo) to whole milliseconds, exactly: 2^32 = 4294·10^6 + 967296. */
function nsHalvesToMs(hi: number, lo: number): number {
  return hi * 4294 + Math.floor((hi * 967296 + lo) / 1e6);
}

/**
 * Turns LND's HtlcEvent stream into forward outcomes. Only FORWARD events count; the stream is
 * best-effort, so every event is de-duplicated by kind and circuit within a bounded window.
 *
 * The hot path (issue 7) reads the message bytes into one reused numeric record
 * (`normalizeBytes`); an HtlcEvent object (`normalize`) is converted into the same record, so
 * both take the one set of rules below. Circuits are keyed by numbers: each channel id gets a
 * small slot once (an open-addressing table of uint32 halves), and its bigint is made once.
 */
export class Normalizer {
  /** Pending forwards by incoming circuit: their amounts as uint32 halves (in hi, in lo, out hi, out lo). */
  private readonly pending: CircuitTable;
  /** Per incoming circuit, the kinds already counted (SEEN_* bits). */
  private readonly seen: CircuitTable;
  /** Forwards dropped from the pending map before they resolved (bounded memory at work). */
  pendingEvicted = 0;
  /** Times the channel slot table filled up and was started afresh (with the circuits it keyed). */
  slotResets = 0;
  /** Settles counted from ForwardingHistory without htlc ids, that the stream may still deliver. */
  private external: SettleMatcher | undefined;
  private readonly rec = new RawHtlcEvent();
  // (channel id hi, lo, htlc id hi) -> slot: open addressing over uint32s (slot + 1; 0 = empty).
  // A circuit is (slot, htlc id lo); almost every htlc id has hi = 0, so a slot is a channel.
  private tableHi!: Uint32Array;
  private tableLo!: Uint32Array;
  private tableX!: Uint32Array;
  private tableSlot!: Int32Array;
  private chanIds: bigint[] = [];
  private readonly maxSlots: number;
  private tsHi = 0;
  private tsHiBig = 0n;

  constructor(opts: NormalizerOptions = {}) {
    this.pending = new CircuitTable({
      max: opts.maxPendingForwards ?? 50_000,
      ttlMs: opts.pendingForwardTtlMs ?? 24 * 3600_000,
      width: 4,
      onRemove: () => this.pendingEvicted++,
    });
    this.seen = new CircuitTable({
      max: opts.dedupeMax ?? 100_000,
      ttlMs: opts.dedupeTtlMs ?? 2 * 3600_000,
      width: 1,
    });
    this.maxSlots = opts.maxChannelSlots ?? 65_536;
    this.newSlotTable(SLOT_TABLE_START);
  }

  get pendingForwards(): number {
    return this.pending.size;
  }

  /** Whether a settle of this incoming circuit was counted recently. */
  hasSettle(incomingChanId: bigint, incomingHtlcId: bigint): boolean {
    const i = this.seen.find(this.circuitSlot(incomingChanId, incomingHtlcId), lo32(incomingHtlcId), Date.now());
    return i >= 0 && (this.seen.value(i, 0) & SEEN_SETTLE) !== 0;
  }

  /**
   * Marks a settle counted from another source (ForwardingHistory with htlc ids), so the stream's
   * settle of the same circuit is a duplicate. Returns false when it was already counted.
   */
  markSettle(incomingChanId: bigint, incomingHtlcId: bigint): boolean {
    return !this.isDuplicate(this.circuitSlot(incomingChanId, incomingHtlcId), lo32(incomingHtlcId), SEEN_SETTLE, Date.now());
  }

  /**
   * Settles counted from another source without htlc ids: a stream settle that matches one of
   * them (see SettleMatcher: channels, amounts when known, time) is a duplicate and consumes it.
   */
  watchExternalSettles(matcher: SettleMatcher | undefined): void {
    this.external = matcher;
  }

  /** Forgets everything (after a statistics reset). */
  clear(): void {
    this.pending.clear();
    this.seen.clear();
  }

  /**
   * An HtlcEvent as proto-loader (or decodeHtlcEvent) gives it. `now` (epoch ms) times the
   * de-duplication and pending windows; a batch may pass one reading for all its events.
   */
  normalize(ev: HtlcEvent, now = Date.now()): NormalizeResult {
    fromObject(ev, this.rec);
    return this.normalizeRecord(this.rec, now);
  }

  /** One routerrpc.HtlcEvent message as it came off the wire (the hot path). */
  normalizeBytes(buf: Uint8Array, now = Date.now()): NormalizeResult {
    readHtlcEvent(buf, this.rec);
    return this.normalizeRecord(this.rec, now);
  }

  private normalizeRecord(r: RawHtlcEvent, now: number): NormalizeResult {
    const member = r.member;
    if (member === MEMBER_SUBSCRIBED) return IGNORED_SUBSCRIBED;
    if (member === MEMBER_FINAL) return IGNORED_FINAL;
    if (r.eventType !== EVENT_TYPE_FORWARD) return IGNORED_NOT_FORWARD;
    if (member === MEMBER_NONE) return IGNORED_UNKNOWN; // a oneof member newer than our protos

    const slot = this.slotOf(r.inChanHi, r.inChanLo, r.inHtlcHi);
    const htlc = r.inHtlcLo;
    if (member === MEMBER_FORWARD) {
      if (this.isDuplicate(slot, htlc, SEEN_FORWARD, now)) return DUPLICATE;
      const p = this.pending;
      let i = p.find(slot, htlc, now);
      if (i < 0) i = p.insert(slot, htlc, now);
      p.setValue(i, 0, r.inAmtHi);
      p.setValue(i, 1, r.inAmtLo);
      p.setValue(i, 2, r.outAmtHi);
      p.setValue(i, 3, r.outAmtLo);
      return IGNORED_PENDING;
    }
    if (member === MEMBER_LINK_FAIL) {
      if (this.isDuplicate(slot, htlc, SEEN_LINK, now)) return DUPLICATE;
      const inAmt = u64Big(r.inAmtHi, r.inAmtLo);
      const outAmt = u64Big(r.outAmtHi, r.outAmtLo);
      const reason = reasonKey(r.wireFailure, r.failureDetail);
      const outcome = this.failure(r, 'link', inAmt, outAmt, reason, failureCodeName(r.wireFailure), failureDetailName(r.failureDetail), r.failureString, r.hasInfo);
      return { type: 'outcome', outcome };
    }
    const settle = member === MEMBER_SETTLE;
    if (!settle && member !== MEMBER_FORWARD_FAIL) return IGNORED_UNKNOWN;
    if (this.isDuplicate(slot, htlc, settle ? SEEN_SETTLE : SEEN_DOWNSTREAM, now)) return DUPLICATE;
    // the forward_event's amounts, if it was seen (and is still remembered)
    const p = this.pending;
    const i = p.find(slot, htlc, now);
    const known = i >= 0;
    const inAmt = known ? u64Big(p.value(i, 0), p.value(i, 1)) : 0n;
    const outAmt = known ? u64Big(p.value(i, 2), p.value(i, 3)) : 0n;
    if (known) p.remove(i);
    if (settle) {
      // one object, built once: it is the outcome, and what the external matcher is asked about
      const outcome: SuccessOutcome = {
        kind: 'success',
        incomingChanId: this.chanId(r.inChanHi, r.inChanLo),
        outgoingChanId: this.chanId(r.outChanHi, r.outChanLo),
        incomingHtlcId: u64Big(r.inHtlcHi, r.inHtlcLo),
        outgoingHtlcId: u64Big(r.outHtlcHi, r.outHtlcLo),
        timestampNs: this.timestampNs(r.tsHi, r.tsLo),
        timestampMs: nsHalvesToMs(r.tsHi, r.tsLo),
        incomingAmtMsat: inAmt,
        outgoingAmtMsat: outAmt,
        feeMsat: forwardFeeMsat(inAmt, outAmt),
        amountsKnown: known,
      };
      if (this.external !== undefined && this.external.size !== 0 && this.external.take(outcome)) return DUPLICATE;
      return { type: 'outcome', outcome };
    }
    return { type: 'outcome', outcome: this.failure(r, 'downstream', inAmt, outAmt, DOWNSTREAM, '', '', '', known) };
  }

  /** The failure outcome of the record's circuit (a link failure, or downstream of a forward). */
  private failure(
    r: RawHtlcEvent,
    source: FailureOutcome['source'],
    inAmt: bigint,
    outAmt: bigint,
    reason: string,
    wireFailure: string,
    failureDetail: string,
    failureString: string,
    amountsKnown: boolean,
  ): FailureOutcome {
    return {
      kind: 'failure',
      source,
      incomingChanId: this.chanId(r.inChanHi, r.inChanLo),
      outgoingChanId: this.chanId(r.outChanHi, r.outChanLo),
      incomingHtlcId: u64Big(r.inHtlcHi, r.inHtlcLo),
      outgoingHtlcId: u64Big(r.outHtlcHi, r.outHtlcLo),
      timestampNs: this.timestampNs(r.tsHi, r.tsLo),
      timestampMs: nsHalvesToMs(r.tsHi, r.tsLo),
      incomingAmtMsat: inAmt,
      outgoingAmtMsat: outAmt,
      missedFeeMsat: forwardFeeMsat(inAmt, outAmt),
      reason,
      category: categoryOf(reason),
      wireFailure,
      failureDetail,
      failureString,
      amountsKnown,
    };
  }

  /** hi·2^32 + lo for timestamps: the high half changes every 4.3 s, so its bigint is kept. */
  private timestampNs(hi: number, lo: number): bigint {
    if (hi !== this.tsHi) {
      this.tsHi = hi;
      this.tsHiBig = BigInt(hi) << 32n;
    }
    return this.tsHiBig + BigInt(lo);
  }

  /**
   * True when the circuit was already seen with this kind; otherwise marks it. Marking renews the
   * circuit's entry (it becomes the newest, its window starts again), as a map's set would.
   */
  private isDuplicate(slot: number, htlc: number, kind: number, now: number): boolean {
    const seen = this.seen;
    const i = seen.find(slot, htlc, now);
    let kinds = 0;
    if (i >= 0) {
      kinds = seen.value(i, 0);
      if ((kinds & kind) !== 0) return true;
      seen.remove(i);
    }
    seen.setValue(seen.insert(slot, htlc, now), 0, kinds | kind);
    return false;
  }

  /** The channel id as a bigint, made once per channel. */
  private chanId(hi: number, lo: number): bigint {
    return this.chanIds[this.slotOf(hi, lo, 0)];
  }

  /**
   * The slot of (channel id, htlc id's high half). When maxChannelSlots are taken (a node has
   * far fewer channels; only a stream of made-up ids gets there) the table starts afresh, and
   * the circuits keyed by the old slots are forgotten with it: memory stays bounded.
   */
  private slotOf(hi: number, lo: number, x: number): number {
    const mask = this.tableSlot.length - 1;
    for (let i = slotHash(hi, lo, x) & mask; this.tableSlot[i] !== 0; i = (i + 1) & mask) {
      if (this.tableLo[i] === lo && this.tableHi[i] === hi && this.tableX[i] === x) return this.tableSlot[i] - 1;
    }
    if (this.chanIds.length >= this.maxSlots) {
      this.slotResets++;
      this.newSlotTable(SLOT_TABLE_START);
      this.chanIds = [];
      this.clear();
    } else if ((this.chanIds.length + 1) * 2 > this.tableSlot.length) {
      this.growSlotTable();
    }
    const slot = this.chanIds.length;
    this.chanIds.push(u64Big(hi, lo));
    this.placeSlot(hi, lo, x, slot + 1);
    return slot;
  }

  /** The slot of an incoming circuit given as bigints (ForwardingHistory's settles). */
  private circuitSlot(chanId: bigint, htlcId: bigint): number {
    return this.slotOf(hi32(chanId), lo32(chanId), hi32(htlcId));
  }

  private newSlotTable(size: number): void {
    this.tableHi = new Uint32Array(size);
    this.tableLo = new Uint32Array(size);
    this.tableX = new Uint32Array(size);
    this.tableSlot = new Int32Array(size);
  }

  private growSlotTable(): void {
    const hi = this.tableHi;
    const lo = this.tableLo;
    const x = this.tableX;
    const slot = this.tableSlot;
    this.newSlotTable(slot.length * 2);
    for (let j = 0; j < slot.length; j++) if (slot[j] !== 0) this.placeSlot(hi[j], lo[j], x[j], slot[j]);
  }

  /** Writes a key and its stored slot (slot + 1) into the first free cell of its probe run. */
  private placeSlot(hi: number, lo: number, x: number, stored: number): void {
    const mask = this.tableSlot.length - 1;
    let i = slotHash(hi, lo, x) & mask;
    while (this.tableSlot[i] !== 0) i = (i + 1) & mask;
    this.tableHi[i] = hi;
    this.tableLo[i] = lo;
    this.tableX[i] = x;
    this.tableSlot[i] = stored;
  }
}

const SLOT_TABLE_START = 1024;

function hi32(x: bigint): number {
  return Number(x >> 32n);
}

function lo32(x: bigint): number {
  return Number(x & MASK_32);
}

function slotHash(hi: number, lo: number, x: number): number {
  const h = Math.imul(hi ^ Math.imul(lo, 0x85ebca6b) ^ Math.imul(x, 0xc2b2ae35), 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

const MEMBER_OF: Readonly<Record<string, number>> = {
  forward_event: MEMBER_FORWARD,
  forward_fail_event: MEMBER_FORWARD_FAIL,
  settle_event: MEMBER_SETTLE,
  link_fail_event: MEMBER_LINK_FAIL,
  subscribed_event: MEMBER_SUBSCRIBED,
  final_htlc_event: MEMBER_FINAL,
};

/** An HtlcEvent object into the numeric record (uint64 strings checked like parseU64). */
function fromObject(ev: HtlcEvent, rec: RawHtlcEvent): void {
  rec.reset();
  const name = ev.event ?? memberOf(ev);
  rec.member = name !== undefined && Object.hasOwn(MEMBER_OF, name) ? MEMBER_OF[name] : MEMBER_NONE;
  rec.eventType = ev.event_type === 'FORWARD' || ev.event_type === EVENT_TYPE_FORWARD ? EVENT_TYPE_FORWARD : -1;
  if (rec.member === MEMBER_SUBSCRIBED || rec.member === MEMBER_FINAL || rec.eventType !== EVENT_TYPE_FORWARD) return;
  let x = parseU64(ev.incoming_channel_id);
  rec.inChanHi = hi32(x);
  rec.inChanLo = lo32(x);
  x = parseU64(ev.outgoing_channel_id);
  rec.outChanHi = hi32(x);
  rec.outChanLo = lo32(x);
  x = parseU64(ev.incoming_htlc_id);
  rec.inHtlcHi = hi32(x);
  rec.inHtlcLo = lo32(x);
  x = parseU64(ev.outgoing_htlc_id);
  rec.outHtlcHi = hi32(x);
  rec.outHtlcLo = lo32(x);
  x = parseU64(ev.timestamp_ns);
  rec.tsHi = hi32(x);
  rec.tsLo = lo32(x);
  let info: HtlcInfo | null | undefined;
  if (rec.member === MEMBER_FORWARD) info = ev.forward_event?.info;
  else if (rec.member === MEMBER_LINK_FAIL) {
    const lf = ev.link_fail_event!;
    info = lf.info;
    rec.wireFailure = lf.wire_failure ?? 0;
    rec.failureDetail = lf.failure_detail ?? 0;
    rec.failureString = lf.failure_string ?? '';
  }
  if (info != null) {
    rec.hasInfo = true;
    x = parseU64(info.incoming_amt_msat);
    rec.inAmtHi = hi32(x);
    rec.inAmtLo = lo32(x);
    x = parseU64(info.outgoing_amt_msat);
    rec.outAmtHi = hi32(x);
    rec.outAmtLo = lo32(x);
  }
}

/** The oneof member that is set, when a decoder did not name it in `event`. */
function memberOf(ev: HtlcEvent): string | undefined {
  for (const m of Object.keys(MEMBER_OF)) if ((ev as unknown as Record<string, unknown>)[m] != null) return m;
  return undefined;
}
