import { Emitter, Disposable } from '../../core/emitter';
import type { Outcome } from '../../core/normalizer';
import type { RecentFailure } from '../../core/ring';
import { formatScid } from '../../core/scid';
import type { FailureSeries, WindowId } from '../../shared/protocol';
import { WINDOW_MS } from '../../shared/protocol';
import type { ChannelWindowStats, ReasonWindowStats, WindowSource, WindowTotals } from './types';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Minute buckets younger than this stay; older ones are folded into hour buckets. */
const FINE_SPAN_MS = 24 * HOUR;

interface Agg {
  count: number;
  fees: bigint;
  amt: bigint;
  maxAmt: bigint;
}

interface Bucket {
  failures: Map<string, Agg>;
  successes: number;
}

class ChannelBuckets {
  /** Bucket start (epoch ms, minute or hour aligned) → bucket. */
  readonly buckets = new Map<number, Bucket>();
  readonly total: Bucket = { failures: new Map(), successes: 0 };
  lastActivityMs = 0;
  lastFailureAtMs = 0;
  recent: RecentFailure[] = [];
}

function bucketOf(map: Map<number, Bucket>, start: number): Bucket {
  let b = map.get(start);
  if (!b) {
    b = { failures: new Map(), successes: 0 };
    map.set(start, b);
  }
  return b;
}

function addFailure(b: Bucket, reason: string, count: number, fees: bigint, amt: bigint, maxAmt: bigint): void {
  let a = b.failures.get(reason);
  if (!a) {
    a = { count: 0, fees: 0n, amt: 0n, maxAmt: 0n };
    b.failures.set(reason, a);
  }
  a.count += count;
  a.fees += fees;
  a.amt += amt;
  if (maxAmt > a.maxAmt) a.maxAmt = maxAmt;
}

function merge(into: Bucket, from: Bucket): void {
  into.successes += from.successes;
  for (const [r, a] of from.failures) addFailure(into, r, a.count, a.fees, a.amt, a.maxAmt);
}

export interface MemoryWindowSourceOptions {
  retentionMs?: number;
  maxChannels?: number;
  recentPerChannel?: number;
  now?: () => number;
}

/**
 * Windowed failure statistics kept in memory: per channel and reason, minute buckets for the last
 * 24 h and hour buckets beyond, pruned to the retention. The sql.js store replaces it when present.
 */
export class MemoryWindowSource implements WindowSource {
  readonly kind = 'in-memory';
  private readonly channelsById = new Map<string, ChannelBuckets>();
  /** Node-wide, including failures on the incoming link (no outgoing channel). */
  private readonly node = new ChannelBuckets();
  private readonly emitter = new Emitter<{ change: (ids: ReadonlySet<string>) => void }>();
  private retentionMs: number;
  private maxChannels: number;
  private readonly recentPerChannel: number;
  private readonly now: () => number;
  private lastCompactMs = 0;
  private firstEventMs = 0;

  constructor(opts: MemoryWindowSourceOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 30 * 86_400_000;
    this.maxChannels = opts.maxChannels ?? 10_000;
    this.recentPerChannel = opts.recentPerChannel ?? 50;
    this.now = opts.now ?? Date.now;
  }

  configure(opts: { retentionMs?: number; maxChannels?: number }): void {
    if (opts.retentionMs) this.retentionMs = opts.retentionMs;
    if (opts.maxChannels) this.maxChannels = opts.maxChannels;
    this.compact(this.now(), true);
  }

  onDidChange(listener: (channels: ReadonlySet<string>) => void): Disposable {
    return this.emitter.on('change', listener);
  }

