/**
 * What `watch` adds for running as a daemon: the ForwardingHistory backfill and fallback, the
 * /metrics + /healthz server, and alerts as JSON lines (stderr or --alerts-file).
 */
import * as fs from 'node:fs';
import { AlertEngine, AlertRules, alertJsonLine } from '../core/alerts';
import { HistoryBackfill } from '../core/backfill';
import type { Disposable } from '../core/emitter';
import { MetricsServer, MonitorMetrics, serveMetrics } from '../core/metrics';
import type { HtlcMonitor } from '../core/monitor';
import type { HtlcStore } from '../core/store/store';
import { UsageError } from './args';

export const DAEMON_FLAGS = {
  metrics: { type: 'string' },
  'alerts-file': { type: 'string' },
  'alert-missed-fees': { type: 'string' },
  'alert-window': { type: 'string' },
  'alert-stream-down': { type: 'string' },
  'no-backfill': { type: 'boolean' },
  'history-poll': { type: 'string' },
} as const;

export const DAEMON_USAGE = `  --metrics HOST:PORT serve Prometheus /metrics and /healthz there, e.g. 127.0.0.1:9464 (default: off)
  --alerts-file FILE  append alerts as JSON lines to FILE (default: stderr)
  --alert-missed-fees SAT   alert when one channel misses more than SAT sat of fees in the
                      alert window (default 1000; 0 = off)
  --alert-window SECONDS    the window of --alert-missed-fees (default 3600)
  --alert-stream-down SECONDS  alert when the HTLC stream is down this long (default 600; 0 = off)
  --no-backfill       do not count settles missed while disconnected from ForwardingHistory, and
                      do not fall back to it when LND refuses the HTLC stream
  --history-poll SECONDS  when LND refuses the HTLC stream, poll ForwardingHistory this often
                      (default 30)`;

export interface DaemonOptions {
  metrics?: { host: string; port: number };
  alerts: AlertRules;
  alertsFile?: string;
  backfill: boolean;
  historyPollMs?: number;
}

function num(text: string | undefined, flag: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag} must be a number >= ${min}, got "${text}"`);
  return n;
}

/** host:port with port 0..65535 (0 = any free port), IPv6 in brackets. */
export function parseListen(text: string, flag: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${flag} must be HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464, got "${text}"`);
  return { host: m[1], port };
}

export function daemonOptionsFrom(values: Record<string, string | boolean | undefined>): DaemonOptions {
  const window = num(values['alert-window'] as string | undefined, '--alert-window', 60);
  const down = num(values['alert-stream-down'] as string | undefined, '--alert-stream-down');
  return {
    metrics: values.metrics ? parseListen(values.metrics as string, '--metrics') : undefined,
    alertsFile: values['alerts-file'] as string | undefined,
    alerts: {
      missedFeesSat: num(values['alert-missed-fees'] as string | undefined, '--alert-missed-fees'),
      missedFeesWindowMs: window === undefined ? undefined : window * 1000,
      streamDownMs: down === undefined ? undefined : down * 1000,
    },
    backfill: !values['no-backfill'],
    historyPollMs: ((n) => (n === undefined ? undefined : n * 1000))(num(values['history-poll'] as string | undefined, '--history-poll', 0.1)),
  };
}

export interface DaemonParts {
  readonly backfill?: HistoryBackfill;
  readonly metrics?: MonitorMetrics;
  readonly server?: MetricsServer;
  readonly alerts: AlertEngine;
  close(): Promise<void>;
}

interface Io {
  stderr: NodeJS.WritableStream;
}

/**
 * Wires the parts to a monitor that has not started yet (the fallback must be armed before the
 * first subscribe). `say` prints a line for the operator.
 */
export async function startDaemonParts(
  monitor: HtlcMonitor,
  opts: DaemonOptions,
  io: Io,
  extra: { store?: HtlcStore; aliasOf?: (chanId: string) => string | undefined; now?: () => number; evaluateEveryMs?: number } = {},
): Promise<DaemonParts> {
  const now = extra.now ?? Date.now;
  const subs: Disposable[] = [];
  const say = (m: string) => void io.stderr.write(`htlc-monitor: ${m}\n`);

  const backfill = opts.backfill ? new HistoryBackfill(monitor, { store: extra.store, pollMs: opts.historyPollMs, logger: { debug() {}, info() {}, warn: say, error: say } }) : undefined;
  subs.push(
    monitor.on('state', (s) => {
      if (s.state === 'connected' && s.mode === 'history-only') {
        say(`LND refused the HTLC event stream: ${s.error?.message ?? ''}`);
        say(`HISTORY-ONLY: counting successes from ForwardingHistory every ${(opts.historyPollMs ?? 30_000) / 1000} s. Failed forwards are NOT visible (LND does not store them).`);
      }
    }),
  );

  // alerts: JSON lines, raised and cleared
  const alerts = new AlertEngine(opts.alerts, { now });
  const out = opts.alertsFile ? fs.createWriteStream(opts.alertsFile, { flags: 'a', mode: 0o600 }) : io.stderr;
  if (opts.alertsFile) await new Promise<void>((resolve, reject) => (out as fs.WriteStream).once('open', () => resolve()).once('error', reject));
  let lastEvaluated = 0;
  let trailing: NodeJS.Timeout | undefined;
  const evaluate = () => {
    lastEvaluated = now();
    const { raised, cleared } = alerts.evaluate();
    for (const a of raised) out.write(alertJsonLine('raised', a, now()) + '\n');
    for (const id of cleared) out.write(alertJsonLine('cleared', { id }, now()) + '\n');
  };
  alerts.setConnection(monitor.state, monitor.mode);
  subs.push(
    monitor.on('changed', (b) => {
      alerts.observe(b.outcomes);
      // at most once a second, and once after the last batch
      if (!trailing) {
        trailing = setTimeout(() => {
          trailing = undefined;
          evaluate();
        }, Math.max(0, 1000 - (now() - lastEvaluated)));
        trailing.unref?.();
      }
    }),
    monitor.on('state', (s) => {
      alerts.setConnection(s.state, s.mode ?? monitor.mode, s.error?.message ?? '');
      evaluate();
    }),
  );
  const timer = setInterval(evaluate, extra.evaluateEveryMs ?? 5_000);
  timer.unref?.();

  let metrics: MonitorMetrics | undefined;
  let server: MetricsServer | undefined;
  if (opts.metrics) {
    metrics = new MonitorMetrics(monitor, { store: extra.store, aliasOf: extra.aliasOf, processMetrics: true });
    try {
      server = await serveMetrics(metrics, opts.metrics.host, opts.metrics.port);
    } catch (err) {
      throw new UsageError(`--metrics: cannot listen on ${opts.metrics.host}:${opts.metrics.port}: ${(err as Error).message}`);
    }
    say(`metrics on http://${server.address}/metrics, health on http://${server.address}/healthz`);
  }

  return {
    backfill,
    metrics,
    server,
    alerts,
    async close() {
      clearInterval(timer);
      if (trailing) clearTimeout(trailing);
      evaluate();
      for (const s of subs) s.dispose();
      backfill?.dispose();
      await server?.close();
      metrics?.dispose();
      if (opts.alertsFile) await new Promise<void>((r) => (out as fs.WriteStream).end(() => r()));
    },
  };
}
