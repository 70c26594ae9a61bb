/**
 * Prometheus metrics and a health check for one monitor (prom-client; a registry per monitor, never
 * the global one). Every value is read from the monitor's stats and counters at scrape time, in
 * collect() callbacks: nothing runs per HTLC event.
 *
 * Label cardinality is bounded: per-channel series exist for the `topChannels` channels (default 50)
 * with the most missed fees; every other channel is folded into channel="other". Reasons are LND's
 * failure codes and details (a fixed set).
 *
 * Health (/healthz): healthy = the monitor is connected with the stream (not history-only), and, when
 * `maxSilenceMs` is set, an event or the subscribe happened within it. LND sends nothing on a quiet
 * node, so silence alone does not mean trouble: the gRPC keepalive (a ping every 30 s, 10 s to
 * answer; see LndClient) closes a dead connection within ~40 s, which moves the monitor to
 * 'reconnecting'. "Connected" is therefore fresh to within ~40 s.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as PromClient from 'prom-client';
import type { Disposable } from './emitter';
import type { HtlcMonitor, MonitorState } from './monitor';
import type { ChannelStats } from './stats';

/** What the metrics read from the store (HtlcStore has it). */
export interface MetricsStoreSource {
  readonly sizes: { rawFailures: number; rawSuccesses: number; fileBytes: number; pending: number };
  on(event: 'flushed', listener: (info: { durationMs: number; bytes: number }) => void): Disposable;
  on(event: 'flushError', listener: (err: Error) => void): Disposable;
}

export interface MetricsOptions {
  /** Channels with their own series, by missed fees; the rest are channel="other". Default 50. */
  topChannels?: number;
  /** Alias label for a channel (decimal chan_id); omitted when undefined. */
  aliasOf?: (chanId: string) => string | undefined;
  store?: MetricsStoreSource;
  /** Node.js process metrics (CPU, memory, event loop) in this registry. Default false. */
  processMetrics?: boolean;
  /** /healthz: also unhealthy after this long without an event or subscribe, ms. 0 (default) = no bound. */
  maxSilenceMs?: number;
  /** A prefix for every metric name. Default "htlc_monitor_". */
  prefix?: string;
  now?: () => number;
}

export interface HealthStatus {
  healthy: boolean;
  status: 'ok' | 'unhealthy';
  /** Why not healthy (or "connected"). */
  reason: string;
  state: MonitorState;
  mode: 'stream' | 'history-only';
  /** Seconds since the last event (or the subscribe, when no event came since). */
  lastEventAgeSeconds: number | null;
  connectedForSeconds: number | null;
}

const STATES: readonly MonitorState[] = ['idle', 'connecting', 'connected', 'reconnecting', 'stopped', 'failed'];

export class MonitorMetrics implements Disposable {
  readonly registry: PromClient.Registry;
  private readonly now: () => number;
  private readonly subs: Disposable[] = [];
  private connectedAtMs = 0;
  private flushErrors = 0;

