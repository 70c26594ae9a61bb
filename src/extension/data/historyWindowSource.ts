import { Emitter, type Disposable } from '../../core/emitter';
import type { RecentFailure } from '../../core/ring';
import type { HtlcStore } from '../../core/store/store';
import type { ChannelWindow, WindowTotals as StoreTotals } from '../../core/store/windows';
import type { FailureSeries, WindowId } from '../../shared/protocol';
import { WINDOW_MS } from '../../shared/protocol';
import { AnswerCache, systemClock, type Clock } from './answerCache';
import { compareWindowStats, pickBucket, safeScid, type MemoryWindowSource } from './memoryWindowSource';
import type { ChannelWindowStats, ReasonWindowStats, WindowSource, WindowTotals } from './types';

const HOUR = 3_600_000;

export interface HistoryWindowSourceOptions {
  memory: MemoryWindowSource;
  /** The open store, when there is one (the node's history in globalStorage). */
  store: () => HtlcStore | undefined;
  /** Fires when a store is opened, closed or reset. */
  onStoreChange: (listener: () => void) => Disposable;
  /** A channel's last failure (all time), from the StatsEngine the store was restored into. */
  lastFailureAt?: (channelId: string) => number | undefined;
  /** Answers are reused this long while no outcome arrives (windows slide slowly). Default 30 s. */
  idleReuseMs?: number;
  /**
   * …and at most this long while outcomes arrive (coalesces queries under load; the views are told
   * to ask again when such an answer expires). Default 1 s.
   */
  busyReuseMs?: number;
  now?: () => number;
  /** Time and timers (tests); `now` alone replaces only the time. */
  clock?: Clock;
}

/**
 * The UI's windows (tree ranking, status-bar count, webview chart) from the persistent history
 * when a store is open — so they cover what earlier sessions saw — and from the in-memory source
 * otherwise (before the first connection). Store answers are cached briefly: under a busy stream
 * the tree, status bar and webview share one query per window and second. An answer handed out
 * after newer batches arrived is followed by a change notification when it expires, so the last
 * batch is always shown once the stream goes quiet.
 */
export class HistoryWindowSource implements WindowSource {
  private readonly emitter = new Emitter<{ change: (ids: ReadonlySet<string>) => void }>();
  private readonly subs: Disposable[] = [];
  private readonly cache: AnswerCache;
  private readonly now: () => number;

  constructor(private readonly opts: HistoryWindowSourceOptions) {
    const clock = opts.clock ?? (opts.now ? { ...systemClock, now: opts.now } : systemClock);
    this.now = clock.now;
    this.cache = new AnswerCache({
      idleMs: opts.idleReuseMs ?? 30_000,
      busyMs: opts.busyReuseMs ?? 1000,
      clock,
      // an answer that missed the last batches was handed out: the views ask again
      onStale: () => this.emitter.emit('change', new Set()),
    });
    this.subs.push(
      opts.memory.onDidChange((ids) => {
        // the store records this batch right after this notification: views read it on their
        // throttles, never from inside the notification
        this.cache.bump();
        this.emitter.emit('change', ids);
      }),
      opts.onStoreChange(() => this.invalidate()),
    );
  }

  get kind(): string {
    return this.opts.store() ? 'sql.js store' : this.opts.memory.kind;
  }

  /** Drops cached answers and tells the views (a store opened, closed or was reset). */
  invalidate(): void {
    this.cache.clear();
    this.emitter.emit('change', new Set());
  }

  onDidChange(listener: (channels: ReadonlySet<string>) => void): Disposable {
    return this.emitter.on('change', listener);
  }

  private cached<T>(key: string, store: HtlcStore, fn: () => T): T {
    return this.cache.get(`${store.file}|${key}`, fn);
  }

  private report(window: WindowId, store: HtlcStore): { rows: ChannelWindowStats[]; totals: WindowTotals } {
    return this.cached(`windows|${window}`, store, () => {
      const r = store.windows(window);
      const rows = r.rows.filter((c) => c.failures > 0).map((c) => this.toStats(c));
      rows.sort(compareWindowStats);
      return { rows, totals: { failures: r.node.failures, missedFeesMsat: r.node.missedFeesMsat, channels: rows.length } };
    });
  }

