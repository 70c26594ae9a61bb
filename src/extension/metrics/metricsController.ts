import * as vscode from 'vscode';
import { MetricsServer, MonitorMetrics, serveMetrics } from '../../core/metrics';
import type { HtlcMonitor } from '../../core/monitor';
import { Disposable } from '../common/lifecycle';
import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';

/** Always loopback: the extension never exposes metrics to the network. */
export const METRICS_HOST = '127.0.0.1';

export function readMetricsSettings(cfg = vscode.workspace.getConfiguration('htlcMonitor.metrics')): { enabled: boolean; port: number } {
  const port = cfg.get<unknown>('port');
  return { enabled: cfg.get<unknown>('enabled') === true, port: typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : 9464 };
}

/**
 * `htlcMonitor.metrics.enabled`: serves /metrics and /healthz of the current monitor on
 * 127.0.0.1:`htlcMonitor.metrics.port` (one registry per monitor, swapped when monitoring restarts).
 */
export class MetricsController extends Disposable {
  private server: MetricsServer | undefined;
  private metrics: MonitorMetrics | undefined;
  private forMonitor: HtlcMonitor | undefined;
  private serving: Promise<void> = Promise.resolve();

  constructor(private readonly manager: ConnectionManager, private readonly log: Log) {
    super();
    this._register(manager.onDidChangeState(() => this.sync()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('htlcMonitor.metrics')) this.restart();
    }));
    this._register({ dispose: () => void this.close() });
    this.restart();
  }

  get address(): string | undefined {
    return this.server?.address;
  }

  /** Resolves when the server is (re)started or stopped as the settings say (tests). */
  ready(): Promise<void> {
    return this.serving;
  }

  private current(): MonitorMetrics | undefined {
    this.sync();
    return this.metrics;
  }

  private sync(): void {
    const m = this.manager.currentMonitor;
    if (m === this.forMonitor) return;
    this.metrics?.dispose();
    this.forMonitor = m;
    this.metrics = m ? new MonitorMetrics(m, { aliasOf: (id) => this.manager.channelContext?.get(id).alias ?? undefined }) : undefined;
  }

  private restart(): void {
    const { enabled, port } = readMetricsSettings();
    this.serving = this.serving.then(async () => {
      await this.close();
      if (!enabled || this.isDisposed) return;
      try {
        this.server = await serveMetrics(() => this.current(), METRICS_HOST, port);
        this.log.info(`metrics on http://${this.server.address}/metrics and /healthz`);
      } catch (err) {
        this.log.error(`metrics: cannot listen on ${METRICS_HOST}:${port}: ${(err as Error).message}`);
        void vscode.window.showWarningMessage(`HTLC Monitor: cannot serve metrics on ${METRICS_HOST}:${port} (${(err as Error).message}). Change htlcMonitor.metrics.port.`);
      }
    });
  }

  private async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }

  override dispose(): void {
    super.dispose();
    this.metrics?.dispose();
    this.metrics = undefined;
  }
}
