import type { Disposable } from '../emitter';
import type { Outcome } from '../normalizer';
import { categoryOf, Category } from '../reasons';

/**
 * Where the analysis reads its numbers: per-channel and per-route-pair rows for a time window,
 * and individual failures (amounts, and the outbound liquidity recorded when each arrived).
 * {@link MemoryWindowSource} implements it over the live outcome stream; the sql.js store can
 * implement the same interface over its history.
 */
export type WindowKey = '1h' | '24h' | '7d' | '30d' | 'all';
export const WINDOW_KEYS: readonly WindowKey[] = ['1h', '24h', '7d', '30d', 'all'];
export const WINDOW_MS: Readonly<Record<WindowKey, number | null>> = {
  '1h': 3600_000,
  '24h': 86400_000,
  '7d': 7 * 86400_000,
  '30d': 30 * 86400_000,
  all: null,
};

export function parseWindow(text: string): WindowKey {
  if ((WINDOW_KEYS as readonly string[]).includes(text)) return text as WindowKey;
  throw new RangeError(`window must be one of ${WINDOW_KEYS.join(', ')}, got "${text}"`);
}

export interface ReasonAgg {
  count: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
}

interface Counters {
  failures: number;
  successes: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  earnedFeesMsat: bigint;
  /** Outgoing amount of successful forwards. */
  forwardedMsat: bigint;
  byReason: Map<string, ReasonAgg>;
  lastFailureMs: number;
}

export interface ChannelWindowRow extends Counters {
  /** Outgoing channel (canonical chan_id, decimal). */
  chanId: string;
}

export interface RoutePairRow extends Counters {
  incomingChanId: string;
  outgoingChanId: string;
}

export type LiquiditySource = 'snapshot-at-arrival' | 'context-now';

export interface FailureSample {
  timestampMs: number;
  incomingChanId: string;
  outgoingChanId: string;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  reason: string;
  category: Category;
  /** Outbound liquidity of the outgoing channel from the context snapshot held when the failure arrived. */
  outboundAtArrivalMsat: bigint | null;
  /** When that snapshot was read from LND (epoch ms). */
  snapshotAtMs: number | null;
}

export interface WindowCoverage {
  window: WindowKey;
  fromMs: number;
  toMs: number;
  /**
   * How much of the window the evidence covers: from when monitoring started, or from the earliest
   * event recorded/stored when that is earlier (history, a backfill), bounded by the window. Never
   * the channels' lifetime.
   */
  observedMs: number;
  source: 'memory' | 'store';
}

export interface WindowSource {
  coverage(window: WindowKey, nowMs: number): WindowCoverage;
  channelRows(window: WindowKey, nowMs: number): ChannelWindowRow[];
  routePairRows(window: WindowKey, nowMs: number): RoutePairRow[];
  /** Failures on an outgoing channel in the window, newest first. */
  failureSamples(chanId: string, window: WindowKey, nowMs: number): FailureSample[];
}

/** What the window source needs from the channel context (ChannelContextService fits). */
export interface LiquidityLookup {
  resolve(chanId: bigint | string): string;
  peek(chanId: bigint | string): { outboundMsat: bigint; fetchedAtMs: number; status: string } | undefined;
}

export interface MemoryWindowOptions {
  /** When observation started (epoch ms). Default: construction time. */
  startedAtMs?: number;
  now?: () => number;
  /** Failure samples kept per channel (newest). Default 1,000. */
  samplesPerChannel?: number;
  /** Maps alias SCIDs to the canonical id and records liquidity at arrival. */
  context?: LiquidityLookup;
}

const HOUR = 3600_000;
const KEEP_HOURS = 30 * 24 + 1;

function emptyCounters(): Counters {
  return { failures: 0, successes: 0, missedFeesMsat: 0n, missedAmountMsat: 0n, earnedFeesMsat: 0n, forwardedMsat: 0n, byReason: new Map(), lastFailureMs: 0 };
}

