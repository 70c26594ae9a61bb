import * as vscode from 'vscode';
import { HtlcMonitor, MonitorState, StateChange } from '../../core/monitor';
import { HistoryBackfill } from '../../core/backfill';
import type { LndConnectionConfig } from '../../core/lnd/client';
import { LndError } from '../../core/lnd/errors';
import { StatsEngine } from '../../core/stats';
import { ChannelContextService, LndContextProvider } from '../../core/context';
import type { ConnectionStateName, ConnectionSummary } from '../../shared/protocol';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { Log } from '../common/log';
import { HtlcMonitorSettings, readSettings } from '../config';
import { MemoryWindowSource } from '../data/memoryWindowSource';
import { HistoryWindowSource } from '../data/historyWindowSource';
import { NodeHistory } from '../data/nodeHistory';
import type { WindowSource } from '../data/types';
import { LndChannelContext } from '../data/lndChannelContext';
import type { MacaroonStore } from './secrets';
import { setContext } from '../common/contextKeys';

export interface StartOptions {
  demo?: boolean;
  /** Shown instead of the target, e.g. "demo node". */
  label?: string;
  /** Only when no monitor runs by the time this start's turn comes (autostart: a monitor the user started meanwhile stays). */
  ifIdle?: boolean;
}

/** Why settings are incomplete, or the connection they describe. */
export type ResolvedConnection = { ok: true; config: LndConnectionConfig } | { ok: false; missing: string };

export interface ManagerOptions {
  /**
   * Folder of the per-node history files (the extension's globalStorageUri). Without it the
   * statistics live in memory only.
   */
  historyDir?: string;
  /** Shows a warning to the user (a history file moved aside). */
  notify?: (message: string) => void;
}

/**
 * Owns the monitor and the data it feeds (StatsEngine, the window sources, the channel context,
 * the node's persistent history), tracks the connection state and mirrors it into context keys
 * for `when` clauses.
 */
export class ConnectionManager extends Disposable {
  readonly stats: StatsEngine;
  /** Fed by every batch; what the UI shows while no history store is open. */
  readonly memoryWindows: MemoryWindowSource;
  /** The UI's windows: the node's history when its store is open, else memoryWindows. */
  readonly windows: WindowSource;
  readonly context: LndChannelContext;
  /** The node's persistent history (undefined without a history folder). */
  readonly history: NodeHistory | undefined;
  private monitor: HtlcMonitor | undefined;
  private coreContext: ChannelContextService | undefined;
  private monitorSubs: vscode.Disposable[] = [];
  private _summary: ConnectionSummary = { state: 'notConfigured', demo: false };
  private configured = false;
  private nodePubkey: string | undefined;
  private readonly _onDidChangeState = this._register(new vscode.EventEmitter<ConnectionSummary>());
  readonly onDidChangeState = this._onDidChangeState.event;
  private readonly _onDidReset = this._register(new vscode.EventEmitter<void>());
  readonly onDidReset = this._onDidReset.event;
  private stopHooks: (() => Promise<void> | void)[] = [];
  /** The start or stop under way (see serial). */
  private lifecycle: Promise<unknown> = Promise.resolve();

  /**
   * @param ownContext whether this manager refreshes its simple LndChannelContext on connect
   *   (false when the core channel-context service provides aliases and balances instead)
   */
  constructor(
    private readonly log: Log,
    private readonly macaroons: MacaroonStore,
    settings: HtlcMonitorSettings = readSettings(),
    private readonly ownContext = true,
    opts: ManagerOptions = {},
  ) {
    super();
    this.stats = new StatsEngine({ maxChannels: settings.maxChannels });
    this.memoryWindows = this._register(new MemoryWindowSource({ retentionMs: settings.retentionDays * 86_400_000, maxChannels: settings.maxChannels }));
    if (opts.historyDir) {
      const history = new NodeHistory({ dir: opts.historyDir, logger: log, retentionDays: settings.retentionDays, notify: opts.notify });
      this.history = history;
      this.windows = this._register(
        new HistoryWindowSource({
          memory: this.memoryWindows,
          store: () => history.store,
          onStoreChange: (l) => history.onDidChange(l),
          lastFailureAt: (id) => this.stats.channel(id)?.lastFailureAtMs,
        }),
      );
      this._register(toDisposable(() => history.dispose()));
    } else {
      this.windows = this.memoryWindows;
    }
    this.context = this._register(new LndChannelContext(() => this.monitor?.lndClient, log));
    this._register(toDisposable(() => void this.stop()));
    this.publishContext(this._summary);
  }

  get summary(): ConnectionSummary {
    return this._summary;
  }

  get state(): ConnectionStateName {
    return this._summary.state;
  }

  get running(): boolean {
    return this.monitor !== undefined && !['stopped', 'failed', 'idle'].includes(this.monitor.state);
  }

  /** The identity pubkey of the node monitored last. */
  get lastNodePubkey(): string | undefined {
    return this.nodePubkey;
  }

  get currentMonitor(): HtlcMonitor | undefined {
    return this.monitor;
  }