  constructor(private readonly monitor: HtlcMonitor, private readonly opts: MetricsOptions = {}) {
    // prom-client is loaded when metrics are turned on, not when the extension activates (issue 7:
    // its module setup was ~15 ms of activation)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = require('prom-client') as typeof PromClient;
    this.registry = new Registry();
    this.now = opts.now ?? Date.now;
    const p = opts.prefix ?? 'htlc_monitor_';
    const reg = [this.registry];
    const top = Math.max(1, opts.topChannels ?? 50);
    if (monitor.state === 'connected') this.connectedAtMs = this.now();
    this.subs.push(
      monitor.on('state', (s) => {
        if (s.state === 'connected') this.connectedAtMs = this.now();
        else this.connectedAtMs = 0;
      }),
    );

    // ---- per channel (bounded) ----
    const self = this;
    new Counter({
      name: `${p}failures_total`,
      help: 'Failed forwards by outgoing channel (top channels by missed fees, the rest as "other") and reason.',
      labelNames: ['channel', 'alias', 'reason'],
      registers: reg,
      collect() {
        this.reset();
        for (const g of self.channelGroups(top)) {
          for (const [reason, n] of g.reasons) this.inc({ channel: g.channel, alias: g.alias, reason }, n);
        }
      },
    });
    new Counter({
      name: `${p}missed_fees_msat_total`,
      help: 'Fees (msat) of failed forwards by outgoing channel: what the failures cost.',
      labelNames: ['channel', 'alias'],
      registers: reg,
      collect() {
        this.reset();
        for (const g of self.channelGroups(top)) this.inc({ channel: g.channel, alias: g.alias }, Number(g.missedFeesMsat));
      },
    });
    new Counter({
      name: `${p}successes_total`,
      help: 'Settled forwards by outgoing channel (stream and ForwardingHistory).',
      labelNames: ['channel', 'alias'],
      registers: reg,
      collect() {
        this.reset();
        for (const g of self.channelGroups(top)) this.inc({ channel: g.channel, alias: g.alias }, g.successes);
      },
    });

    // ---- node totals ----
    const nodeCounter = (name: string, help: string, read: () => number | bigint) =>
      new Counter({
        name: `${p}${name}`,
        help,
        registers: reg,
        collect() {
          this.reset();
          this.inc(Number(read()));
        },
      });
    const st = monitor.stats;
    nodeCounter('node_failures_total', 'Failed forwards of the node, including failures on the incoming link.', () => st.node.failedForwards);
    nodeCounter('node_incoming_link_failures_total', 'Forwards that failed on their incoming link (no outgoing channel).', () => st.node.incomingLinkFailures);
    nodeCounter('node_successes_total', 'Settled forwards of the node.', () => st.node.successfulForwards);
    nodeCounter('node_missed_fees_msat_total', 'Fees (msat) of all failed forwards.', () => st.node.missedFeesMsat);
    nodeCounter('node_earned_fees_msat_total', 'Fees (msat) earned by settled forwards whose amounts are known.', () => st.node.earnedFeesMsat);

    // ---- monitor counters ----
    const c = () => monitor.counters;
    nodeCounter('events_received_total', 'HTLC events read from the stream.', () => c().received);
    nodeCounter('events_ignored_total', 'Events that are not forward outcomes (sends, receives, subscribed, final, forward_event).', () => c().ignored);
    nodeCounter('events_duplicates_total', 'Replayed events and ForwardingHistory entries counted once already.', () => c().duplicates);
    nodeCounter('events_dropped_total', 'Events dropped because the queue was full.', () => c().dropped);
    nodeCounter('events_malformed_total', 'Events that could not be read.', () => c().malformed);
    nodeCounter('backfilled_total', 'Settled forwards counted from ForwardingHistory.', () => c().backfilled);
    nodeCounter('listener_errors_total', 'Listeners of the monitor that threw.', () => c().listenerErrors);
    nodeCounter('reconnects_total', 'Reconnects to LND.', () => c().reconnects);
    new Gauge({
      name: `${p}queued_events`,
      help: 'Events read but not processed yet.',
      registers: reg,
      collect() {
        this.set(monitor.queued);
      },
    });
    new Gauge({
      name: `${p}tracked_channels`,
      help: 'Channels in the bounded registry.',
      registers: reg,
      collect() {
        this.set(st.channelCount);
      },
    });

    // ---- connection ----
    new Gauge({
      name: `${p}connection_state`,
      help: 'The monitor state: 1 for the current one, 0 for the others.',
      labelNames: ['state'],
      registers: reg,
      collect() {
        for (const s of STATES) this.set({ state: s }, monitor.state === s ? 1 : 0);
      },
    });
    new Gauge({
      name: `${p}history_only`,
      help: '1 when LND refused the HTLC event stream and only ForwardingHistory successes are counted (failures not visible).',
      registers: reg,
      collect() {
        this.set(monitor.mode === 'history-only' ? 1 : 0);
      },
    });
    new Gauge({
      name: `${p}healthy`,
      help: '1 when /healthz answers 200.',
      registers: reg,
      collect() {
        this.set(self.health().healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: `${p}last_event_age_seconds`,
      help: 'Seconds since the last HTLC event was read (or the subscribe, when none came since); -1 before any.',
      registers: reg,
      collect() {
        const age = self.lastEventAgeSeconds();
        this.set(age ?? -1);
      },
    });
    new Gauge({
      name: `${p}node_info`,
      help: 'The LND node monitored (value 1).',
      labelNames: ['pubkey', 'alias', 'version'],
      registers: reg,
      collect() {
        this.reset();
        const n = monitor.nodeInfo;
        if (n) this.set({ pubkey: n.identity_pubkey, alias: n.alias, version: n.version }, 1);
      },
    });

    // ---- store ----
    const store = opts.store;
    if (store) {
      const flushes = new Histogram({
        name: `${p}store_flush_duration_seconds`,
        help: 'Duration of the history file flushes (apply, export, atomic write).',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: reg,
      });
      this.subs.push(
        store.on('flushed', (info) => flushes.observe(info.durationMs / 1000)),
        store.on('flushError', () => void this.flushErrors++),
      );
      nodeCounter('store_flush_errors_total', 'Flushes of the history file that failed (retried at the next interval).', () => this.flushErrors);
      new Gauge({
        name: `${p}store_size_bytes`,
        help: 'Size of the history file at the last flush.',
        registers: reg,
        collect() {
          this.set(store.sizes.fileBytes);
        },
      });
      new Gauge({
        name: `${p}store_rows`,
        help: 'Raw events kept in the history (pending included).',
        labelNames: ['table'],
        registers: reg,
        collect() {
          const s = store.sizes;
          this.set({ table: 'failures' }, s.rawFailures);
          this.set({ table: 'successes' }, s.rawSuccesses);
          this.set({ table: 'pending' }, s.pending);
        },
      });
    }
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /** Scrape output (Prometheus text format). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  lastEventAgeSeconds(): number | null {
    const last = Math.max(this.monitor.lastEventAt, this.connectedAtMs);
    return last > 0 ? Math.max(0, (this.now() - last) / 1000) : null;
  }

  health(): HealthStatus {
    const m = this.monitor;
    const age = this.lastEventAgeSeconds();
    const base = {
      state: m.state,
      mode: m.mode,
      lastEventAgeSeconds: age,
      connectedForSeconds: this.connectedAtMs ? (this.now() - this.connectedAtMs) / 1000 : null,
    };
    const bad = (reason: string): HealthStatus => ({ healthy: false, status: 'unhealthy', reason, ...base });
    if (m.state !== 'connected') {
      const why = m.lastError?.message;
      return bad(`not connected to LND (${m.state})${why ? `: ${why}` : ''}`);
    }
    if (m.mode === 'history-only') {
      return bad(`history-only: the HTLC event stream was refused, failures are not visible (${m.modeReason?.message ?? 'no reason given'})`);
    }
    const max = this.opts.maxSilenceMs ?? 0;
    if (max > 0 && age !== null && age * 1000 > max) return bad(`no HTLC event for ${Math.round(age)} s (bound ${Math.round(max / 1000)} s)`);
    return { healthy: true, status: 'ok', reason: 'connected: the HTLC event stream is open and the gRPC keepalive healthy', ...base };
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
    this.registry.clear();
  }

  /** Top channels by missed fees with their own labels, the rest summed as "other". */
  private channelGroups(top: number): { channel: string; alias: string; reasons: Map<string, number>; missedFeesMsat: bigint; successes: number }[] {
    const st = this.monitor.stats;
    // the heap holds every tracked channel (successes-only ones at priority 0): top() is the cap
    const topSet = new Set(st.top(top).map((c) => c.key));
    const groups: ReturnType<MonitorMetrics['channelGroups']> = [];
    const other = { channel: 'other', alias: '', reasons: new Map<string, number>(), missedFeesMsat: 0n, successes: 0 };
    const all: ChannelStats[] = st.ranked();
    for (const ch of all) {
      if (topSet.has(ch.key)) {
        groups.push({
          channel: ch.scid,
          alias: this.opts.aliasOf?.(ch.key) ?? '',
          reasons: new Map([...ch.failuresByReason].map(([r, s]) => [r, s.count])),
          missedFeesMsat: ch.missedFeesMsat,
          successes: ch.successfulForwards,
        });
        continue;
      }
      for (const [r, s] of ch.failuresByReason) other.reasons.set(r, (other.reasons.get(r) ?? 0) + s.count);
      other.missedFeesMsat += ch.missedFeesMsat;
      other.successes += ch.successfulForwards;
    }
    if (other.successes > 0 || other.reasons.size > 0 || other.missedFeesMsat > 0n) groups.push(other);
    return groups;
  }
}

export interface MetricsServer {
  /** host:port it listens on. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (Prometheus text format) and GET /healthz (200 or 503, JSON with the reason;
 * `?format=text` for one line) on host:port. Anything else is 404. `source` may be a function (the
 * extension swaps monitors): while it returns undefined both answer 503 "not monitoring".
 */
export function serveMetrics(source: MonitorMetrics | (() => MonitorMetrics | undefined), host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const metrics = typeof source === 'function' ? source() : source;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (!metrics && (url.pathname === '/metrics' || url.pathname === '/healthz')) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('unhealthy: not monitoring\n');
      return;
    }
    if (metrics && url.pathname === '/metrics') {
      metrics.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (err) => res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    if (metrics && url.pathname === '/healthz') {
      const h = metrics.health();
      const code = h.healthy ? 200 : 503;
      if (url.searchParams.get('format') === 'text') res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${h.status}: ${h.reason}\n`);
      else res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(h) + '\n');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
        port: a.port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
