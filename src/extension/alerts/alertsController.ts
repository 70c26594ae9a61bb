import * as vscode from 'vscode';
import { Alert, AlertEngine, AlertQueue, AlertRules } from '../../core/alerts';
import type { HtlcMonitor } from '../../core/monitor';
import { Disposable } from '../common/lifecycle';
import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';

/** globalState key of the muted alert keys (channel ids, "stream-down"). */
export const MUTED_KEY = 'htlcMonitor.alerts.muted';
export const SHOW = 'Show';
export const MUTE_CHANNEL = "Don't Show Again for This Channel";
export const MUTE_STREAM = "Don't Show Again";

export interface AlertSettings extends AlertRules {
  enabled: boolean;
}

/** `htlcMonitor.alerts.*`: enabled, missedFeesSat, windowMinutes, streamDownMinutes. */
export function readAlertSettings(cfg = vscode.workspace.getConfiguration('htlcMonitor.alerts')): AlertSettings {
  const n = (k: string, d: number, min: number) => {
    const v = cfg.get<unknown>(k);
    return typeof v === 'number' && Number.isFinite(v) ? Math.max(min, v) : d;
  };
  return {
    enabled: cfg.get<unknown>('enabled') !== false,
    missedFeesSat: n('missedFeesSat', 1000, 0),
    missedFeesWindowMs: n('windowMinutes', 60, 1) * 60_000,
    streamDownMs: n('streamDownMinutes', 10, 0) * 60_000,
  };
}

/**
 * Threshold alerts as VS Code notifications, one at a time (AlertQueue), with "Show" and "Don't
 * Show Again for This Channel" (kept in globalState). The conditions are src/core/alerts.
 */
export class AlertsController extends Disposable {
  readonly engine: AlertEngine;
  private readonly queue: AlertQueue;
  private settings: AlertSettings;
  private attached: HtlcMonitor | undefined;
  private monitorSubs: { dispose(): void }[] = [];
  /** What the last notification resolved to (tests). */
  lastChoice: string | undefined;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly globalState: vscode.Memento,
    private readonly log: Log,
    private readonly showAlert: (alert: Alert) => void,
  ) {
    super();
    this.settings = readAlertSettings();
    this.engine = new AlertEngine(this.settings, { muted: globalState.get<string[]>(MUTED_KEY, []) });
    this.queue = new AlertQueue(
      (a) => this.notify(a),
      (a) => this.engine.isActive(a.id) && !this.engine.mutedKeys.includes(a.muteKey),
    );
    this._register(manager.onDidChangeState(() => this.onState()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('htlcMonitor.alerts')) return;
      this.settings = readAlertSettings();
      this.engine.setRules(this.settings);
    }));
    const timer = setInterval(() => this.evaluate(), 15_000);
    this._register({ dispose: () => clearInterval(timer) });
    this._register({ dispose: () => this.detach() });
    this.onState();
  }

  /** Checks the conditions now and queues the alerts that start to hold. */
  evaluate(): void {
    if (!this.settings.enabled) return;
    const { raised } = this.engine.evaluate();
    for (const a of raised) this.log.warn(`alert: ${a.message}`);
    this.queue.push(raised);
  }

  private onState(): void {
    const m = this.manager.currentMonitor;
    if (m !== this.attached) {
      this.detach();
      this.attached = m;
      if (m) {
        this.monitorSubs = [
          m.on('changed', (b) => this.engine.observe(b.outcomes)),
          m.on('state', (s) => {
            this.engine.setConnection(s.state, s.mode ?? m.mode, s.error?.message ?? '');
            this.evaluate();
          }),
        ];
        this.engine.setConnection(m.state, m.mode, m.lastError?.message ?? '');
      }
    }
    if (!m) this.engine.setConnection('idle');
    this.evaluate();
  }

  private detach(): void {
    for (const s of this.monitorSubs) s.dispose();
    this.monitorSubs = [];
    this.attached = undefined;
  }

  private async notify(a: Alert): Promise<void> {
    const mute = a.kind === 'missed-fees' ? MUTE_CHANNEL : MUTE_STREAM;
    const pick = await vscode.window.showWarningMessage(a.message, SHOW, mute);
    this.lastChoice = pick ?? 'dismissed';
    if (pick === SHOW) this.showAlert(a);
    else if (pick === mute) {
      this.engine.mute(a.muteKey);
      await this.globalState.update(MUTED_KEY, this.engine.mutedKeys);
      this.log.info(`alerts: muted ${a.muteKey}`);
    }
  }
}
