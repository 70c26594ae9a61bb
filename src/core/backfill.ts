/**
 * ForwardingHistory backfill and fallback.
 *
 * LND never stores failed HTLCs, but it keeps settled forwards (ForwardingHistory). So:
 * - after every (re)connect of the stream, the settles LND logged since the last event we saw (the
 *   monitor's newest event, or the store's newest after a restart) are counted, so success counts
 *   and rates stay complete across disconnects and restarts. A second pass runs `settlePassDelayMs`
 *   later, because LND writes its forwarding log in batches every 15 s: the first pass can miss the
 *   last seconds before the subscribe.
 * - when LND refuses SubscribeHtlcEvents (a macaroon scoped to single calls with `uri:`
 *   permissions that leave it out — offchain:read would grant ForwardingHistory and the stream
 *   alike — or an LND without routerrpc), the monitor goes 'history-only' and this polls
 *   ForwardingHistory every `pollMs`: successes only, failures are not visible.
 *
 * Never twice: a history entry is one the stream already counted when
 * - it carries htlc ids (LND 0.20+) and the normaliser has the settle key `s:<in chan>:<in htlc>`,
 *   or the stream's settle with the same ids is in the index below; or
 * - it matches a recent stream settle by the SettleMatcher rule: same channels, |Δt| ≤
 *   toleranceMs, same amounts when both sides know them; one-to-one; or
 * - after a restart, it is within toleranceMs of the store's newest event and matches a stored
 *   success by the same rule (the store keeps no htlc ids); later entries are new, earlier ones
 *   are outside the range.
 * History entries themselves are de-duplicated exactly (timestamp_ns, channels, amounts), so the
 * overlapping passes and polls count each once. Entries without ids counted while the new stream
 * may still deliver them are handed to the normaliser (watchExternalSettles), which then treats
 * the stream's settle as a duplicate.
 */
import { LRUCache } from 'lru-cache';
import { Disposable, Emitter, Logger, silentLogger } from './emitter';
import { classifyGrpcError, LndError } from './lnd/errors';
import type { LndClient } from './lnd/client';
import type { ForwardingEvent } from './lnd/types';
import type { HtlcMonitor } from './monitor';
import type { SuccessOutcome } from './normalizer';
import { parseU64 } from './scid';
import { SettleMatcher, SettleRef } from './settleMatch';
import { nsToMs } from './time';

/** What the backfill needs of the store (HtlcStore has both). */
export interface BackfillHistorySource {
  newestEventMs(): number | undefined;
  successesSince(sinceMs: number, limit?: number): SettleRef[];
}

export interface BackfillOptions {
  /** ForwardingHistory page size (LND caps it at 50,000). Default 10,000. */
  pageSize?: number;
  /** At most this many pages per pass (a bound on a pass's work). Default 100. */
  maxPages?: number;
  /** See SettleMatcher. Default 2,000 ms. */
  toleranceMs?: number;
  /** Second pass after each (re)connect, ms; 0 = none. Default 20,000 (LND flushes its log every 15 s). */
  settlePassDelayMs?: number;
  /** Fall back to polling ForwardingHistory when the stream is refused. Default true. */
  fallback?: boolean;
  /** History-only polling period, ms. Default 30,000. */
  pollMs?: number;
  /** Each poll re-reads this far before the newest entry seen (late log writes), ms. Default 60,000. */
  pollOverlapMs?: number;
  /** The store, for the starting point and the already counted successes after a restart. */
  store?: BackfillHistorySource;
  /** Recent stream settles kept for matching. Default 20,000. */
  maxIndexed?: number;
  logger?: Logger;
  now?: () => number;
}

export interface BackfillPass {
  reason: 'reconnect' | 'settle' | 'poll';
  /** Start of the range asked for (epoch ms). */
  fromMs: number;
  fetched: number;
  /** Counted as new successes. */
  applied: number;
  /** Already counted (by the stream, the store or an earlier pass). */
  duplicates: number;
  durationMs: number;
}

export interface BackfillEvents {
  pass: (info: BackfillPass) => void;
  error: (err: LndError) => void;
}

