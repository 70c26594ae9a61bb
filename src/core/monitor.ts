import type { ClientReadableStream } from '@grpc/grpc-js';
import { Backoff, BackoffOptions } from './backoff';
import { Disposable, Emitter, Logger, silentLogger } from './emitter';
import { classifyGrpcError, LndError } from './lnd/errors';
import { HtlcStreamDeserializer, LndClient, LndConnectionConfig } from './lnd/client';
import type { GetInfoResponse, HtlcEvent } from './lnd/types';
import { Normalizer, NormalizerOptions, Outcome, SuccessOutcome } from './normalizer';
import { StatsEngine, StatsOptions } from './stats';

/** The default stream deserializer: the message's bytes, read later by Normalizer.normalizeBytes. */
const keepBytes = (buf: Buffer): Uint8Array => buf;

export type MonitorState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'failed';

/**
 * 'stream': SubscribeHtlcEvents (failures and successes). 'history-only': LND refused the stream
 * (a macaroon without offchain:read on the router, or an LND without routerrpc) and successes are
 * polled from ForwardingHistory instead; failures are not visible (LND never stores them).
 */
export type MonitorMode = 'stream' | 'history-only';

export interface MonitorCounters {
  /** Messages read from the stream. */
  received: number;
  /** Events that are not forwards (sends, receives, subscribed, final) or forward_events awaiting their end. */
  ignored: number;
  /** Replayed events counted once already. */
  duplicates: number;
  /** Events dropped because the queue was full (never silent: shown in the UI and CLI). */
  dropped: number;
  /** Events that could not be read (bad uint64, …). */
  malformed: number;
  failures: number;
  successes: number;
  listenerErrors: number;
  reconnects: number;
  /** Settles counted from ForwardingHistory (backfill after a reconnect, or history-only polling). */
  backfilled: number;
  /** Pending forwards forgotten before they resolved (bounded memory). */
  pendingEvicted: number;
  /** Channels evicted from the bounded registry. */
  evictions: number;
}

export interface StateChange {
  state: MonitorState;
  /** Why, for reconnecting/failed: the classified error. */
  error?: LndError;
  /** For reconnecting: when the next attempt starts (epoch ms). */
  retryAt?: number;
  /**
   * For reconnecting: the delay before that attempt (ms), as the log announces it. A listener that
   * subtracts its own clock from retryAt gets less, by however long the notification took to reach it.
   */
  retryInMs?: number;
  /** For connected: 'history-only' when the stream was refused (then `error` says why). */
  mode?: MonitorMode;
}

export interface BatchInfo {
  /** Outcomes applied in this batch, in stream order. */
  outcomes: Outcome[];
  /** Channel ids (decimal) whose stats changed. */
  channels: Set<string>;
}

export interface MonitorEvents {
  state: (change: StateChange) => void;
  /** One coalesced notification per processed batch. */
  changed: (batch: BatchInfo) => void;
  node: (info: GetInfoResponse) => void;
}

export interface MonitorOptions {
  /** How to reach LND; or a ready client (tests, the simulator). */
  connection: LndConnectionConfig | (() => LndClient);
  stats?: StatsEngine | StatsOptions;
  normalizer?: NormalizerOptions;
  backoff?: BackoffOptions;
  /** A healthy connection this long resets the backoff. Default 60 s. */
  healthyAfterMs?: number;
  /** How long the first event of a batch waits for others, ms. Default 15. */
  batchDelayMs?: number;
  /** Events processed per batch. Default 5,000. */
  batchSize?: number;
  /** Pause the stream above this many queued events (gRPC flow control), resume below half. */
  queueHighWater?: number;
  /** Hard bound on queued events; beyond it events are dropped and counted. Default 200,000. */
  queueLimit?: number;
  logger?: Logger;
  /**
   * Decoder for the stream, returning proto-loader's HtlcEvent shape. By default the message bytes
   * are kept as they are and the normaliser reads them directly (the hot path, issue 7).
   */
  deserialize?: HtlcStreamDeserializer;
  /**
   * Maps a channel id an event names (an alias SCID, a zero-conf confirmed SCID) to the channel's
   * canonical chan_id, so its failures land on the right channel. See ChannelContextService.resolve.
   */
  resolveChannel?: (id: bigint) => bigint;
  /**
   * Runs after GetInfo and before each subscription (e.g. load the channel context, so alias
   * SCIDs resolve from the first event). Its errors are logged, never fatal.
   */
  beforeSubscribe?: (client: LndClient) => Promise<unknown>;
}

