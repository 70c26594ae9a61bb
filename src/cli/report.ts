import { actionableView, analyzeOpportunities, ContextLookup, MemoryWindowSource, OpportunityReport, parseWindow, reportToJson, StoreWindowSource, WindowKey } from '../core/analysis';
import { ChannelContextService, LndContextProvider, LndManageJProvider } from '../core/context';
import { unknownChannel } from '../core/context/types';
import { formatScid } from '../core/scid';
import { HtlcStore, StoreOpenError } from '../core/store/store';
import { formatSat } from '../core/format';
import { LndClient, LndConnectionConfig } from '../core/lnd/client';
import { parseHostPort, readMacaroon, readTlsCert } from '../core/lnd/config';
import { HtlcMonitor } from '../core/monitor';
import { formatLocalIso } from '../core/time';
import { parseCommandArgs, parseDurationSeconds, UsageError } from './args';
import { CommandUsage, CONNECTION_OPTIONS } from './usage';

export const REPORT_USAGE = {
  name: 'report',
  flags: {
    lnd: { type: 'string' },
    'tls-cert': { type: 'string' },
    macaroon: { type: 'string' },
    'tls-server-name': { type: 'string' },
    db: { type: 'string' },
    window: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    all: { type: 'boolean' },
    duration: { type: 'string' },
    'min-failures': { type: 'string' },
    'min-hours': { type: 'string' },
    'lnd-managej': { type: 'string' },
  },
  summary: `  report  --lnd HOST:PORT --tls-cert FILE --macaroon FILE [--window 1h|24h|7d|30d|all]
          [--duration SECONDS] [--json|--csv] [--all] [--min-failures N] [--min-hours H]
          [--lnd-managej URL]
          Watch failed forwards for --duration (default 60 s; LND keeps no failure history), then
          rank channels by missed fees with recommendations and their evidence.
  report  --db FILE [--lnd HOST:PORT --tls-cert FILE --macaroon FILE] [--window …] [--json|--csv] [--all] …
          The same report from the history kept by watch/demo --db (opened read-only). Channel
          context (balances, fees: what recommendations need) comes from LND when its flags are given.`,
  options: `  --db FILE           report from the history kept by watch/demo --db instead of watching; the
                      LND flags are then optional (without them there is no advice: it needs
                      balances and fees)
${CONNECTION_OPTIONS}
  --window W          1h, 24h, 7d, 30d or all: the window ranked and advised on (default 24h)
  --duration SECONDS  without --db: how long to watch before reporting (default 60; Ctrl-C reports
                      early)
  --json              print one JSON document, uint64 values as decimal strings (default: text)
  --csv               print one CSV line per channel (default: text)
  --all               every channel that had forwards (default: only the channels with actionable
                      advice and missed fees in the window)
  --min-failures N    failures a channel needs in the window before it gets advice (default 3)
  --min-hours H       hours of the window observed before any advice (default 1)
  --lnd-managej URL   also read channel context from lnd-manageJ's REST API, e.g.
                      http://127.0.0.1:8081 (default: LND only)`,
  example: `htlc-monitor report --db /var/lib/htlc-monitor/history.sqlite --window 7d \\
  --lnd 127.0.0.1:10009 --tls-cert ~/.lnd/tls.cert \\
  --macaroon ~/.lnd/data/chain/bitcoin/mainnet/readonly.macaroon`,
} satisfies CommandUsage;

export interface ReportIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export interface ReportDeps {
  /** A ready client instead of the flags (tests, demo). */
  connection?: LndConnectionConfig;
  /**
   * Called once the monitor is connected and the context loaded (tests inject events here, and
   * watch the monitor count them before they end the report with SIGINT, as Ctrl-C does).
   */
  onReady?: (monitor: HtlcMonitor) => void;
}