export interface BackfillCounters {
  passes: number;
  fetched: number;
  applied: number;
  duplicates: number;
  errors: number;
}

export class HistoryBackfill implements Disposable {
  readonly counters: BackfillCounters = { passes: 0, fetched: 0, applied: 0, duplicates: 0, errors: 0 };
  private readonly emitter: Emitter<BackfillEvents>;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly opts: BackfillOptions;
  private readonly index: SettleMatcher;
  /** Stream-side: history entries without ids counted while the stream may still deliver them. */
  private readonly external: SettleMatcher;
  /** After a restart: the store's successes near its newest event (no htlc ids are stored). */
  private readonly stored: SettleMatcher;
  private storedUntilMs = -Infinity;
  private readonly historySeen = new LRUCache<string, true>({ max: 200_000 });
  private readonly subs: Disposable[] = [];
  /** Newest LND event time we saw (ms), the start of the next gap. */
  private watermarkMs: number | undefined;
  private restoredFromStore = false;
  private chain: Promise<unknown> = Promise.resolve();
  private settleTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollFromMs = 0;
  private disposed = false;
  private warnedUnavailable = false;

  constructor(private readonly monitor: HtlcMonitor, opts: BackfillOptions = {}) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.emitter = new Emitter<BackfillEvents>(this.logger);
    this.now = opts.now ?? Date.now;
    const toleranceMs = opts.toleranceMs ?? 2_000;
    this.index = new SettleMatcher({ toleranceMs, maxEntries: opts.maxIndexed ?? 20_000, ttlMs: Infinity, now: this.now });
    this.stored = new SettleMatcher({ toleranceMs, maxEntries: 20_000, ttlMs: Infinity, now: this.now });
    this.external = new SettleMatcher({ toleranceMs, maxEntries: 10_000, ttlMs: 10 * 60_000, now: this.now });
    monitor.normalizer.watchExternalSettles(this.external);
    if (opts.fallback !== false) monitor.setHistoryFallback(true);
    this.subs.push(
      monitor.on('changed', (batch) => {
        for (const o of batch.outcomes) {
          if (this.watermarkMs === undefined || o.timestampMs > this.watermarkMs) this.watermarkMs = o.timestampMs;
          if (o.kind === 'success' && o.source !== 'history') this.index.add(o);
        }
      }),
      monitor.on('state', (s) => {
        if (s.state === 'connected' && s.mode === 'history-only') this.startPolling();
        else if (s.state === 'connected') this.onStreamConnected();
        else this.stopTimers();
      }),
    );
  }

  on<K extends keyof BackfillEvents>(event: K, listener: BackfillEvents[K]): Disposable {
    return this.emitter.on(event, listener);
  }

  /** Newest event time known (ms): the next gap starts there. */
  get watermark(): number | undefined {
    return this.watermarkMs;
  }

  /** Resolves when every pass started so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  dispose(): void {
    this.disposed = true;
    this.stopTimers();
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
    this.monitor.normalizer.watchExternalSettles(undefined);
    this.monitor.setHistoryFallback(false);
    this.emitter.clear();
  }

  /** After a restart: start from the store's newest event and know what it counted near it. */
  private restoreFromStore(): void {
    if (this.restoredFromStore) return;
    this.restoredFromStore = true;
    const store = this.opts.store;
    if (!store || this.watermarkMs !== undefined) return;
    try {
      const newest = store.newestEventMs();
      if (newest === undefined) return;
      this.watermarkMs = newest;
      // Only entries within the tolerance of the store's newest event can be ones it has: later
      // ones are new, earlier ones are skipped by the range.
      this.storedUntilMs = newest;
      for (const s of store.successesSince(newest - 2 * this.index.toleranceMs)) this.stored.add(s);
    } catch (err) {
      this.logger.warn(`backfill: could not read the store: ${(err as Error).message}`);
    }
  }

  private onStreamConnected(): void {
    this.stopTimers();
    this.restoreFromStore();
    const connectedAt = this.now();
    const from = this.watermarkMs;
    if (from === undefined) {
      // Nothing seen yet: monitoring starts now; a later gap starts here at the latest.
      this.watermarkMs = connectedAt;
      return;
    }
    const fromMs = from - this.index.toleranceMs;
    this.enqueue('reconnect', fromMs, connectedAt);
    const delay = this.opts.settlePassDelayMs ?? 20_000;
    if (delay > 0) {
      this.settleTimer = setTimeout(() => {
        this.settleTimer = undefined;
        this.enqueue('settle', fromMs, connectedAt);
      }, delay);
      this.settleTimer.unref?.();
    }
  }

  private startPolling(): void {
    this.stopTimers();
    this.restoreFromStore();
    // from the last event seen (with the matching tolerance), or from now when monitoring starts
    if (this.watermarkMs === undefined) this.pollFromMs = this.watermarkMs = this.now();
    else this.pollFromMs = this.watermarkMs - this.index.toleranceMs;
    const poll = () => this.enqueue('poll', this.pollFromMs, Infinity);
    poll();
    this.pollTimer = setInterval(poll, this.opts.pollMs ?? 30_000);
    this.pollTimer.unref?.();
  }

  private stopTimers(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.settleTimer = undefined;
    this.pollTimer = undefined;
  }

  private enqueue(reason: BackfillPass['reason'], fromMs: number, overlapFromMs: number): void {
    const client = this.monitor.lndClient;
    if (!client || this.disposed) return;
    this.chain = this.chain.then(() => this.pass(client, reason, fromMs, overlapFromMs)).catch((err) => this.onError(err, reason));
  }

  private onError(err: unknown, reason: BackfillPass['reason']): void {
    if (this.disposed) return;
    const e = classifyGrpcError(err, 'ForwardingHistory', this.monitor.lndClient?.target ?? '');
    this.counters.errors++;
    this.emitter.emit('error', e);
    if (reason === 'poll') {
      this.stopTimers();
      this.monitor.historyFailed(e);
      return;
    }
    if (!e.retryable) {
      if (!this.warnedUnavailable) this.logger.warn(`Successes missed while disconnected cannot be backfilled: ${e.message}`);
      this.warnedUnavailable = true;
    } else this.logger.warn(`backfill after reconnect failed: ${e.message}`);
  }

  /**
   * One pass: ForwardingHistory from fromMs (paged), each entry not counted yet is counted.
   * Entries without ids at or after overlapFromMs may still come on the stream: the normaliser is
   * told about them.
   */
  private async pass(client: LndClient, reason: BackfillPass['reason'], fromMs: number, overlapFromMs: number): Promise<void> {
    if (this.disposed || this.monitor.lndClient !== client) return;
    const t0 = this.now();
    const pageSize = Math.min(this.opts.pageSize ?? 10_000, 50_000);
    const maxPages = this.opts.maxPages ?? 100;
    const startSec = Math.max(0, Math.floor(fromMs / 1000));
    let offset = 0;
    let fetched = 0;
    let applied = 0;
    let duplicates = 0;
    let newest = -Infinity;
    for (let page = 0; page < maxPages; page++) {
      const res = await client.forwardingHistory({ start_time: String(startSec), index_offset: offset, num_max_events: pageSize, peer_alias_lookup: false });
      if (this.disposed || this.monitor.lndClient !== client) return;
      const events = res.forwarding_events ?? [];
      fetched += events.length;
      const r = this.countEntries(events, fromMs, overlapFromMs);
      applied += r.applied;
      duplicates += r.duplicates;
      if (r.newestMs > newest) newest = r.newestMs;
      if (events.length < pageSize) break;
      offset = res.last_offset_index > offset ? res.last_offset_index : offset + events.length;
    }
    if (reason === 'poll' && newest > -Infinity) {
      this.pollFromMs = Math.max(this.pollFromMs, newest - (this.opts.pollOverlapMs ?? 60_000));
    }
    this.counters.passes++;
    this.counters.fetched += fetched;
    this.counters.applied += applied;
    this.counters.duplicates += duplicates;
    const info: BackfillPass = { reason, fromMs, fetched, applied, duplicates, durationMs: this.now() - t0 };
    if (applied > 0) this.logger.info(`backfill (${reason}): ${applied} settled forward(s) from ForwardingHistory, ${duplicates} already counted`);
    this.emitter.emit('pass', info);
  }

  /** Splits a page into already counted and new entries, and counts the new ones. */
  countEntries(events: readonly ForwardingEvent[], fromMs: number, overlapFromMs: number): { applied: number; duplicates: number; newestMs: number } {
    const withIds: SuccessOutcome[] = [];
    const withoutIds: SuccessOutcome[] = [];
    const overlap: SettleRef[] = [];
    let duplicates = 0;
    let newestMs = -Infinity;
    for (const e of events) {
      const o = toOutcome(e);
      if (o.timestampMs > newestMs) newestMs = o.timestampMs;
      if (o.timestampMs < fromMs) continue;
      const key = `${o.timestampNs}:${o.incomingChanId}:${o.outgoingChanId}:${o.incomingAmtMsat}:${o.outgoingAmtMsat}`;
      if (this.historySeen.has(key)) continue; // an earlier pass or poll handled it
      this.historySeen.set(key, true);
      const idsKnown = e.incoming_htlc_id != null && e.incoming_htlc_id !== '';
      if (idsKnown && this.monitor.normalizer.hasSettle(o.incomingChanId, o.incomingHtlcId)) {
        duplicates++;
        continue;
      }
      const raw: SettleRef = { ...o };
      const resolved: SettleRef = {
        ...o,
        incomingChanId: this.monitor.resolveChannelId(o.incomingChanId),
        outgoingChanId: this.monitor.resolveChannelId(o.outgoingChanId),
        incomingHtlcId: idsKnown ? o.incomingHtlcId : undefined,
      };
      if (this.index.take(resolved) || (o.timestampMs <= this.storedUntilMs + this.stored.toleranceMs && this.stored.take(resolved))) {
        duplicates++;
        continue;
      }
      if (idsKnown) withIds.push(o);
      else {
        withoutIds.push(o);
        if (o.timestampMs >= overlapFromMs - this.index.toleranceMs) overlap.push({ ...raw, incomingHtlcId: undefined });
      }
    }
    let applied = 0;
    if (withIds.length) {
      const n = this.monitor.applySuccesses(withIds, true);
      applied += n;
      duplicates += withIds.length - n;
    }
    if (withoutIds.length) {
      for (const r of overlap) this.external.add(r);
      applied += this.monitor.applySuccesses(withoutIds, false);
    }
    return { applied, duplicates, newestMs };
  }
}