/**
 * Subscribes to LND's HTLC events and keeps per-channel failure statistics. Reconnects with
 * exponential backoff and jitter; stops with a clear error on bad credentials or certificates.
 */
export class HtlcMonitor implements Disposable {
  readonly stats: StatsEngine;
  readonly normalizer: Normalizer;
  private readonly emitter: Emitter<MonitorEvents>;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly opts: MonitorOptions;
  private client: LndClient | undefined;
  private stream: ClientReadableStream<HtlcEvent | Uint8Array> | undefined;
  private queue: (HtlcEvent | Uint8Array)[] = [];
  private queueHead = 0;
  private processing = false;
  /** Holds taken by holdProcessing() and not released yet. */
  private holds = 0;
  private paused = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private healthyTimer: NodeJS.Timeout | undefined;
  private running = false;
  private _state: MonitorState = 'idle';
  private _lastError: LndError | undefined;
  private _node: GetInfoResponse | undefined;
  private lastEventAtMs = 0;
  /** How long the last batch took, listeners included (ms). */
  private lastBatchMs = 0;
  private _mode: MonitorMode = 'stream';
  private _modeReason: LndError | undefined;
  private historyFallback = false;
  private readonly c = { received: 0, ignored: 0, duplicates: 0, dropped: 0, malformed: 0, failures: 0, successes: 0, reconnects: 0, backfilled: 0 };

  constructor(opts: MonitorOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.emitter = new Emitter<MonitorEvents>(this.logger);
    this.stats = opts.stats instanceof StatsEngine ? opts.stats : new StatsEngine(opts.stats);
    this.normalizer = new Normalizer(opts.normalizer);
    this.backoff = new Backoff(opts.backoff);
  }

  get state(): MonitorState {
    return this._state;
  }
  get lastError(): LndError | undefined {
    return this._lastError;
  }
  get nodeInfo(): GetInfoResponse | undefined {
    return this._node;
  }
  get lastEventAt(): number {
    return this.lastEventAtMs;
  }
  /** See MonitorMode. */
  get mode(): MonitorMode {
    return this._mode;
  }
  /** Why the monitor is in history-only mode (the stream's refusal). */
  get modeReason(): LndError | undefined {
    return this._modeReason;
  }
  get lndClient(): LndClient | undefined {
    return this.client;
  }
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  get counters(): MonitorCounters {
    return {
      ...this.c,
      listenerErrors: this.emitter.listenerErrors,
      pendingEvicted: this.normalizer.pendingEvicted,
      evictions: this.stats.evictions,
    };
  }

  on<K extends keyof MonitorEvents>(event: K, listener: MonitorEvents[K]): Disposable {
    return this.emitter.on(event, listener);
  }

  /** Starts monitoring; resolves once the first connection attempt has settled (either way). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    await this.connect(false);
  }

  /** Stops monitoring; processes what is queued first. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    this.closeStream();
    this.drainNow();
    this.client?.close();
    this.client = undefined;
    if (this._state !== 'failed') this.setState({ state: 'stopped' });
  }

  dispose(): void {
    void this.stop();
    this.emitter.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    this.emitter.clear();
  }

  /** Feeds an event as if it came from the stream (the CLI's replay, tests, benchmarks). */
  ingest(ev: HtlcEvent): void {
    this.enqueue(ev);
  }