  /** Applies a batch of outcomes (the monitor's `changed` event). */
  ingest(outcomes: readonly Outcome[]): void {
    const changed = new Set<string>();
    const now = this.now();
    for (const o of outcomes) {
      const ts = o.timestampMs > 0 ? o.timestampMs : now;
      if (!this.firstEventMs || ts < this.firstEventMs) this.firstEventMs = ts;
      const minute = Math.floor(ts / MINUTE) * MINUTE;
      const key = o.outgoingChanId.toString();
      const nodeBucket = bucketOf(this.node.buckets, minute);
      if (o.kind === 'success') {
        nodeBucket.successes++;
        this.node.total.successes++;
        if (o.outgoingChanId === 0n) continue;
        const ch = this.touch(key, ts);
        bucketOf(ch.buckets, minute).successes++;
        ch.total.successes++;
        changed.add(key);
        continue;
      }
      const fees = o.missedFeeMsat;
      const amt = fees > 0n ? o.outgoingAmtMsat : 0n;
      addFailure(nodeBucket, o.reason, 1, fees, amt, o.outgoingAmtMsat);
      addFailure(this.node.total, o.reason, 1, fees, amt, o.outgoingAmtMsat);
      if (o.outgoingChanId === 0n) continue;
      const ch = this.touch(key, ts);
      addFailure(bucketOf(ch.buckets, minute), o.reason, 1, fees, amt, o.outgoingAmtMsat);
      addFailure(ch.total, o.reason, 1, fees, amt, o.outgoingAmtMsat);
      ch.lastFailureAtMs = Math.max(ch.lastFailureAtMs, ts);
      ch.recent.unshift({
        timestampMs: ts,
        incomingChanId: o.incomingChanId,
        incomingAmtMsat: o.incomingAmtMsat,
        outgoingAmtMsat: o.outgoingAmtMsat,
        missedFeeMsat: o.missedFeeMsat,
        reason: o.reason,
        category: o.category,
        failureString: o.failureString,
      });
      if (ch.recent.length > this.recentPerChannel * 2) {
        ch.recent.sort((a, b) => b.timestampMs - a.timestampMs);
        ch.recent.length = this.recentPerChannel;
      }
      changed.add(key);
    }
    if (now - this.lastCompactMs > MINUTE) this.compact(now);
    // failures on the incoming link change the node's totals (the status bar) without any channel
    if (outcomes.length) this.emitter.emit('change', changed);
  }

  channels(window: WindowId, nowMs = this.now()): ChannelWindowStats[] {
    const out: ChannelWindowStats[] = [];
    for (const id of this.channelsById.keys()) {
      const s = this.channel(id, window, nowMs);
      if (s && s.failures > 0) out.push(s);
    }
    return out.sort(compareWindowStats);
  }

  channel(channelId: string, window: WindowId, nowMs = this.now()): ChannelWindowStats | undefined {
    const ch = this.channelsById.get(channelId);
    if (!ch) return undefined;
    const b = this.sum(ch, window, nowMs);
    return toStats(channelId, b, ch.lastFailureAtMs);
  }

  totals(window: WindowId, nowMs = this.now()): WindowTotals {
    const b = this.sum(this.node, window, nowMs);
    let failures = 0;
    let fees = 0n;
    for (const a of b.failures.values()) {
      failures += a.count;
      fees += a.fees;
    }
    return { failures, missedFeesMsat: fees, channels: this.channels(window, nowMs).length };
  }

  failureSeries(window: WindowId, nowMs = this.now()): FailureSeries {
    const span = WINDOW_MS[window] ?? Math.max(HOUR, nowMs - (this.firstEventMs || nowMs));
    const bucketMs = pickBucket(span);
    const n = Math.max(1, Math.ceil(span / bucketMs));
    const endMs = Math.floor(nowMs / bucketMs) * bucketMs + bucketMs;
    const startMs = endMs - n * bucketMs;
    const byReason = new Map<string, number[]>();
    for (const [t, b] of this.node.buckets) {
      if (t < startMs || t >= endMs) continue;
      const i = Math.floor((t - startMs) / bucketMs);
      for (const [reason, a] of b.failures) {
        let arr = byReason.get(reason);
        if (!arr) byReason.set(reason, (arr = new Array<number>(n).fill(0)));
        arr[i] += a.count;
      }
    }
    const series = [...byReason]
      .map(([reason, counts]) => ({ reason, counts, total: counts.reduce((x, y) => x + y, 0) }))
      .sort((a, b) => b.total - a.total || (a.reason < b.reason ? -1 : 1))
      .map(({ reason, counts }) => ({ reason, counts }));
    return { startMs, bucketMs, series };
  }

  recentFailures(channelId: string, window: WindowId, limit: number, nowMs = this.now()): RecentFailure[] {
    const ch = this.channelsById.get(channelId);
    if (!ch) return [];
    const span = WINDOW_MS[window];
    const from = span === undefined ? -Infinity : nowMs - span;
    return [...ch.recent]
      .sort((a, b) => b.timestampMs - a.timestampMs)
      .filter((f) => f.timestampMs >= from)
      .slice(0, limit);
  }