function add(into: Counters, from: Counters): void {
  into.failures += from.failures;
  into.successes += from.successes;
  into.missedFeesMsat += from.missedFeesMsat;
  into.missedAmountMsat += from.missedAmountMsat;
  into.earnedFeesMsat += from.earnedFeesMsat;
  into.forwardedMsat += from.forwardedMsat;
  into.lastFailureMs = Math.max(into.lastFailureMs, from.lastFailureMs);
  for (const [r, a] of from.byReason) {
    const t = into.byReason.get(r) ?? { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
    t.count += a.count;
    t.missedFeesMsat += a.missedFeesMsat;
    t.missedAmountMsat += a.missedAmountMsat;
    into.byReason.set(r, t);
  }
}

function applyOutcome(c: Counters, o: Outcome): void {
  if (o.kind === 'success') {
    c.successes++;
    c.earnedFeesMsat += o.feeMsat;
    c.forwardedMsat += o.outgoingAmtMsat;
    return;
  }
  c.failures++;
  c.lastFailureMs = Math.max(c.lastFailureMs, o.timestampMs);
  const r = c.byReason.get(o.reason) ?? { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
  r.count++;
  if (o.missedFeeMsat > 0n) {
    c.missedFeesMsat += o.missedFeeMsat;
    c.missedAmountMsat += o.outgoingAmtMsat;
    r.missedFeesMsat += o.missedFeeMsat;
    r.missedAmountMsat += o.outgoingAmtMsat;
  }
  c.byReason.set(o.reason, r);
}

/** Hour buckets for the last 30 days plus an all-time total. */
class Series {
  readonly hours = new Map<number, Counters>();
  readonly total = emptyCounters();

  record(o: Outcome, tsMs: number): void {
    const h = Math.floor(tsMs / HOUR);
    let b = this.hours.get(h);
    if (!b) {
      b = emptyCounters();
      this.hours.set(h, b);
    }
    applyOutcome(b, o);
    applyOutcome(this.total, o);
  }

  sum(fromMs: number | null): Counters {
    if (fromMs === null) return this.total;
    const fromH = Math.floor(fromMs / HOUR);
    const out = emptyCounters();
    for (const [h, b] of this.hours) if (h >= fromH) add(out, b);
    return out;
  }

  prune(nowMs: number): void {
    const minH = Math.floor(nowMs / HOUR) - KEEP_HOURS;
    for (const h of this.hours.keys()) if (h < minH) this.hours.delete(h);
  }
}

/**
 * The in-memory window source: fed with the monitor's outcomes (attach() or record()), it keeps
 * hourly buckets per outgoing channel and per route pair (so windows are hour-granular at their
 * start), all-time totals, and recent failure samples with the outbound liquidity the channel
 * context showed when each failure arrived.
 */
export class MemoryWindowSource implements WindowSource {
  readonly startedAtMs: number;
  private readonly now: () => number;
  private readonly samplesPerChannel: number;
  private readonly context: LiquidityLookup | undefined;
  private readonly channels = new Map<string, Series>();
  private readonly pairs = new Map<string, Series>();
  private readonly samples = new Map<string, FailureSample[]>();
  private recorded = 0;
  /** The earliest event timestamp recorded (within what is kept), Infinity before the first. */
  private firstEventMs = Infinity;

  constructor(opts: MemoryWindowOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.startedAtMs = opts.startedAtMs ?? this.now();
    this.samplesPerChannel = opts.samplesPerChannel ?? 1000;
    this.context = opts.context;
  }

  /** Records every outcome the monitor applies. */
  attach(monitor: { on(event: 'changed', l: (b: { outcomes: Outcome[] }) => void): Disposable }): Disposable {
    return monitor.on('changed', (b) => {
      for (const o of b.outcomes) this.record(o);
    });
  }

  record(o: Outcome): void {
    if (o.outgoingChanId === 0n) return; // failed on the incoming link: no outgoing channel to blame
    const ts = o.timestampMs > 0 ? o.timestampMs : this.now();
    if (ts < this.firstEventMs) this.firstEventMs = ts;
    const out = this.context ? this.context.resolve(o.outgoingChanId) : o.outgoingChanId.toString();
    const inc = this.context ? this.context.resolve(o.incomingChanId) : o.incomingChanId.toString();
    series(this.channels, out).record(o, ts);
    series(this.pairs, `${inc}>${out}`).record(o, ts);
    if (o.kind === 'failure') {
      const snap = this.context?.peek(out);
      const known = snap && snap.status !== 'unknown' && snap.status !== 'closed';
      const list = this.samples.get(out) ?? [];
      list.push({
        timestampMs: ts,
        incomingChanId: inc,
        outgoingChanId: out,
        incomingAmtMsat: o.incomingAmtMsat,
        outgoingAmtMsat: o.outgoingAmtMsat,
        reason: o.reason,
        category: categoryOf(o.reason),
        outboundAtArrivalMsat: known ? snap.outboundMsat : null,
        snapshotAtMs: known ? snap.fetchedAtMs : null,
      });
      if (list.length > this.samplesPerChannel) list.splice(0, list.length - this.samplesPerChannel);
      this.samples.set(out, list);
    }
    if (++this.recorded % 10_000 === 0) this.prune();
  }

  private prune(): void {
    const now = this.now();
    for (const s of this.channels.values()) s.prune(now);
    for (const s of this.pairs.values()) s.prune(now);
  }

  /**
   * Where observation starts: when monitoring started, or the earliest event recorded if earlier
   * (events from before the start: a replay or backfill). Windows bound it (coverage()).
   */
  get observedSinceMs(): number {
    return Math.min(this.startedAtMs, this.firstEventMs);
  }

  coverage(window: WindowKey, nowMs: number): WindowCoverage {
    const start = this.observedSinceMs;
    const len = WINDOW_MS[window];
    const fromMs = len === null ? start : nowMs - len;
    const observedMs = Math.max(0, nowMs - Math.max(fromMs, start));
    return { window, fromMs, toMs: nowMs, observedMs, source: 'memory' };
  }

  channelRows(window: WindowKey, nowMs: number): ChannelWindowRow[] {
    const from = fromOf(window, nowMs);
    const out: ChannelWindowRow[] = [];
    for (const [chanId, s] of this.channels) {
      const c = s.sum(from);
      if (c.failures + c.successes > 0) out.push({ chanId, ...c });
    }
    return out;
  }

  routePairRows(window: WindowKey, nowMs: number): RoutePairRow[] {
    const from = fromOf(window, nowMs);
    const out: RoutePairRow[] = [];
    for (const [key, s] of this.pairs) {
      const c = s.sum(from);
      if (c.failures + c.successes === 0) continue;
      const [incomingChanId, outgoingChanId] = key.split('>') as [string, string];
      out.push({ incomingChanId, outgoingChanId, ...c });
    }
    return out;
  }

  failureSamples(chanId: string, window: WindowKey, nowMs: number): FailureSample[] {
    const from = fromOf(window, nowMs) ?? -Infinity;
    const list = this.samples.get(chanId) ?? [];
    return list.filter((s) => s.timestampMs >= from).reverse();
  }
}

function fromOf(window: WindowKey, nowMs: number): number | null {
  const len = WINDOW_MS[window];
  return len === null ? null : nowMs - len;
}

function series(map: Map<string, Series>, key: string): Series {
  let s = map.get(key);
  if (!s) {
    s = new Series();
    map.set(key, s);
  }
  return s;
}