  /** Maps a channel id an event names to its canonical chan_id (MonitorOptions.resolveChannel). */
  resolveChannelId(id: bigint): bigint {
    return id !== 0n && this.opts.resolveChannel ? this.opts.resolveChannel(id) : id;
  }

  /**
   * When enabled (by the ForwardingHistory backfill, which then polls), a refused stream
   * (permission or unimplemented) puts the monitor in 'history-only' mode instead of 'failed'.
   */
  setHistoryFallback(enabled: boolean): void {
    this.historyFallback = enabled;
  }

  /**
   * Applies settles from ForwardingHistory through the same de-duplication, stats and 'changed'
   * path as the stream's. With `circuitKnown` (LND 0.20+ sends the htlc ids) each is checked and
   * marked against the stream's settle keys; without, the caller has matched them already (see
   * SettleMatcher). Channel ids are resolved like the stream's. Returns how many were counted.
   */
  applySuccesses(outcomes: readonly SuccessOutcome[], circuitKnown: boolean): number {
    const applied: Outcome[] = [];
    const channels = new Set<string>();
    const resolve = this.opts.resolveChannel;
    for (const o of outcomes) {
      if (circuitKnown && !this.normalizer.markSettle(o.incomingChanId, o.incomingHtlcId)) {
        this.c.duplicates++;
        continue;
      }
      if (resolve) {
        if (o.outgoingChanId !== 0n) o.outgoingChanId = resolve(o.outgoingChanId);
        if (o.incomingChanId !== 0n) o.incomingChanId = resolve(o.incomingChanId);
      }
      this.c.successes++;
      this.c.backfilled++;
      const ch = this.stats.apply(o);
      if (ch) channels.add(ch.key);
      applied.push(o);
    }
    if (applied.length > 0) this.emitter.emit('changed', { outcomes: applied, channels });
    return applied.length;
  }

  /**
   * ForwardingHistory failed while in history-only mode: a retryable error reconnects (and tries
   * the stream again); any other stops monitoring with both reasons.
   */
  historyFailed(err: LndError): void {
    if (!this.running || this._mode !== 'history-only') return;
    if (err.retryable) {
      this.onFailure(err);
      return;
    }
    const why = this._modeReason ? `${this._modeReason.message} Falling back to ForwardingHistory failed too: ${err.message}` : err.message;
    this.onFailure(new LndError(err.kind, why, err.grpcCode, err.detail));
  }

  /**
   * Holds processing until the returned Disposable is disposed (every one, when there are several).
   * Meanwhile events are still read, counted and queued as they are behind a consumer that cannot
   * keep up: the stream is paused at queueHighWater, and events beyond queueLimit are dropped and
   * counted. stop() and drainNow() still process everything. This lets a test put the queue in a
   * known state instead of racing the stream against a slow listener.
   */
  holdProcessing(): Disposable {
    this.holds++;
    let held = true;
    return {
      dispose: () => {
        if (!held) return;
        held = false;
        this.holds--;
        if (this.holds === 0 && this.queued > 0 && !this.processing) {
          this.processing = true;
          setImmediate(() => this.processLoop());
        }
      },
    };
  }

  /** Processes everything queued, synchronously. */
  drainNow(): void {
    while (this.queued > 0) this.processBatch();
  }

  private async connect(isRetry: boolean): Promise<void> {
    if (!this.running) return;
    this._mode = 'stream';
    this._modeReason = undefined;
    // a retry keeps the reason of the failure it retries, so the UI never loses it
    this.setState(isRetry ? { state: 'reconnecting', error: this._lastError } : { state: 'connecting' });
    try {
      if (!this.client) {
        const conn = this.opts.connection;
        this.client = typeof conn === 'function' ? conn() : LndClient.create(conn);
      }
      const info = await this.client.getInfo();
      if (!this.running) return;
      this._node = info;
      this.emitter.emit('node', info);
      if (this.opts.beforeSubscribe) {
        await this.opts.beforeSubscribe(this.client).catch((err) => this.logger.warn(`before subscribing: ${(err as Error)?.message ?? err}`));
        if (!this.running || !this.client) return;
      }
      this.subscribe(this.client);
    } catch (err) {
      this.onFailure(err instanceof LndError ? err : classifyGrpcError(err, 'GetInfo', this.client?.target ?? ''));
    }
  }

