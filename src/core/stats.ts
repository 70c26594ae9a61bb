import { LRUCache } from 'lru-cache';
import { IndexedMaxHeap } from './heap';
import type { FailureOutcome, Outcome } from './normalizer';
import { FailureRing, ReasonInterner, RecentFailure } from './ring';
import { formatScid } from './scid';

export interface ReasonStats {
  count: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
}

/** Everything we know about one outgoing channel. */
export class ChannelStats {
  failedForwards = 0;
  successfulForwards = 0;
  missedFeesMsat = 0n;
  missedAmountMsat = 0n;
  earnedFeesMsat = 0n;
  readonly failuresByReason = new Map<string, ReasonStats>();
  firstSeenMs: number;
  lastFailureAtMs = 0;
  lastActivityMs: number;
  readonly recent: FailureRing;
  /** The decimal id, the key of the registry and the heap; made once (issue 7: it was a getter
   * running BigInt#toString two or three times per event). */
  readonly key: string;

  constructor(readonly chanId: bigint, nowMs: number, recentCapacity: number, interner: ReasonInterner, key = chanId.toString()) {
    this.firstSeenMs = nowMs;
    this.lastActivityMs = nowMs;
    this.recent = new FailureRing(recentCapacity, interner);
    this.key = key;
  }

  get scid(): string {
    return formatScid(this.chanId);
  }

  /** The reason with the most failures (ties: most missed fees). */
  get topReason(): string | undefined {
    let best: string | undefined;
    let bestStats: ReasonStats | undefined;
    for (const [reason, s] of this.failuresByReason) {
      if (!bestStats || s.count > bestStats.count || (s.count === bestStats.count && s.missedFeesMsat > bestStats.missedFeesMsat)) {
        best = reason;
        bestStats = s;
      }
    }
    return best;
  }

  recentFailures(limit?: number): RecentFailure[] {
    return this.recent.toArray(limit);
  }

  toJSON(): ChannelStatsJson {
    return {
      channelId: this.key,
      scid: this.scid,
      failedForwards: this.failedForwards,
      successfulForwards: this.successfulForwards,
      missedFeesMsat: this.missedFeesMsat.toString(),
      missedAmountMsat: this.missedAmountMsat.toString(),
      earnedFeesMsat: this.earnedFeesMsat.toString(),
      failuresByReason: Object.fromEntries([...this.failuresByReason].map(([r, s]) => [r, s.count])),
      missedFeesByReasonMsat: Object.fromEntries([...this.failuresByReason].map(([r, s]) => [r, s.missedFeesMsat.toString()])),
      firstSeen: new Date(this.firstSeenMs).toISOString(),
      lastFailureAt: this.lastFailureAtMs ? new Date(this.lastFailureAtMs).toISOString() : null,
    };
  }
}

export interface ChannelStatsJson {
  channelId: string;
  scid: string;
  failedForwards: number;
  successfulForwards: number;
  missedFeesMsat: string;
  missedAmountMsat: string;
  earnedFeesMsat: string;
  failuresByReason: Record<string, number>;
  missedFeesByReasonMsat: Record<string, string>;
  firstSeen: string;
  lastFailureAt: string | null;
}

/** Node-wide totals, including failures on the incoming link (outgoing channel 0). */
export class NodeStats {
  failedForwards = 0;
  successfulForwards = 0;
  /** Failures that happened on the incoming link, before an outgoing channel was chosen. */
  incomingLinkFailures = 0;
  missedFeesMsat = 0n;
  missedAmountMsat = 0n;
  earnedFeesMsat = 0n;
  readonly failuresByReason = new Map<string, number>();
  /** Failures per minute over the last 24 h, for live windows such as "fails/1h". */
  private readonly minuteCounts = new Uint32Array(24 * 60);
  private readonly minuteIds = new Float64Array(24 * 60);

