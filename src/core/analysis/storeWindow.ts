import { categoryOf } from '../reasons';
import type { HtlcStore } from '../store/store';
import type { ReasonTotals, WindowTotals } from '../store/windows';
import type { ChannelWindowRow, FailureSample, LiquidityLookup, ReasonAgg, RoutePairRow, WindowCoverage, WindowKey, WindowSource } from './window';
import { WINDOW_MS } from './window';

/** What StoreWindowSource reads from the store (HtlcStore fits). */
export type WindowStore = Pick<HtlcStore, 'windows' | 'routePairs' | 'failures' | 'lastFailures' | 'historyStartMs'>;

export interface StoreWindowOptions {
  /** Maps alias SCIDs to the canonical id (rows recorded before an alias was known are merged). */
  context?: Pick<LiquidityLookup, 'resolve'>;
  /** Observation started at most this late (e.g. the session start), when the history is younger. */
  startedAtMs?: number;
  /** Failure samples per channel (newest). Default 1,000. */
  samplesPerChannel?: number;
}

/**
 * The analysis' WindowSource over the persistent history (HtlcStore): exact windows (raw events,
 * plus daily roll-ups for whole days of 7d/30d/all), route pairs, and failure samples with their
 * amounts. The store keeps no liquidity snapshot per failure, so samples carry none (the analysis
 * then compares with the liquidity now). Answers are memoised per (window, now) so one analysis
 * run reads each window once.
 */
export class StoreWindowSource implements WindowSource {
  private readonly samplesPerChannel: number;
  private memo = new Map<string, unknown>();
  private memoNow = NaN;

  constructor(
    private readonly store: WindowStore,
    private readonly opts: StoreWindowOptions = {},
  ) {
    this.samplesPerChannel = opts.samplesPerChannel ?? 1000;
  }

  private id(chanId: bigint): string {
    return this.opts.context ? this.opts.context.resolve(chanId) : chanId.toString();
  }

  private cached<T>(key: string, nowMs: number, fn: () => T): T {
    if (nowMs !== this.memoNow) {
      this.memo = new Map();
      this.memoNow = nowMs;
    }
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = fn();
    this.memo.set(key, v);
    return v;
  }

  coverage(window: WindowKey, nowMs: number): WindowCoverage {
    const start = this.cached('start', nowMs, () => {
      const s = Math.min(this.store.historyStartMs() ?? Infinity, this.opts.startedAtMs ?? Infinity);
      return Number.isFinite(s) ? s : nowMs;
    });
    const len = WINDOW_MS[window];
    const fromMs = len === null ? start : nowMs - len;
    return { window, fromMs, toMs: nowMs, observedMs: Math.max(0, nowMs - Math.max(fromMs, start)), source: 'store' };
  }

  private lastFailures(window: WindowKey, nowMs: number) {
    return this.cached(`last|${window}`, nowMs, () => {
      const byChannel = new Map<string, number>();
      const byPair = new Map<string, number>();
      for (const f of this.store.lastFailures(window, nowMs)) {
        if (f.outgoingChanId === 0n) continue;
        const out = this.id(f.outgoingChanId);
        const key = `${this.id(f.incomingChanId)}>${out}`;
        byChannel.set(out, Math.max(byChannel.get(out) ?? 0, f.lastMs));
        byPair.set(key, Math.max(byPair.get(key) ?? 0, f.lastMs));
      }
      return { byChannel, byPair };
    });
  }

  channelRows(window: WindowKey, nowMs: number): ChannelWindowRow[] {
    return this.cached(`channels|${window}`, nowMs, () => {
      const last = this.lastFailures(window, nowMs).byChannel;
      const rows = new Map<string, ChannelWindowRow>();
      for (const r of this.store.windows(window, nowMs).rows) {
        if (r.failures + r.successes === 0) continue;
        const chanId = this.id(r.chanId);
        const row = rows.get(chanId) ?? { chanId, ...emptyCounters() };
        addTotals(row, r);
        row.lastFailureMs = last.get(chanId) ?? 0;
        rows.set(chanId, row);
      }
      return [...rows.values()];
    });
  }

  routePairRows(window: WindowKey, nowMs: number): RoutePairRow[] {
    return this.cached(`pairs|${window}`, nowMs, () => {
      const last = this.lastFailures(window, nowMs).byPair;
      const rows = new Map<string, RoutePairRow>();
      for (const r of this.store.routePairs(window, nowMs).rows) {
        if (r.outgoingChanId === 0n || r.failures + r.successes === 0) continue; // failed on the incoming link
        const incomingChanId = this.id(r.incomingChanId);
        const outgoingChanId = this.id(r.outgoingChanId);
        const key = `${incomingChanId}>${outgoingChanId}`;
        const row = rows.get(key) ?? { incomingChanId, outgoingChanId, ...emptyCounters() };
        addTotals(row, r);
        row.lastFailureMs = last.get(key) ?? 0;
        rows.set(key, row);
      }
      return [...rows.values()];
    });
  }

  failureSamples(chanId: string, window: WindowKey, nowMs: number): FailureSample[] {
    let id: bigint;
    try {
      id = BigInt(chanId);
    } catch {
      return [];
    }
    return this.store.failures({ window, channel: id, limit: this.samplesPerChannel, nowMs }).map((f) => ({
      timestampMs: f.timestampMs,
      incomingChanId: this.id(f.incomingChanId),
      outgoingChanId: chanId,
      incomingAmtMsat: f.incomingAmtMsat,
      outgoingAmtMsat: f.outgoingAmtMsat,
      reason: f.reason,
      category: categoryOf(f.reason),
      outboundAtArrivalMsat: null,
      snapshotAtMs: null,
    }));
  }
}

function emptyCounters(): Omit<ChannelWindowRow, 'chanId'> {
  return { failures: 0, successes: 0, missedFeesMsat: 0n, missedAmountMsat: 0n, earnedFeesMsat: 0n, forwardedMsat: 0n, byReason: new Map<string, ReasonAgg>(), lastFailureMs: 0 };
}

function addTotals(into: Omit<ChannelWindowRow, 'chanId'>, t: WindowTotals): void {
  into.failures += t.failures;
  into.successes += t.successes;
  into.missedFeesMsat += t.missedFeesMsat;
  into.missedAmountMsat += t.missedAmountMsat;
  into.earnedFeesMsat += t.earnedFeesMsat;
  into.forwardedMsat += t.forwardedAmountMsat;
  for (const [reason, r] of t.failuresByReason as Map<string, ReasonTotals>) {
    const a = into.byReason.get(reason) ?? { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
    a.count += r.count;
    a.missedFeesMsat += r.missedFeesMsat;
    a.missedAmountMsat += r.missedAmountMsat;
    into.byReason.set(reason, a);
  }
}