  private subscribe(client: LndClient): void {
    const stream = client.subscribeHtlcEvents<HtlcEvent | Uint8Array>(this.opts.deserialize ?? keepBytes);
    this.stream = stream;
    let established = false;
    const markConnected = () => {
      if (established) return;
      established = true;
      this._lastError = undefined;
      this.setState({ state: 'connected', mode: 'stream' });
      this.healthyTimer = setTimeout(() => this.backoff.reset(), this.opts.healthyAfterMs ?? 60_000);
      this.healthyTimer.unref?.();
    };
    stream.on('data', (ev: HtlcEvent | Uint8Array) => {
      if (this.stream !== stream) return;
      markConnected();
      this.enqueue(ev);
    });
    stream.on('error', (err: unknown) => {
      if (this.stream !== stream) return; // cancelled by us
      this.stream = undefined;
      const e = classifyGrpcError(err, 'SubscribeHtlcEvents', client.target);
      if (!established && this.historyFallback && (e.kind === 'permission' || e.kind === 'unimplemented')) {
        void this.tryHistoryOnly(client, e);
        return;
      }
      this.onFailure(e);
    });
    stream.on('end', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.onFailure(new LndError('stream', `LND at ${client.target} ended the HTLC event stream.`));
    });
  }

  /** The stream was refused: history-only when ForwardingHistory answers, else fail with both reasons. */
  private async tryHistoryOnly(client: LndClient, err: LndError): Promise<void> {
    try {
      await client.forwardingHistory({ num_max_events: 1 });
    } catch (e) {
      if (!this.running || this.client !== client) return;
      const h = classifyGrpcError(e, 'ForwardingHistory', client.target);
      this.onFailure(h.retryable ? h : new LndError(err.kind, `${err.message} Falling back to ForwardingHistory failed too: ${h.message}`, err.grpcCode, err.detail));
      return;
    }
    if (!this.running || this.client !== client) return;
    this.enterHistoryOnly(err);
  }

  private enterHistoryOnly(err: LndError): void {
    this.logger.info(`${err.message} Counting successes from ForwardingHistory only: failed forwards are not visible.`);
    this._mode = 'history-only';
    this._modeReason = err;
    this._lastError = undefined;
    this.setState({ state: 'connected', mode: 'history-only', error: err });
  }

  private onFailure(err: LndError): void {
    this._lastError = err;
    this.clearTimers();
    this.closeStream();
    if (!this.running) return;
    if (!err.retryable) {
      this.logger.error(`monitoring stopped: ${err.message}`);
      this.running = false;
      this.client?.close();
      this.client = undefined;
      this.setState({ state: 'failed', error: err });
      return;
    }
    if (err.kind === 'unreachable') {
      // A fresh channel on the next attempt: grpc-js keeps its own reconnect backoff (up to 10 s)
      // per channel and fails calls fast meanwhile, which made the first attempt after LND came
      // back fail and cost one more of our backoff steps (up to 60 s).
      this.client?.close();
      this.client = undefined;
    }
    const delay = this.backoff.next();
    this.c.reconnects++;
    this.logger.warn(`${err.message} Reconnecting in ${(delay / 1000).toFixed(1)} s.`);
    this.setState({ state: 'reconnecting', error: err, retryAt: Date.now() + delay, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect(true);
    }, delay);
  }

  private enqueue(ev: HtlcEvent | Uint8Array): void {
    this.c.received++;
    const limit = this.opts.queueLimit ?? 200_000;
    if (this.queued >= limit) {
      // never silent: counted (table, JSON, UI) and logged at the first drop and every 10,000th
      if (this.c.dropped++ % 10_000 === 0) {
        this.logger.warn(`event queue full (${limit} waiting): dropping HTLC events, ${this.c.dropped} so far; counts from now on are incomplete.`);
      }
      return;
    }
    this.queue.push(ev);
    const high = this.opts.queueHighWater ?? 50_000;
    if (!this.paused && this.stream && this.queued >= high) {
      this.paused = true;
      this.stream.pause();
    }
    if (!this.processing && this.holds === 0) {
      this.processing = true;
      // gRPC hands messages over one at a time: wait a moment so they arrive as one batch and
      // listeners get one notification for many events (a full batch goes at once).
      const delay = Math.max(this.opts.batchDelayMs ?? 15, this.lastBatchMs >= 20 ? Math.min(this.lastBatchMs, 250) : 0);
      if (delay > 0) setTimeout(() => this.processLoop(), delay);
      else setImmediate(() => this.processLoop());
    }
  }

  private processLoop(): void {
    // held since this run was scheduled: releasing the last hold schedules the next one
    if (this.holds > 0) {
      this.processing = false;
      return;
    }
    const t0 = Date.now();
    this.processBatch();
    // A slow 'changed' listener (a busy UI) gets fewer, larger batches: give the stream as long
    // to deliver as the last batch took (at most 250 ms) instead of one event-loop turn.
    this.lastBatchMs = Date.now() - t0;
    if (this.holds > 0) this.processing = false; // a listener took a hold
    else if (this.queued >= (this.opts.batchSize ?? 5_000) || (this.queued > 0 && this.lastBatchMs < 20)) setImmediate(() => this.processLoop());
    else if (this.queued > 0) setTimeout(() => this.processLoop(), Math.min(this.lastBatchMs, 250));
    else this.processing = false;
  }

  private processBatch(): void {
    const size = this.opts.batchSize ?? 5_000;
    const end = Math.min(this.queue.length, this.queueHead + size);
    const outcomes: Outcome[] = [];
    const channels = new Set<string>();
    // one clock read per batch, not per event (issue 7: 60 ns each here); a batch waits at most 250 ms
    const now = Date.now();
    if (end > this.queueHead) this.lastEventAtMs = now;
    for (let i = this.queueHead; i < end; i++) {
      const ev = this.queue[i];
      let r;
      try {
        r = ev instanceof Uint8Array ? this.normalizer.normalizeBytes(ev, now) : this.normalizer.normalize(ev, now);
      } catch (err) {
        this.c.malformed++;
        this.logger.warn(`skipped a malformed HTLC event: ${(err as Error).message}`);
        continue;
      }
      if (r.type === 'ignored') this.c.ignored++;
      else if (r.type === 'duplicate') this.c.duplicates++;
      else {
        const o = r.outcome;
        const resolve = this.opts.resolveChannel;
        if (resolve) {
          if (o.outgoingChanId !== 0n) o.outgoingChanId = resolve(o.outgoingChanId);
          if (o.incomingChanId !== 0n) o.incomingChanId = resolve(o.incomingChanId);
        }
        if (o.kind === 'failure') this.c.failures++;
        else this.c.successes++;
        const ch = this.stats.apply(o);
        if (ch) channels.add(ch.key);
        outcomes.push(o);
      }
    }
    this.queueHead = end;
    if (this.queueHead >= this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 65_536) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (this.paused && this.queued < (this.opts.queueHighWater ?? 50_000) / 2) {
      this.paused = false;
      this.stream?.resume();
    }
    if (outcomes.length > 0) this.emitter.emit('changed', { outcomes, channels });
  }

  private setState(change: StateChange): void {
    const same = this._state === change.state && change.state !== 'reconnecting';
    this._state = change.state;
    if (!same) this.emitter.emit('state', change);
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    this.paused = false;
    if (s) {
      s.removeAllListeners('data');
      s.on('error', () => {}); // the cancel below reports CANCELLED; it is ours
      s.cancel();
    }
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.retryTimer = undefined;
    this.healthyTimer = undefined;
  }
}