  private toStats(c: ChannelWindow): ChannelWindowStats {
    return {
      channelId: c.key,
      scid: safeScid(c.key),
      failures: c.failures,
      successes: c.successes,
      missedFeesMsat: c.missedFeesMsat,
      missedAmountMsat: c.missedAmountMsat,
      reasons: reasonsOf(c),
      lastFailureAtMs: this.opts.lastFailureAt?.(c.key) ?? 0,
    };
  }

  channels(window: WindowId, nowMs?: number): ChannelWindowStats[] {
    const store = this.opts.store();
    if (!store) return this.opts.memory.channels(window, nowMs);
    return this.report(window, store).rows;
  }

  channel(channelId: string, window: WindowId, nowMs?: number): ChannelWindowStats | undefined {
    const store = this.opts.store();
    if (!store) return this.opts.memory.channel(channelId, window, nowMs);
    return this.report(window, store).rows.find((r) => r.channelId === channelId);
  }

  totals(window: WindowId, nowMs?: number): WindowTotals {
    const store = this.opts.store();
    if (!store) return this.opts.memory.totals(window, nowMs);
    return this.report(window, store).totals;
  }

  failureSeries(window: WindowId, nowMs?: number): FailureSeries {
    const store = this.opts.store();
    if (!store) return this.opts.memory.failureSeries(window, nowMs);
    return this.cached(`series|${window}`, store, () => {
      const now = nowMs ?? this.now();
      const span = WINDOW_MS[window] ?? Math.max(HOUR, now - (store.historyStartMs() ?? now));
      let bucketMs = pickBucket(span);
      // "all" over a long history: day-multiple buckets read the daily roll-ups
      if (window === 'all' && bucketMs >= 12 * HOUR) bucketMs = Math.max(86_400_000, Math.ceil(bucketMs / 86_400_000) * 86_400_000);
      const s = store.failureSeries(window, bucketMs, { nowMs: now, maxBuckets: 2_000 });
      const series = s.reasons
        .map((reason) => {
          const counts = s.buckets.map((b) => b.byReason[reason] ?? 0);
          return { reason, counts, total: counts.reduce((x, y) => x + y, 0) };
        })
        .sort((a, b) => b.total - a.total || (a.reason < b.reason ? -1 : 1))
        .map(({ reason, counts }) => ({ reason, counts }));
      return { startMs: s.startMs, bucketMs: s.bucketMs, series };
    });
  }

  recentFailures(channelId: string, window: WindowId, limit: number, nowMs?: number): RecentFailure[] {
    const store = this.opts.store();
    if (!store) return this.opts.memory.recentFailures(channelId, window, limit, nowMs);
    let id: bigint;
    try {
      id = BigInt(channelId);
    } catch {
      return [];
    }
    return store.failures({ window, channel: id, limit, nowMs }).map((f) => ({
      timestampMs: f.timestampMs,
      incomingChanId: f.incomingChanId,
      incomingAmtMsat: f.incomingAmtMsat,
      outgoingAmtMsat: f.outgoingAmtMsat,
      missedFeeMsat: f.missedFeeMsat,
      reason: f.reason,
      category: f.category,
      failureString: f.failureString,
    }));
  }

  /** The in-memory part; the store is reset by its owner (NodeHistory), which fires onStoreChange. */
  reset(): void {
    this.opts.memory.reset();
    this.invalidate();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.emitter.clear();
    this.cache.dispose();
  }
}

function reasonsOf(t: StoreTotals): ReasonWindowStats[] {
  const out: ReasonWindowStats[] = [...t.failuresByReason].map(([reason, r]) => ({
    reason,
    count: r.count,
    missedFeesMsat: r.missedFeesMsat,
    missedAmountMsat: r.missedAmountMsat,
    maxAmountMsat: 0n, // not kept per window by the store
  }));
  return out.sort((x, y) => y.count - x.count || (x.missedFeesMsat === y.missedFeesMsat ? (x.reason < y.reason ? -1 : 1) : x.missedFeesMsat > y.missedFeesMsat ? -1 : 1));
}
