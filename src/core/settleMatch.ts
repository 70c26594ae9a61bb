/**
 * Matching settled forwards seen by two sources (the HTLC event stream and LND's ForwardingHistory)
 * when the htlc ids are not available on both sides (ForwardingHistory before LND 0.20, or the
 * store's raw successes after a restart).
 *
 * The rule (see README "Backfill"): two settles are the same forward when
 * - their incoming and outgoing channel ids are equal, and
 * - their timestamps differ by at most `toleranceMs` (LND stamps the stream event and the
 *   forwarding-log entry with two separate time.Now() calls, so they are close but not equal), and
 * - their amounts (incoming and outgoing msat) are equal — unless either side does not know its
 *   amounts (a stream settle whose forward_event we never saw carries 0/0): then channels and time
 *   alone decide;
 * - when both sides carry an incoming htlc id, the ids must be equal (then time and amounts are
 *   not needed).
 * Matching is one-to-one: each entry is consumed by at most one candidate, the nearest in time, so
 * two real forwards on the same pair with the same amount in the same second are still counted as
 * two when both are in history and one was missed by the stream.
 */

export interface SettleRef {
  incomingChanId: bigint;
  outgoingChanId: bigint;
  timestampMs: number;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  /** False when the amounts are unknown (0/0 from a stream settle without its forward_event). */
  amountsKnown: boolean;
  /** The incoming htlc id, when this side knows it. */
  incomingHtlcId?: bigint;
}

interface Entry extends SettleRef {
  consumed: boolean;
  addedAtMs: number;
}

export interface SettleMatcherOptions {
  /** Max |Δt| between two sightings of one settle. Default 2,000 ms. */
  toleranceMs?: number;
  /** Entries kept (oldest dropped first). Default 50,000. */
  maxEntries?: number;
  /** Entries older than this (by when they were added) are dropped. Default 1 h. */
  ttlMs?: number;
  now?: () => number;
}

export class SettleMatcher {
  readonly toleranceMs: number;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly byPair = new Map<string, Entry[]>();
  private order: Entry[] = [];
  private orderHead = 0;
  private live = 0;

  constructor(opts: SettleMatcherOptions = {}) {
    this.toleranceMs = opts.toleranceMs ?? 2_000;
    this.maxEntries = opts.maxEntries ?? 50_000;
    this.ttlMs = opts.ttlMs ?? 3_600_000;
    this.now = opts.now ?? Date.now;
  }

  /** Entries not yet consumed nor expired (approximately: expiry runs on add/match). */
  get size(): number {
    return this.live;
  }

  add(ref: SettleRef): void {
    const e: Entry = { ...ref, consumed: false, addedAtMs: this.now() };
    const k = pairKey(ref.incomingChanId, ref.outgoingChanId);
    let list = this.byPair.get(k);
    if (!list) this.byPair.set(k, (list = []));
    list.push(e);
    this.order.push(e);
    this.live++;
    this.prune();
  }

  /** Finds the matching entry (see the rule above), consumes it and returns true; else false. */
  take(c: SettleRef): boolean {
    if (this.live === 0) return false;
    this.prune();
    const list = this.byPair.get(pairKey(c.incomingChanId, c.outgoingChanId));
    if (!list) return false;
    let best: Entry | undefined;
    let bestDt = Infinity;
    for (const e of list) {
      if (e.consumed) continue;
      if (e.incomingHtlcId !== undefined && c.incomingHtlcId !== undefined) {
        if (e.incomingHtlcId === c.incomingHtlcId) {
          best = e;
          break;
        }
        continue;
      }
      const dt = Math.abs(e.timestampMs - c.timestampMs);
      if (dt > this.toleranceMs) continue;
      if (e.amountsKnown && c.amountsKnown && (e.incomingAmtMsat !== c.incomingAmtMsat || e.outgoingAmtMsat !== c.outgoingAmtMsat)) continue;
      if (dt < bestDt) {
        best = e;
        bestDt = dt;
      }
    }
    if (!best) return false;
    best.consumed = true;
    this.live--;
    return true;
  }

  clear(): void {
    this.byPair.clear();
    this.order = [];
    this.orderHead = 0;
    this.live = 0;
  }

  private prune(): void {
    const cutoff = this.now() - this.ttlMs;
    while (this.orderHead < this.order.length) {
      const e = this.order[this.orderHead];
      const excess = this.order.length - this.orderHead > this.maxEntries;
      if (!excess && e.addedAtMs >= cutoff) break;
      this.orderHead++;
      if (!e.consumed) {
        e.consumed = true;
        this.live--;
      }
      const k = pairKey(e.incomingChanId, e.outgoingChanId);
      const list = this.byPair.get(k);
      if (list) {
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byPair.delete(k);
      }
    }
    if (this.orderHead > 4096 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
    // consumed entries are dropped from their pair's list lazily, when the list grows
    if (this.order.length - this.orderHead > 0 && this.byPair.size > 0 && this.live * 4 < this.order.length - this.orderHead) this.compact();
  }

  private compact(): void {
    for (const [k, list] of this.byPair) {
      const kept = list.filter((e) => !e.consumed);
      if (kept.length) this.byPair.set(k, kept);
      else this.byPair.delete(k);
    }
    this.order = this.order.slice(this.orderHead).filter((e) => !e.consumed);
    this.orderHead = 0;
  }
}

function pairKey(a: bigint, b: bigint): string {
  return `${a}:${b}`;
}