  reset(): void {
    this.channelsById.clear();
    this.node.buckets.clear();
    this.node.total.failures.clear();
    this.node.total.successes = 0;
    this.firstEventMs = 0;
    this.emitter.emit('change', new Set());
  }

  dispose(): void {
    this.emitter.clear();
    this.channelsById.clear();
  }

  private touch(key: string, ts: number): ChannelBuckets {
    let ch = this.channelsById.get(key);
    if (!ch) {
      if (this.channelsById.size >= this.maxChannels) this.evictOldest();
      ch = new ChannelBuckets();
      this.channelsById.set(key, ch);
    }
    ch.lastActivityMs = Math.max(ch.lastActivityMs, ts);
    return ch;
  }

  private evictOldest(): void {
    let oldestKey: string | undefined;
    let oldest = Infinity;
    for (const [k, c] of this.channelsById) {
      if (c.lastActivityMs < oldest) {
        oldest = c.lastActivityMs;
        oldestKey = k;
      }
    }
    if (oldestKey !== undefined) this.channelsById.delete(oldestKey);
  }

  private sum(ch: ChannelBuckets, window: WindowId, nowMs: number): Bucket {
    const span = WINDOW_MS[window];
    if (span === undefined) return ch.total;
    const from = nowMs - span;
    const out: Bucket = { failures: new Map(), successes: 0 };
    for (const [t, b] of ch.buckets) {
      // a bucket counts when it overlaps the window: minute resolution up to 24 h, hours beyond
      const size = nowMs - t > FINE_SPAN_MS ? HOUR : MINUTE;
      if (t + size > from) merge(out, b); // future timestamps (clock skew) count as now
    }
    return out;
  }

  /** Folds minute buckets older than 24 h into hour buckets and drops what is past retention. */
  private compact(nowMs: number, force = false): void {
    if (!force && nowMs - this.lastCompactMs < MINUTE) return;
    this.lastCompactMs = nowMs;
    const dropBefore = nowMs - this.retentionMs;
    const coarseBefore = nowMs - FINE_SPAN_MS;
    for (const ch of [this.node, ...this.channelsById.values()]) {
      for (const [t, b] of [...ch.buckets]) {
        if (t < dropBefore) {
          ch.buckets.delete(t);
        } else if (t < coarseBefore && t % HOUR !== 0) {
          ch.buckets.delete(t);
          merge(bucketOf(ch.buckets, Math.floor(t / HOUR) * HOUR), b);
        }
      }
      if (ch.recent.length) ch.recent = ch.recent.filter((f) => f.timestampMs >= dropBefore);
    }
  }
}

function toStats(channelId: string, b: Bucket, lastFailureAtMs: number): ChannelWindowStats {
  const reasons: ReasonWindowStats[] = [];
  let failures = 0;
  let fees = 0n;
  let amt = 0n;
  for (const [reason, a] of b.failures) {
    failures += a.count;
    fees += a.fees;
    amt += a.amt;
    reasons.push({ reason, count: a.count, missedFeesMsat: a.fees, missedAmountMsat: a.amt, maxAmountMsat: a.maxAmt });
  }
  reasons.sort((x, y) => y.count - x.count || (x.missedFeesMsat === y.missedFeesMsat ? (x.reason < y.reason ? -1 : 1) : x.missedFeesMsat > y.missedFeesMsat ? -1 : 1));
  return {
    channelId,
    scid: safeScid(channelId),
    failures,
    successes: b.successes,
    missedFeesMsat: fees,
    missedAmountMsat: amt,
    reasons,
    lastFailureAtMs,
  };
}

export function safeScid(channelId: string): string {
  try {
    return formatScid(channelId);
  } catch {
    return channelId;
  }
}

export function compareWindowStats(a: ChannelWindowStats, b: ChannelWindowStats): number {
  if (a.missedFeesMsat !== b.missedFeesMsat) return a.missedFeesMsat > b.missedFeesMsat ? -1 : 1;
  if (a.failures !== b.failures) return b.failures - a.failures;
  return a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0;
}

/** About 60 buckets over the span, on round sizes. */
export function pickBucket(spanMs: number): number {
  const sizes = [MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR];
  for (const s of sizes) if (spanMs / s <= 72) return s;
  return sizes[sizes.length - 1];
}
