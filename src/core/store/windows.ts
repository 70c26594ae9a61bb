/**
 * Time windows over the stored history, and what each one is made of.
 *
 * Every window is "all events with ts_ms >= sinceMs" (no upper bound: an LND clock slightly ahead
 * of ours must not hide a fresh event), with sinceMs = nowMs − length:
 * - 1h, 24h: from raw events only.
 * - 7d, 30d: whole UTC days from the daily roll-ups, for every day d with d·DAY >= sinceMs, plus raw
 *   events for the partial first day [sinceMs, ceil(sinceMs / DAY)·DAY). The roll-ups also hold the
 *   current (partial) day, completely. The sum is exactly the raw count of events with
 *   ts_ms >= sinceMs as long as the raw events of that first partial day are still kept (retention
 *   >= window length + 1 day); when they are not, the answer says complete: false.
 * - all: every day the roll-ups still hold (rollupDays, default 400); channel lifetime totals are
 *   the StatsEngine's (restored from the store), which also count what the roll-ups dropped.
 */
export type WindowName = '1h' | '24h' | '7d' | '30d' | 'all';
export const WINDOWS: readonly WindowName[] = ['1h', '24h', '7d', '30d', 'all'];
export const DAY_MS = 86_400_000;

export const WINDOW_MS: Readonly<Record<Exclude<WindowName, 'all'>, number>> = {
  '1h': 3_600_000,
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
};

export function isWindowName(v: unknown): v is WindowName {
  return typeof v === 'string' && (WINDOWS as readonly string[]).includes(v);
}

export function parseWindow(text: string): WindowName {
  if (isWindowName(text)) return text;
  throw new RangeError(`unknown window "${text}" (one of: ${WINDOWS.join(', ')})`);
}

export interface WindowPlan {
  window: WindowName;
  nowMs: number;
  /** Events at or after this count; null for 'all'. */
  sinceMs: number | null;
  /** Raw events in [rawFromMs, rawToMs) are read; null when the window reads none. */
  raw: { fromMs: number; toMs: number } | null;
  /** Roll-ups of days >= this are read; null when the window reads none. */
  rollupFromDay: number | null;
}

const NO_END = Number.MAX_SAFE_INTEGER;

export function planWindow(window: WindowName, nowMs: number): WindowPlan {
  if (window === 'all') return { window, nowMs, sinceMs: null, raw: null, rollupFromDay: Number.MIN_SAFE_INTEGER };
  const sinceMs = nowMs - WINDOW_MS[window];
  if (window === '1h' || window === '24h') return { window, nowMs, sinceMs, raw: { fromMs: sinceMs, toMs: NO_END }, rollupFromDay: null };
  const firstFullDay = Math.ceil(sinceMs / DAY_MS);
  const partialEnd = firstFullDay * DAY_MS;
  return {
    window,
    nowMs,
    sinceMs,
    raw: partialEnd > sinceMs ? { fromMs: sinceMs, toMs: partialEnd } : null,
    rollupFromDay: firstFullDay,
  };
}

export function dayOf(tsMs: number): number {
  return Math.floor(tsMs / DAY_MS);
}

export interface ReasonTotals {
  count: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
}

export interface WindowTotals {
  failures: number;
  failuresByReason: Map<string, ReasonTotals>;
  missedFeesMsat: bigint;
  /** Outgoing amounts of failures that cost a fee (as in ChannelStats). */
  missedAmountMsat: bigint;
  successes: number;
  earnedFeesMsat: bigint;
  /** Outgoing amounts of successful forwards. */
  forwardedAmountMsat: bigint;
}

export interface ChannelWindow extends WindowTotals {
  chanId: bigint;
  /** Decimal channel id. */
  key: string;
  scid: string;
  alias: string | undefined;
}

export interface RoutePairWindow extends WindowTotals {
  incomingChanId: bigint;
  outgoingChanId: bigint;
  incomingScid: string;
  outgoingScid: string;
  incomingAlias: string | undefined;
  outgoingAlias: string | undefined;
}

export interface WindowReport<Row> {
  window: WindowName;
  nowMs: number;
  sinceMs: number | null;
  /** False when retention already dropped events this window needs (see WindowPlan). */
  complete: boolean;
  rows: Row[];
  /** Everything in the window, including failures on the incoming link (outgoing channel 0). */
  node: WindowTotals;
}

export function emptyTotals(): WindowTotals {
  return { failures: 0, failuresByReason: new Map(), missedFeesMsat: 0n, missedAmountMsat: 0n, successes: 0, earnedFeesMsat: 0n, forwardedAmountMsat: 0n };
}

export function addFailures(t: WindowTotals, reason: string, count: number, feesMsat: bigint, amountMsat: bigint): void {
  t.failures += count;
  t.missedFeesMsat += feesMsat;
  t.missedAmountMsat += amountMsat;
  let r = t.failuresByReason.get(reason);
  if (!r) {
    r = { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
    t.failuresByReason.set(reason, r);
  }
  r.count += count;
  r.missedFeesMsat += feesMsat;
  r.missedAmountMsat += amountMsat;
}

export function addSuccesses(t: WindowTotals, count: number, feesMsat: bigint, amountMsat: bigint): void {
  t.successes += count;
  t.earnedFeesMsat += feesMsat;
  t.forwardedAmountMsat += amountMsat;
}

export function mergeTotals(into: WindowTotals, from: WindowTotals): void {
  for (const [reason, r] of from.failuresByReason) addFailures(into, reason, r.count, r.missedFeesMsat, r.missedAmountMsat);
  addSuccesses(into, from.successes, from.earnedFeesMsat, from.forwardedAmountMsat);
}

/** Ranked like the StatsEngine: missed fees, then failures, then successes. */
export function compareTotals(a: WindowTotals, b: WindowTotals): number {
  if (a.missedFeesMsat !== b.missedFeesMsat) return a.missedFeesMsat > b.missedFeesMsat ? -1 : 1;
  if (a.failures !== b.failures) return b.failures - a.failures;
  return b.successes - a.successes;
}

/** The reason with most failures (ties: most missed fees, then name). */
export function topReasonOf(t: WindowTotals): string | undefined {
  let best: [string, ReasonTotals] | undefined;
  for (const e of t.failuresByReason) {
    const [name, r] = e;
    if (!best || r.count > best[1].count || (r.count === best[1].count && (r.missedFeesMsat > best[1].missedFeesMsat || (r.missedFeesMsat === best[1].missedFeesMsat && name < best[0])))) best = e;
  }
  return best?.[0];
}

export interface SeriesBucket {
  startMs: number;
  total: number;
  byReason: Record<string, number>;
}

export interface FailureSeries {
  window: WindowName;
  bucketMs: number;
  nowMs: number;
  /** Start of the first bucket: the bucket containing sinceMs (buckets are multiples of bucketMs since the epoch). */
  startMs: number;
  source: 'raw' | 'rollups';
  complete: boolean;
  reasons: string[];
  buckets: SeriesBucket[];
}