/** A ForwardingHistory entry as the SuccessOutcome the stream would have produced. */
export function toOutcome(e: ForwardingEvent): SuccessOutcome {
  const timestampNs = e.timestamp_ns && e.timestamp_ns !== '0' ? parseU64(e.timestamp_ns) : parseU64(e.timestamp) * 1_000_000_000n;
  const inAmt = e.amt_in_msat && e.amt_in_msat !== '0' ? parseU64(e.amt_in_msat) : parseU64(e.amt_in) * 1000n;
  const outAmt = e.amt_out_msat && e.amt_out_msat !== '0' ? parseU64(e.amt_out_msat) : parseU64(e.amt_out) * 1000n;
  const fee = e.fee_msat && e.fee_msat !== '0' ? parseU64(e.fee_msat) : inAmt > outAmt ? inAmt - outAmt : 0n;
  return {
    kind: 'success',
    incomingChanId: parseU64(e.chan_id_in),
    outgoingChanId: parseU64(e.chan_id_out),
    incomingHtlcId: e.incoming_htlc_id != null && e.incoming_htlc_id !== '' ? parseU64(e.incoming_htlc_id) : 0n,
    outgoingHtlcId: e.outgoing_htlc_id != null && e.outgoing_htlc_id !== '' ? parseU64(e.outgoing_htlc_id) : 0n,
    timestampNs,
    timestampMs: nsToMs(timestampNs),
    incomingAmtMsat: inAmt,
    outgoingAmtMsat: outAmt,
    feeMsat: fee,
    amountsKnown: true,
    source: 'history',
  };
}
