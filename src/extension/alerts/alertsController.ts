import * as vscode from 'vscode';
import { Alert, AlertEngine, AlertQueue, AlertRules } from '../../core/alerts';
import type { HtlcMonitor, MonitorMode, MonitorState } from '../../core/monitor';
import { Disposable, Throttle } from '../common/lifecycle';
import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';

/** globalState key of the muted alert keys (channel ids, "stream-down"). */
export const MUTED_KEY = 'htlcMonitor.alerts.muted';
export const SHOW = 'Show';
export const MUTE_CHANNEL = "Don't Show Again for This Channel";
export const MUTE_STREAM = "Don't Show Again";

/** Shows an alert and resolves to the button pressed (vscode.window.showWarningMessage; tests answer instead). */
export type AlertPrompt = (message: string, ...buttons: string[]) => Thenable<string | undefined>;

/** An alert as it was shown, and what it resolved to (tests). */
export interface ShownAlert {
  id: string;
  kind: Alert['kind'];
  channelId?: string;
  message: string;
  choice: string;
}

/** New failures are checked against the thresholds at most this often (and every 15 s anyway). */
export const ALERT_EVALUATE_MS = 1_000;

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
  private readonly evaluateSoon: Throttle;
  private downTimer: NodeJS.Timeout | undefined;
  /** What the last notification resolved to (tests). */
  lastChoice: string | undefined;
  /** Every notification shown, in order (tests). */
  readonly shown: ShownAlert[] = [];
  /** How alerts are shown: a warning notification unless a test answers instead. */
  prompt: AlertPrompt = (message, ...buttons) => vscode.window.showWarningMessage(message, ...buttons);

  constructor(
    private readonly manager: ConnectionManager,
    private readonly globalState: vscode.Memento,
    private readonly log: Log,
    private readonly showAlert: (alert: Alert) => void,
  ) {
    super();
    this.settings = readAlertSettings();
    this.engine = new AlertEngine(this.settings, { muted: globalState.get<string[]>(MUTED_KEY, []) });
    this.evaluateSoon = this._register(new Throttle(ALERT_EVALUATE_MS, () => this.evaluate()));
    this.queue = new AlertQueue(
      (a) => this.notify(a),
      (a) => this.engine.isActive(a.id) && !this.engine.mutedKeys.includes(a.muteKey),
    );
    this._register(manager.onDidChangeState(() => this.onState()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('htlcMonitor.alerts')) return;
      this.settings = readAlertSettings();
      this.engine.setRules(this.settings);
      this.evaluate();
    }));
    const timer = setInterval(() => this.evaluate(), 15_000);
    this._register({ dispose: () => clearInterval(timer) });
    this._register({ dispose: () => clearTimeout(this.downTimer) });
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
          m.on('changed', (b) => {
            this.engine.observe(b.outcomes);
            // a threshold crossed is told within a second, not at the next 15 s tick
            if (b.outcomes.some((o) => o.kind === 'failure')) this.evaluateSoon.schedule();
          }),
          m.on('state', (s) => this.setConnection(s.state, s.mode ?? m.mode, s.error?.message ?? '')),
        ];
        this.setConnection(m.state, m.mode, m.lastError?.message ?? '');
      }
    }
    if (!m) this.setConnection('idle');
    this.evaluate();
  }

  private setConnection(state: MonitorState, mode: MonitorMode = 'stream', why = ''): void {
    this.engine.setConnection(state, mode, why);
    this.evaluate();
    // the stream-down alert is due streamDownMinutes after the stream went down: check then
    // rather than at the next 15 s tick (the engine measures from the first bad state)
    const down = !(state === 'connected' && mode === 'stream') && state !== 'idle' && !(state === 'stopped' && !why);
    if (!down) {
      clearTimeout(this.downTimer);
      this.downTimer = undefined;
    } else if (!this.downTimer && (this.settings.streamDownMs ?? 0) > 0) {
      this.downTimer = setTimeout(() => {
        this.downTimer = undefined;
        this.evaluate();
      }, (this.settings.streamDownMs ?? 0) + 100);
    }
  }

  private detach(): void {
    for (const s of this.monitorSubs) s.dispose();
    this.monitorSubs = [];
    this.attached = undefined;
  }

  private async notify(a: Alert): Promise<void> {
    const mute = a.kind === 'missed-fees' ? MUTE_CHANNEL : MUTE_STREAM;
    const pick = await this.prompt(a.message, SHOW, mute);
    this.lastChoice = pick ?? 'dismissed';
    this.shown.push({ id: a.id, kind: a.kind, channelId: a.channelId, message: a.message, choice: this.lastChoice });
    if (pick === SHOW) this.showAlert(a);
    else if (pick === mute) {
      this.engine.mute(a.muteKey);
      await this.globalState.update(MUTED_KEY, this.engine.mutedKeys);
      this.log.info(`alerts: muted ${a.muteKey}`);
    }
  }
}