/** `htlc-monitor report …`: returns the exit code. */
export async function reportCommand(argv: string[], io: ReportIO, deps: ReportDeps = {}): Promise<number> {
  const { values } = parseCommandArgs(REPORT_USAGE, argv);
  if (values.json && values.csv) throw new UsageError('report: choose one of --json and --csv');
  let window: WindowKey;
  try {
    window = parseWindow(values.window ?? '24h');
  } catch (err) {
    throw new UsageError(`report: --${(err as Error).message}`);
  }
  const durationSec = parseDurationSeconds(values.duration, '--duration') ?? 60;
  const minFailures = values['min-failures'] === undefined ? undefined : Number(values['min-failures']);
  if (minFailures !== undefined && (!Number.isInteger(minFailures) || minFailures < 1))
    throw new UsageError(`report: --min-failures must be a whole number ≥ 1, got "${values['min-failures']}"`);
  const minHours = values['min-hours'] === undefined ? undefined : Number(values['min-hours']);
  if (minHours !== undefined && (!Number.isFinite(minHours) || minHours <= 0))
    throw new UsageError(`report: --min-hours must be a positive number of hours, got "${values['min-hours']}"`);
  let lmj: LndManageJProvider | undefined;
  if (values['lnd-managej'] !== undefined) {
    try {
      lmj = new LndManageJProvider({ baseUrl: values['lnd-managej'] });
    } catch (err) {
      throw new UsageError(`report: --lnd-managej: ${(err as Error).message}`);
    }
  }
  if (values.db !== undefined) {
    if (values.duration !== undefined) throw new UsageError('report: --duration watches live; with --db the report reads the stored history (drop one of them)');
    const withLnd = deps.connection !== undefined || ['lnd', 'tls-cert', 'macaroon'].some((k) => values[k as keyof typeof values] !== undefined);
    return reportFromHistory(values.db, withLnd ? (deps.connection ?? connectionFromFlags(values)) : undefined, lmj, io, {
      window,
      minFailures,
      minHours,
      all: Boolean(values.all),
      json: Boolean(values.json),
      csv: Boolean(values.csv),
    });
  }
  const connection = deps.connection ?? connectionFromFlags(values);

  const client = LndClient.create(connection);
  const ctx = new ChannelContextService({ provider: new LndContextProvider(client), enrich: lmj, refreshMs: 60_000 });
  const monitor = new HtlcMonitor({
    connection,
    logger: { debug() {}, info() {}, warn: (m) => io.stderr.write(`htlc-monitor: ${m}\n`), error: (m) => io.stderr.write(`htlc-monitor: ${m}\n`) },
  });
  try {
    await ctx.refresh(); // errors (bad cert, macaroon, unreachable) surface here as LndError
    const ws = new MemoryWindowSource({ context: ctx });
    ws.attach(monitor);
    await ctx.start();
    let finish!: (code: number) => void;
    const done = new Promise<number>((r) => (finish = r));
    monitor.on('state', (s) => {
      if (s.state === 'failed') finish(1);
      if (s.state === 'connected') deps.onReady?.(monitor);
    });
    const quiet = values.json || values.csv;
    if (!quiet) io.stderr.write(`htlc-monitor: watching forwards for ${durationSec} s (LND keeps no record of failures; Ctrl-C to report early)…\n`);
    const onSignal = () => finish(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const timer = setTimeout(() => finish(0), durationSec * 1000);
    await monitor.start();
    const code = await done;
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await monitor.stop();
    if (code !== 0) {
      io.stderr.write(`htlc-monitor: error: ${monitor.lastError?.message ?? 'monitoring failed'}\n`);
      return code;
    }
    await ctx.refresh().catch(() => undefined); // "now" numbers as of the report
    const full = analyzeOpportunities(ws, ctx, { window, minFailures, minObservedHours: minHours });
    const report = values.all ? full : actionableView(full);
    if (values.json) io.stdout.write(JSON.stringify(reportToJson(report)) + '\n');
    else if (values.csv) io.stdout.write(renderReportCsv(report));
    else io.stdout.write(renderReportText(report, full));
    return 0;
  } finally {
    ctx.dispose();
    client.close();
  }
}

interface ReportFormat {
  window: WindowKey;
  minFailures: number | undefined;
  minHours: number | undefined;
  all: boolean;
  json: boolean;
  csv: boolean;
}

/**
 * `report --db FILE`: the analysis over the stored history (read-only: never written, moved or
 * locked, so it can run beside a watch that writes the file). With LND flags the channel context
 * comes from LND; without, channels are named from the aliases the store kept and get no advice
 * (recommendations need balances and fees).
 */
async function reportFromHistory(file: string, connection: LndConnectionConfig | undefined, lmj: LndManageJProvider | undefined, io: ReportIO, f: ReportFormat): Promise<number> {
  let store: HtlcStore;
  try {
    store = await HtlcStore.open(file, { readOnly: true, flushIntervalMs: 0 });
  } catch (err) {
    if (err instanceof StoreOpenError) {
      io.stderr.write(`htlc-monitor: error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const client = connection ? LndClient.create(connection) : undefined;
  const ctx = client ? new ChannelContextService({ provider: new LndContextProvider(client), enrich: lmj, refreshMs: 0 }) : undefined;
  try {
    let context: ContextLookup;
    if (ctx) {
      await ctx.refresh(); // errors (bad cert, macaroon, unreachable) surface here as LndError
      context = ctx;
    } else {
      if (!f.json && !f.csv) io.stderr.write('htlc-monitor: reporting from the stored history alone: without --lnd (channel balances and fees) there is no advice\n');
      const nowMs = Date.now();
      context = {
        get: (id) => ({ ...unknownChannel(id, formatScid(id), nowMs), alias: store.alias(BigInt(id)) ?? null }),
        open: () => [],
      };
    }
    const source = new StoreWindowSource(store, { context: ctx });
    const full = analyzeOpportunities(source, context, { window: f.window, minFailures: f.minFailures, minObservedHours: f.minHours });
    const report = f.all ? full : actionableView(full);
    const text = f.json ? JSON.stringify(reportToJson(report)) + '\n' : f.csv ? renderReportCsv(report) : renderReportText(report, full);
    io.stdout.write(text);
    return 0;
  } finally {
    ctx?.dispose();
    client?.close();
    await store.close();
  }
}

function connectionFromFlags(values: Record<string, string | boolean | undefined>): LndConnectionConfig {
  const server = values['lnd'] as string | undefined;
  const cert = values['tls-cert'] as string | undefined;
  const mac = values['macaroon'] as string | undefined;
  if (!server) throw new UsageError('report: --lnd HOST:PORT is required');
  if (!cert) throw new UsageError('report: --tls-cert FILE is required');
  if (!mac) throw new UsageError('report: --macaroon FILE is required');
  parseHostPort(server);
  readTlsCert(cert);
  readMacaroon({ path: mac });
  return { server, tlsCertPath: cert, macaroonPath: mac, tlsServerName: values['tls-server-name'] as string | undefined };
}

/** Aliases are attacker-controlled: no control characters (terminal escapes) and a bounded length. */
export function terminalSafe(text: string | null, max = 32): string {
  if (text === null) return '';
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export function renderReportText(report: OpportunityReport, full: OpportunityReport = report): string {
  const w = report.window;
  const lines: string[] = [];
  const cov = report.coverage;
  lines.push(
    `Opportunities, window ${w} (${(cov.observedMs / 3600_000).toFixed(2)} h observed, from ${formatLocalIso(cov.fromMs)})` +
      ` · minimum for advice: ${report.minimums.failures} failures and ${report.minimums.observedHours} h · view: ${report.view}`,
  );
  lines.push(report.summary.message);
  lines.push(`Missed fees in the window: ${formatSat(report.summary.missedFeesMsat)} sat on ${report.summary.channelsWithFailures} channel(s).`);
  lines.push('');
  report.recommendations.forEach((r, i) => {
    const alias = terminalSafe(r.alias);
    lines.push(`${i + 1}. [urgency ${r.urgency.score}] ${r.scid}${alias ? ` (${alias})` : ''} — ${r.kind}`);
    lines.push(`   ${r.action}`);
    const g = r.expectedGain;
    lines.push(`   expected gain: ≈${g.sat30d} sat / 30 days (${g.lowSat30d}–${g.highSat30d}, ${g.confidence} confidence; ${g.basis})`);
    lines.push(`   urgency: ${r.urgency.parts.map((p) => `${p.name} ${p.points}/${p.max}`).join(' + ')} = ${r.urgency.score}`);
    for (const e of r.evidence) lines.push(`   · ${e.label}: ${String(e.value)} [${e.window}, ${e.basis}]`);
    lines.push('');
  });
  const shown = report.channels;
  if (shown.length) {
    lines.push('Channels:');
    lines.push(row(['channel', 'alias', 'status', 'fails', 'ok', 'success', 'missed sat', 'liq', 'fee', 'pol', 'peer', 'down', 'other']));
    for (const c of shown) {
      const m = c.windows[w];
      lines.push(
        row([
          c.scid,
          terminalSafe(c.alias, 20),
          c.status,
          String(m.failures),
          String(m.successes),
          m.successRate === null ? '–' : `${(m.successRate * 100).toFixed(0)} %`,
          formatSat(m.missedFeesMsat),
          ...(['liquidity', 'fee', 'policy', 'peer', 'downstream', 'other'] as const).map((k) => String(m.byCategory[k].count)),
        ]),
      );
      for (const n of c.notes) lines.push(`    note: ${n}`);
    }
    lines.push('');
  }
  if (report.view === 'actionable' && full.channels.length > shown.length)
    lines.push(`(${full.channels.length - shown.length} channel(s) without actionable, fee-bearing advice hidden; --all shows them.)`, '');
  if (report.routePairs.length) {
    lines.push('Route pairs that fail most (incoming → outgoing):');
    for (const p of report.routePairs.slice(0, 10))
      lines.push(`  ${p.incomingScid} → ${p.outgoingScid}: ${p.failures} failures, ${formatSat(p.missedFeesMsat)} sat missed, mostly ${p.topReason ?? '–'}`);
  }
  return lines.join('\n') + '\n';
}

function row(cells: string[]): string {
  const widths = [16, 20, 8, 6, 6, 8, 11, 4, 4, 4, 4, 5, 5];
  return '  ' + cells.map((c, i) => c.padEnd(widths[i] ?? 6)).join(' ');
}

/** CSV: one line per channel; formula-looking cells are neutralised (aliases are attacker-controlled). */
export function renderReportCsv(report: OpportunityReport): string {
  const w = report.window;
  const head = [
    'window', 'channel_id', 'scid', 'alias', 'status', 'failures', 'successes', 'success_rate', 'missed_fees_msat', 'missed_amount_msat',
    'liquidity', 'fee', 'policy', 'peer', 'downstream', 'other', 'urgency', 'recommendations', 'expected_gain_sat_30d', 'actions',
  ];
  const out = [head.join(',')];
  for (const c of report.channels) {
    const m = c.windows[w];
    out.push(
      [
        w, c.chanId, c.scid, c.alias ?? '', c.status, m.failures, m.successes, m.successRate === null ? '' : m.successRate.toFixed(4),
        m.missedFeesMsat, m.missedAmountMsat, m.byCategory.liquidity.count, m.byCategory.fee.count, m.byCategory.policy.count,
        m.byCategory.peer.count, m.byCategory.downstream.count, m.byCategory.other.count, c.urgency,
        c.recommendations.map((r) => r.kind).join(' '), c.recommendations.reduce((s, r) => s + r.expectedGain.sat30d, 0n),
        c.recommendations.map((r) => r.action).join(' | '),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return out.join('\n') + '\n';
}

function csvCell(v: string | number | bigint): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