  recordFailure(o: FailureOutcome): void {
    this.failedForwards++;
    if (o.outgoingChanId === 0n) this.incomingLinkFailures++;
    this.missedFeesMsat += o.missedFeeMsat;
    if (o.missedFeeMsat > 0n) this.missedAmountMsat += o.outgoingAmtMsat;
    this.failuresByReason.set(o.reason, (this.failuresByReason.get(o.reason) ?? 0) + 1);
    const minute = Math.floor(o.timestampMs / 60_000);
    const slot = minute % this.minuteCounts.length;
    // A late event 24 h (or more) older than the minute this slot holds is outside every window:
    // it must not wipe the newer count.
    if (minute < this.minuteIds[slot]) return;
    if (this.minuteIds[slot] !== minute) {
      this.minuteIds[slot] = minute;
      this.minuteCounts[slot] = 0;
    }
    this.minuteCounts[slot]++;
  }

  /** Failures whose LND timestamp is within the last windowMs (minute resolution, at most 24 h). */
  failuresSince(nowMs: number, windowMs: number): number {
    const nowMinute = Math.floor(nowMs / 60_000);
    const minutes = Math.min(this.minuteCounts.length, Math.ceil(windowMs / 60_000));
    let sum = 0;
    for (let m = nowMinute - minutes + 1; m <= nowMinute; m++) {
      const slot = ((m % this.minuteCounts.length) + this.minuteCounts.length) % this.minuteCounts.length;
      if (this.minuteIds[slot] === m) sum += this.minuteCounts[slot];
    }
    return sum;
  }

  reset(): void {
    this.failedForwards = 0;
    this.successfulForwards = 0;
    this.incomingLinkFailures = 0;
    this.missedFeesMsat = 0n;
    this.missedAmountMsat = 0n;
    this.earnedFeesMsat = 0n;
    this.failuresByReason.clear();
    this.minuteCounts.fill(0);
    this.minuteIds.fill(0);
  }

  toJSON() {
    return {
      failedForwards: this.failedForwards,
      successfulForwards: this.successfulForwards,
      incomingLinkFailures: this.incomingLinkFailures,
      missedFeesMsat: this.missedFeesMsat.toString(),
      missedAmountMsat: this.missedAmountMsat.toString(),
      earnedFeesMsat: this.earnedFeesMsat.toString(),
      failuresByReason: Object.fromEntries(this.failuresByReason),
    };
  }
}

export interface StatsOptions {
  /** Bound on tracked channels; the least recently active is evicted past it. Default 10,000. */
  maxChannels?: number;
  /** Recent failures kept per channel. Default 100. */
  recentPerChannel?: number;
  now?: () => number;
}

/**
 * Per-channel failure statistics, bounded by an LRU of channels and ranked by missed fees with an
 * indexed heap (update O(log n), top-K without sorting).
 */
export class StatsEngine {
  readonly node = new NodeStats();
  readonly maxChannels: number;
  readonly recentPerChannel: number;
  evictions = 0;
  private readonly channels: LRUCache<string, ChannelStats>;
  private readonly heap = new IndexedMaxHeap();
  private readonly interner = new ReasonInterner();
  private readonly now: () => number;
  private readonly keys = new Map<bigint, string>();
  /** Bumped on every change; adapters use it to skip work when nothing changed. */
  version = 0;

