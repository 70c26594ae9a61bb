import * as vscode from 'vscode';
import { HtlcMonitor, MonitorState, StateChange } from '../../core/monitor';
import type { LndConnectionConfig } from '../../core/lnd/client';
import { LndError } from '../../core/lnd/errors';
import { StatsEngine } from '../../core/stats';
import type { ConnectionStateName, ConnectionSummary } from '../../shared/protocol';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { Log } from '../common/log';
import { HtlcMonitorSettings, readSettings } from '../config';
import { MemoryWindowSource } from '../data/memoryWindowSource';
import { LndChannelContext } from '../data/lndChannelContext';
import type { MacaroonStore } from './secrets';

export interface StartOptions {
  demo?: boolean;
  /** Shown instead of the target, e.g. "demo node". */
  label?: string;
}

/** Why settings are incomplete, or the connection they describe. */
export type ResolvedConnection = { ok: true; config: LndConnectionConfig } | { ok: false; missing: string };

/**
 * Owns the monitor and the data it feeds (StatsEngine, the window source, the channel context),
 * tracks the connection state and mirrors it into context keys for `when` clauses.
 */
export class ConnectionManager extends Disposable {
  readonly stats: StatsEngine;
  readonly windows: MemoryWindowSource;
  readonly context: LndChannelContext;
  private monitor: HtlcMonitor | undefined;
  private monitorSubs: vscode.Disposable[] = [];
  private _summary: ConnectionSummary = { state: 'notConfigured', demo: false };
  private configured = false;
  private nodePubkey: string | undefined;
  private readonly _onDidChangeState = this._register(new vscode.EventEmitter<ConnectionSummary>());
  readonly onDidChangeState = this._onDidChangeState.event;
  private readonly _onDidReset = this._register(new vscode.EventEmitter<void>());
  readonly onDidReset = this._onDidReset.event;
  private stopHooks: (() => Promise<void> | void)[] = [];

  /**
   * @param ownContext whether this manager refreshes its simple LndChannelContext on connect
   *   (false when the core channel-context service provides aliases and balances instead)
   */
  constructor(
    private readonly log: Log,
    private readonly macaroons: MacaroonStore,
    settings: HtlcMonitorSettings = readSettings(),
    private readonly ownContext = true,
  ) {
    super();
    this.stats = new StatsEngine({ maxChannels: settings.maxChannels });
    this.windows = this._register(new MemoryWindowSource({ retentionMs: settings.retentionDays * 86_400_000, maxChannels: settings.maxChannels }));
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

  get currentMonitor(): HtlcMonitor | undefined {
    return this.monitor;
  }

  applySettings(settings: HtlcMonitorSettings): void {
    this.windows.configure({ retentionMs: settings.retentionDays * 86_400_000, maxChannels: settings.maxChannels });
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
    await vscode.commands.executeCommand('setContext', 'htlcMonitor.configured', result.ok);
    if (!this.monitor) this.setSummary({ state: result.ok ? 'idle' : 'notConfigured', demo: false });
    return result;
  }

  /**
   * Starts monitoring with the given connection (replacing any running monitor). Resolves once the
   * first attempt settled; the state tells how.
   */
  async start(config: LndConnectionConfig, opts: StartOptions = {}, onStop?: () => Promise<void> | void): Promise<ConnectionSummary> {
    await this.stop();
    if (onStop) this.stopHooks.push(onStop);
    if (config.macaroonHex) this.log.addSecret(config.macaroonHex);
    const label = opts.label ?? config.server;
    this.log.info(`connecting to ${label}${opts.demo ? ' (demo node)' : ''}`);
    const monitor = new HtlcMonitor({ connection: config, stats: this.stats, logger: this.log });
    this.monitor = monitor;
    this.monitorSubs = [
      toVs(monitor.on('state', (s) => this.onMonitorState(monitor, s, label, opts.demo ?? false))),
      toVs(monitor.on('node', (info) => {
        if (this.nodePubkey && this.nodePubkey !== info.identity_pubkey) {
          this.log.info('connected to a different node: statistics reset');
          this.resetStatistics();
        }
        this.nodePubkey = info.identity_pubkey;
        this.log.info(`LND ${info.version} "${info.alias}" ${info.identity_pubkey} at block ${info.block_height}`);
        this.setSummary({ ...this._summary, nodeAlias: info.alias });
      })),
      toVs(monitor.on('changed', (batch) => this.windows.ingest(batch.outcomes))),
    ];
    await monitor.start();
    return this._summary;
  }

  private onMonitorState(monitor: HtlcMonitor, s: StateChange, label: string, demo: boolean): void {
    if (this.monitor !== monitor) return;
    const reason = s.error?.message;
    if (s.state === 'connected') {
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
      nodeAlias: monitor.nodeInfo?.alias,
      target: label,
      demo,
    });
  }

  async stop(): Promise<void> {
    const m = this.monitor;
    if (m) {
      await m.stop();
      for (const d of this.monitorSubs) d.dispose();
      this.monitorSubs = [];
      m.dispose();
      this.monitor = undefined;
      this.context.stopTimer();
    }
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

  resetStatistics(): void {
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
    void vscode.commands.executeCommand('setContext', 'htlcMonitor.connectionState', s.state);
    void vscode.commands.executeCommand('setContext', 'htlcMonitor.monitoring', ['connecting', 'connected', 'reconnecting'].includes(s.state));
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