  /**
   * The channel context of the current monitor (aliases, balances, alias SCIDs), loaded before its
   * first event; undefined while no monitor runs.
   */
  get channelContext(): ChannelContextService | undefined {
    return this.coreContext;
  }

  applySettings(settings: HtlcMonitorSettings): void {
    this.memoryWindows.configure({ retentionMs: settings.retentionDays * 86_400_000, maxChannels: settings.maxChannels });
    void this.history?.setRetentionDays(settings.retentionDays).catch((err) => this.log.warn(`history retention: ${(err as Error).message}`));
  }

  /** Checks the settings and secret storage; updates the `configured` context key. */
  async resolveFromSettings(settings: HtlcMonitorSettings = readSettings()): Promise<ResolvedConnection> {
    const hex = await this.macaroons.get();
    let result: ResolvedConnection;
    if (!settings.server) result = { ok: false, missing: 'the LND address (htlcMonitor.lnd.server)' };
    else if (!settings.tlsCertPath) result = { ok: false, missing: "LND's tls.cert (htlcMonitor.lnd.tlsCertPath)" };
    else if (!hex && !settings.macaroonPath) result = { ok: false, missing: 'a macaroon (import one with "HTLC: Connect to LND…", or set htlcMonitor.lnd.macaroonPath)' };
    else {
      this.log.addSecret(hex);
      result = {
        ok: true,
        config: { server: settings.server, tlsCertPath: settings.tlsCertPath, ...(hex ? { macaroonHex: hex } : { macaroonPath: settings.macaroonPath }) },
      };
    }
    this.configured = result.ok;
    await setContext('htlcMonitor.configured', result.ok);
    if (!this.monitor) this.setSummary({ state: result.ok ? 'idle' : 'notConfigured', demo: false });
    return result;
  }

  /**
   * Starts monitoring with the given connection (replacing any running monitor). Resolves once the
   * first attempt settled; the state tells how. Starts and stops run one after the other (see
   * serial): two at once would each stop "the" monitor before either made one, and both would run.
   */
  async start(config: LndConnectionConfig, opts: StartOptions = {}, onStop?: () => Promise<void> | void): Promise<ConnectionSummary> {
    const launched = await this.serial(async () => {
      if (opts.ifIdle && this.monitor) return undefined;
      await this.stopNow();
      return { firstAttempt: this.launch(config, opts, onStop) };
    });
    // the first attempt runs outside the queue, so a Stop (or another start) is not held up by a
    // slow GetInfo: it stops this monitor, whose attempt then ends at once
    await launched?.firstAttempt;
    return this._summary;
  }

  /** Makes the monitor and its subscriptions; returns its first attempt. */
  private launch(config: LndConnectionConfig, opts: StartOptions, onStop?: () => Promise<void> | void): Promise<void> {
    if (onStop) this.stopHooks.push(onStop);
    if (config.macaroonHex) this.log.addSecret(config.macaroonHex);
    const label = opts.label ?? config.server;
    this.log.info(`connecting to ${label}${opts.demo ? ' (demo node)' : ''}`);
    // The channel context resolves alias SCIDs (zero-conf, scid-alias channels) to the canonical
    // chan_id, so a channel never shows under two ids; it is loaded before the first event.
    const ctx = new ChannelContextService({ provider: new LndContextProvider(() => monitor.lndClient), refreshMs: 60_000, logger: this.log });
    this.coreContext = ctx;
    const monitor: HtlcMonitor = new HtlcMonitor({
      connection: config,
      stats: this.stats,
      logger: this.log,
      resolveChannel: (id) => ctx.resolveBig(id),
      // GetInfo has run (the node's pubkey is known) and no event is applied yet
      beforeSubscribe: () => this.beforeSubscribe(monitor, ctx),
    });
    this.monitor = monitor;
    // settles missed while disconnected come from ForwardingHistory; a refused stream falls back to it
    const backfill = new HistoryBackfill(monitor, {
      logger: this.log,
      store: { newestEventMs: () => this.history?.store?.newestEventMs(), successesSince: (ms, limit) => this.history?.store?.successesSince(ms, limit) ?? [] },
    });
    this.monitorSubs = [
      toVs(backfill),
      toVs(ctx.on('changed', () => this.storeAliases(ctx))),
      toVs(monitor.on('state', (s) => this.onMonitorState(monitor, s, label, opts.demo ?? false))),
      toVs(monitor.on('node', (info) => {
        if (this.nodePubkey && this.nodePubkey !== info.identity_pubkey) {
          this.log.info('connected to a different node: statistics reset (its own history is loaded next)');
          this.resetInMemory();
        }
        this.nodePubkey = info.identity_pubkey;
        this.log.info(`LND ${info.version} "${info.alias}" ${info.identity_pubkey} at block ${info.block_height}`);
        this.setSummary({ ...this._summary, nodeAlias: info.alias });
      })),
      toVs(monitor.on('changed', (batch) => this.memoryWindows.ingest(batch.outcomes))),
    ];
    return monitor.start();
  }