  constructor(opts: StatsOptions = {}) {
    this.maxChannels = opts.maxChannels ?? 10_000;
    this.recentPerChannel = opts.recentPerChannel ?? 100;
    this.now = opts.now ?? Date.now;
    this.channels = new LRUCache<string, ChannelStats>({
      max: this.maxChannels,
      dispose: (_v, key, reason) => {
        if (reason === 'evict') {
          this.evictions++;
          this.heap.delete(key);
        }
      },
    });
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** Applies one outcome; returns the channel it changed, if any (node-level failures change none). */
  apply(o: Outcome): ChannelStats | undefined {
    this.version++;
    if (o.kind === 'success') {
      this.node.successfulForwards++;
      this.node.earnedFeesMsat += o.feeMsat;
      if (o.outgoingChanId === 0n) return undefined;
      const ch = this.touch(o.outgoingChanId, o.timestampMs);
      ch.successfulForwards++;
      ch.earnedFeesMsat += o.feeMsat;
      return ch;
    }
    this.node.recordFailure(o);
    if (o.outgoingChanId === 0n) return undefined; // failed on its incoming link: node level only
    const ch = this.touch(o.outgoingChanId, o.timestampMs);
    ch.failedForwards++;
    ch.lastFailureAtMs = Math.max(ch.lastFailureAtMs, o.timestampMs);
    let r = ch.failuresByReason.get(o.reason);
    if (!r) {
      r = { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
      ch.failuresByReason.set(o.reason, r);
    }
    r.count++;
    if (o.missedFeeMsat > 0n) {
      ch.missedFeesMsat += o.missedFeeMsat;
      ch.missedAmountMsat += o.outgoingAmtMsat;
      r.missedFeesMsat += o.missedFeeMsat;
      r.missedAmountMsat += o.outgoingAmtMsat;
    }
    this.heap.set(ch.key, rankOf(ch));
    ch.recent.push(o);
    return ch;
  }

  /** Looks a channel up without changing its recency. */
  channel(id: bigint | string): ChannelStats | undefined {
    return this.channels.peek(typeof id === 'bigint' ? id.toString() : id);
  }

  /** The k channels with the most missed fees, highest first. */
  top(k: number): ChannelStats[] {
    const out: ChannelStats[] = [];
    for (const { key } of this.heap.top(k)) {
      const ch = this.channels.peek(key);
      if (ch) out.push(ch);
    }
    return out;
  }

  /** Every tracked channel, ranked by missed fees, then failures, then id. */
  ranked(): ChannelStats[] {
    return [...this.channels.values()].sort(compareChannels);
  }

  /** Channels with at least one failure, ranked. */
  failing(): ChannelStats[] {
    return this.ranked().filter((c) => c.failedForwards > 0);
  }

  /** Restores a channel from persisted state (the store); replaces any in-memory one. */
  restore(ch: ChannelStats): void {
    this.channels.set(ch.key, ch);
    this.heap.set(ch.key, rankOf(ch));
    this.version++;
  }

  /** A fresh ChannelStats bound to this engine's ring settings (for the store's restore). */
  createChannel(chanId: bigint, firstSeenMs: number): ChannelStats {
    return new ChannelStats(chanId, firstSeenMs, this.recentPerChannel, this.interner);
  }

  reset(): void {
    this.channels.clear();
    this.heap.clear();
    this.node.reset();
    this.evictions = 0;
    this.version++;
  }

  private touch(chanId: bigint, tsMs: number): ChannelStats {
    // the decimal key made once per channel id (issue 7: BigInt#toString per outcome, and a new
    // string each time whose hash the LRU and the heap had to compute again)
    let key = this.keys.get(chanId);
    if (key === undefined) {
      if (this.keys.size >= 2 * this.maxChannels) this.keys.clear();
      key = chanId.toString();
      this.keys.set(chanId, key);
    }
    let ch = this.channels.get(key);
    if (!ch) {
      ch = new ChannelStats(chanId, tsMs || this.now(), this.recentPerChannel, this.interner, key);
      this.channels.set(key, ch);
      this.heap.set(key, 0n);
    }
    ch.lastActivityMs = Math.max(ch.lastActivityMs, tsMs);
    return ch;
  }
}

/**
 * Heap priority in the order of compareChannels: missed fees, then failed forwards (a JS counter,
 * always < 2^64) in the low 64 bits; the heap breaks the remaining ties by key, like compareChannels.
 */
function rankOf(ch: ChannelStats): bigint {
  return (ch.missedFeesMsat << 64n) | BigInt(ch.failedForwards);
}

export function compareChannels(a: ChannelStats, b: ChannelStats): number {
  if (a.missedFeesMsat !== b.missedFeesMsat) return a.missedFeesMsat > b.missedFeesMsat ? -1 : 1;
  if (a.failedForwards !== b.failedForwards) return b.failedForwards - a.failedForwards;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