  /** Opens the node's history (restored into the stats, then recording) and loads the channel context. */
  private async beforeSubscribe(monitor: HtlcMonitor, ctx: ChannelContextService): Promise<void> {
    const pubkey = monitor.nodeInfo?.identity_pubkey;
    if (this.history && pubkey && this.monitor === monitor) {
      try {
        await this.history.open(pubkey, this.stats, monitor);
      } catch (err) {
        this.log.error(`history of node ${pubkey.slice(0, 16)}… unavailable, statistics are kept in memory only: ${describeError(err)}`);
      }
    }
    if (this.monitor !== monitor) return;
    if (ctx.loaded) await ctx.refresh().catch(() => undefined);
    else await ctx.start(); // errors are reported (the 'error' event), never thrown
    this.storeAliases(ctx);
  }

  private storeAliases(ctx: ChannelContextService): void {
    if (!this.history?.store || ctx !== this.coreContext) return;
    this.history.setAliases(ctx.all().flatMap((c): [string, string][] => (c.alias ? [[c.chanId, c.alias]] : [])));
  }

  private onMonitorState(monitor: HtlcMonitor, s: StateChange, label: string, demo: boolean): void {
    if (this.monitor !== monitor) return;
    const reason = s.error?.message;
    const historyOnly = s.state === 'connected' && s.mode === 'history-only' ? (reason ?? 'LND refused the HTLC event stream') : undefined;
    if (historyOnly) {
      this.log.warn(`connected to ${label} in history-only mode: ${historyOnly} Successes are polled from ForwardingHistory; failed forwards are NOT visible.`);
      if (this.ownContext) this.context.start();
    } else if (s.state === 'connected') {
      this.log.info(`connected to ${label}: receiving HTLC events`);
      if (this.ownContext) this.context.start();
    } else if (s.state === 'reconnecting') {
      this.log.warn(`connection to ${label} lost: ${reason ?? 'unknown reason'}`);
    } else if (s.state === 'failed') {
      this.log.error(`monitoring ${label} stopped: ${reason ?? 'unknown reason'}`);
      this.context.stopTimer();
    } else if (s.state === 'stopped') {
      this.log.info(`monitoring ${label} stopped`);
      this.context.stopTimer();
    }
    this.setSummary({
      state: mapState(s.state),
      reason: s.state === 'connected' || s.state === 'connecting' ? undefined : reason,
      ...(historyOnly ? { historyOnly } : {}),
      nodeAlias: monitor.nodeInfo?.alias,
      target: label,
      demo,
    });
  }

  /** Stops monitoring (after any start or stop under way). */
  stop(): Promise<void> {
    return this.serial(() => this.stopNow());
  }

  private async stopNow(): Promise<void> {
    const m = this.monitor;
    if (m) {
      await m.stop();
      for (const d of this.monitorSubs) d.dispose();
      this.monitorSubs = [];
      m.dispose();
      this.monitor = undefined;
      this.context.stopTimer();
      this.coreContext?.dispose();
      this.coreContext = undefined;
    }
    // final flush, file released; the next start (or another window) opens it again
    await this.history?.close().catch((err) => this.log.warn(`closing the history: ${describeError(err)}`));
    const hooks = this.stopHooks;
    this.stopHooks = [];
    for (const h of hooks) {
      try {
        await h();
      } catch (err) {
        this.log.warn(`stop hook failed: ${(err as Error).message}`);
      }
    }
    if (m && !this.isDisposed) {
      const last = m.lastError;
      this.setSummary({ ...this._summary, state: m.state === 'failed' ? 'failed' : this.configured || this._summary.demo ? 'stopped' : 'notConfigured', reason: last?.message });
    }
  }

  /** Runs start and stop operations one at a time, in the order they were asked for. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(fn);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  /** "Reset Statistics": in memory and in the node's history file. */
  async resetStatistics(): Promise<void> {
    await this.history?.reset();
    this.resetInMemory();
  }

  private resetInMemory(): void {
    this.stats.reset();
    this.windows.reset();
    this._onDidReset.fire();
  }

  private setSummary(s: ConnectionSummary): void {
    const changed = JSON.stringify(s) !== JSON.stringify(this._summary);
    this._summary = s;
    if (!changed || this.isDisposed) return;
    this.publishContext(s);
    this._onDidChangeState.fire(s);
  }

  private publishContext(s: ConnectionSummary): void {
    void setContext('htlcMonitor.connectionState', s.state);
    void setContext('htlcMonitor.monitoring', ['connecting', 'connected', 'reconnecting'].includes(s.state));
    void setContext('htlcMonitor.historyOnly', s.historyOnly !== undefined);
  }
}

function mapState(s: MonitorState): ConnectionStateName {
  return s;
}

function toVs(d: { dispose(): void }): vscode.Disposable {
  return new vscode.Disposable(() => d.dispose());
}

/** A one-line, secret-free explanation of any error. */
export function describeError(err: unknown): string {
  if (err instanceof LndError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
