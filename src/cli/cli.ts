import { HtlcMonitor } from '../core/monitor';
import { LndError } from '../core/lnd/errors';
import { LndClient, LndConnectionConfig } from '../core/lnd/client';
import { parseHostPort, readMacaroon, readTlsCert } from '../core/lnd/config';
import { formatLocalIso } from '../core/time';
import { ChannelContextService, LndContextProvider } from '../core/context';
import { HelpRequested, parseCommandArgs, parseDurationSeconds, UsageError } from './args';
import { renderTable } from './table';
import { REPORT_USAGE, reportCommand } from './report';
import { SIM_USAGE, simCommand, TRAFFIC_OPTIONS } from './sim';
import type { Disposable } from '../core/emitter';
import { StatsEngine } from '../core/stats';
import { HtlcStore } from '../core/store/store';
import { EXPORT_USAGE, exportCommand } from './export';
import { DAEMON_FLAGS, DAEMON_USAGE, DaemonOptions, daemonOptionsFrom, startDaemonParts } from './daemon';
import { commandHelp, CommandUsage, CONNECTION_OPTIONS, HELP_OPTION } from './usage';

/** What watch prints and keeps, shared with demo (which watches the simulator). */
const WATCH_OUTPUT_OPTIONS = `  --duration SECONDS  stop after this long (default: until Ctrl-C or SIGTERM)
  --json              print one JSON document with the results at the end (default: a table at the
                      end; in a terminal, redrawn every second)
  --db FILE           keep the history in FILE (SQLite) across runs: restored at start, saved
                      every 15 s and at exit (default: none; read it with report --db and export)`;

const WATCH_USAGE = {
  name: 'watch',
  flags: {
    lnd: { type: 'string' },
    'tls-cert': { type: 'string' },
    macaroon: { type: 'string' },
    'tls-server-name': { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
    db: { type: 'string' },
    ...DAEMON_FLAGS,
  },
  summary: `  watch   --lnd HOST:PORT --tls-cert FILE --macaroon FILE [--duration SECONDS] [--json] [--db FILE]
          [--metrics HOST:PORT] [--alerts-file FILE] [--alert-… N] [--no-backfill]
          Monitor an LND node's forwards until Ctrl-C or the duration (see "Running as a daemon"
          in the README for systemd and Prometheus).`,
  options: `${CONNECTION_OPTIONS}\n${WATCH_OUTPUT_OPTIONS}\n${DAEMON_USAGE}`,
  example: `htlc-monitor watch --lnd 127.0.0.1:10009 --tls-cert ~/.lnd/tls.cert \\
  --macaroon ~/.lnd/data/chain/bitcoin/mainnet/readonly.macaroon --duration 60 --json`,
} satisfies CommandUsage;

const DEMO_USAGE = {
  name: 'demo',
  flags: {
    duration: { type: 'string' },
    rate: { type: 'string' },
    json: { type: 'boolean' },
    seed: { type: 'string' },
    db: { type: 'string' },
    ...DAEMON_FLAGS,
  },
  summary: `  demo    [--duration SECONDS] [--rate EVENTS_PER_SECOND] [--seed N] [--json] [--db FILE]
          Start the built-in LND simulator and watch it (with watch's metrics and alert options too).`,
  options: `${TRAFFIC_OPTIONS}\n${WATCH_OUTPUT_OPTIONS}\n${DAEMON_USAGE}`,
  example: 'htlc-monitor demo --rate 200 --duration 30',
} satisfies CommandUsage;

/** Every command, in the order `htlc-monitor --help` lists them. */
export const COMMANDS: ReadonlyMap<string, CommandUsage> = new Map([WATCH_USAGE, DEMO_USAGE, SIM_USAGE, REPORT_USAGE, EXPORT_USAGE].map((u) => [u.name, u]));
const COMMAND_NAMES = [...COMMANDS.keys()].join(', ');

const USAGE = `Usage: htlc-monitor <command> [options]

Commands:
${[...COMMANDS.values()].map((u) => u.summary).join('\n')}

Run "htlc-monitor <command> --help" for a command's options, with defaults and an example.

Options of watch:
${WATCH_USAGE.options}
${HELP_OPTION}
`;

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
}

interface WatchOptions {
  connection: LndConnectionConfig | (() => LndClient);
  durationSec?: number;
  json: boolean;
  title?: string;
  /** --db: restored into the stats before the monitor starts, records every batch; closed at the end. */
  store?: HtlcStore;
  /** Backfill and fallback, metrics, alerts (watch and demo). */
  daemon?: DaemonOptions;
}

/** The JSON document `watch --json` prints: uint64 values as decimal strings. */
export function resultDocument(monitor: HtlcMonitor, aliasOf: (chanId: string) => string | undefined) {
  const node = monitor.nodeInfo;
  return {
    channels: monitor.stats.failing().map((ch) => ({
      channelId: ch.key,
      scid: ch.scid,
      alias: aliasOf(ch.key) ?? null,
      failedForwards: ch.failedForwards,
      successfulForwards: ch.successfulForwards,
      missedFeesMsat: ch.missedFeesMsat.toString(),
      missedAmountMsat: ch.missedAmountMsat.toString(),
      failuresByReason: Object.fromEntries([...ch.failuresByReason].map(([r, s]) => [r, s.count])),
      missedFeesByReasonMsat: Object.fromEntries([...ch.failuresByReason].map(([r, s]) => [r, s.missedFeesMsat.toString()])),
      firstSeen: formatLocalIso(ch.firstSeenMs),
      lastFailureAt: ch.lastFailureAtMs ? formatLocalIso(ch.lastFailureAtMs) : null,
    })),
    node: {
      pubkey: node?.identity_pubkey ?? null,
      alias: node?.alias ?? null,
      version: node?.version ?? null,
      state: monitor.state,
      lastError: monitor.lastError?.message ?? null,
      /** 'history-only': successes from ForwardingHistory only, failures not visible (modeReason says why). */
      mode: monitor.mode,
      modeReason: monitor.modeReason?.message ?? null,
      ...monitor.stats.node.toJSON(),
    },
    counters: monitor.counters,
  };
}

export async function runWatch(opts: WatchOptions, io: CliIO): Promise<number> {
  const live = !opts.json && Boolean(io.stdout.isTTY);
  let monitor: HtlcMonitor | undefined;
  // Channel context from LND (aliases, alias SCIDs): refreshed on connect and every minute.
  const context = new ChannelContextService({ provider: new LndContextProvider(() => monitor?.lndClient) });
  const stats = new StatsEngine();
  opts.store?.restoreInto(stats);
  monitor = new HtlcMonitor({
    connection: opts.connection,
    stats,
    resolveChannel: (id) => context.resolveBig(id),
    // load the channels before the first event, so alias SCIDs land on their channel
    beforeSubscribe: () => (context.loaded ? context.refresh() : context.start()),
    logger: {
      debug() {},
      info() {},
      warn: (m) => (!live ? io.stderr.write(`htlc-monitor: ${m}\n`) : undefined),
      // a fatal error is printed once, below, when watch ends
      error: () => undefined,
    },
  });
  const storeSub = opts.store?.attach(monitor);
  const aliasOf = (id: string): string | undefined => {
    if (!context.loaded) return undefined;
    const c = context.get(id);
    if (c.status === 'unknown') return '(not a channel of ours)';
    const name = c.alias ?? (c.remotePubkey ? `${c.remotePubkey.slice(0, 12)}…` : undefined);
    return c.status === 'closed' ? `${name ?? ''} (closed)`.trim() : name;
  };
  const parts = opts.daemon ? await startDaemonParts(monitor, opts.daemon, io, { store: opts.store, aliasOf }) : undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  monitor.on('state', (s) => {
    if (s.state === 'failed') resolveDone(1);
  });

  const onSignal = () => resolveDone(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = opts.durationSec ? setTimeout(() => resolveDone(0), opts.durationSec * 1000) : undefined;
  const redraw = live ? setInterval(() => io.stdout.write('\x1b[H\x1b[2J' + renderTable(monitor!, aliasOf) + '\n'), 1000) : undefined;

  await monitor.start();
  const code = await done;
  if (timer) clearTimeout(timer);
  if (redraw) clearInterval(redraw);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await monitor.stop();
  await parts?.close();
  if (opts.store) await closeStore(opts.store, storeSub, monitor, aliasOf, io);
  context.dispose();

  if (code !== 0 && monitor.lastError) {
    io.stderr.write(`htlc-monitor: error: ${monitor.lastError.message}\n`);
    return code;
  }
  if (opts.json) io.stdout.write(JSON.stringify(resultDocument(monitor, aliasOf)) + '\n');
  else io.stdout.write((live ? '\x1b[H\x1b[2J' : '') + renderTable(monitor, aliasOf) + '\n');
  return code;
}

async function openStore(file: string | undefined, io: CliIO): Promise<HtlcStore | undefined> {
  if (!file) return undefined;
  const say = (m: string) => void io.stderr.write(`htlc-monitor: ${m}\n`);
  return HtlcStore.open(file, { logger: { debug() {}, info() {}, warn: say, error: say } });
}

/** --db at exit: remember the aliases, final flush, release the file. */
async function closeStore(store: HtlcStore, sub: Disposable | undefined, monitor: HtlcMonitor, aliasOf: (id: string) => string | undefined, io: CliIO) {
  sub?.dispose();
  store.setAliases(monitor.stats.ranked().flatMap((c): [string, string][] => (aliasOf(c.key) ? [[c.key, aliasOf(c.key)!]] : [])));
  await store.close();
  if (store.lastFlushError) io.stderr.write(`htlc-monitor: history not saved to ${store.file}: ${store.lastFlushError.message}\n`);
}

/** Checks the connection flags up front so each bad one fails fast with its own message. */
function connectionFromFlags(values: Record<string, string | boolean | undefined>): LndConnectionConfig {
  const server = values['lnd'] as string | undefined;
  const cert = values['tls-cert'] as string | undefined;
  const mac = values['macaroon'] as string | undefined;
  if (!server) throw new UsageError('watch: --lnd HOST:PORT is required');
  if (!cert) throw new UsageError('watch: --tls-cert FILE is required');
  if (!mac) throw new UsageError('watch: --macaroon FILE is required');
  parseHostPort(server);
  readTlsCert(cert);
  readMacaroon({ path: mac });
  return {
    server,
    tlsCertPath: cert,
    macaroonPath: mac,
    tlsServerName: values['tls-server-name'] as string | undefined,
  };
}

async function demo(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(DEMO_USAGE, argv);
  const daemon = daemonOptionsFrom(values);
  const rate = values.rate === undefined ? 40 : Number(values.rate);
  if (!Number.isFinite(rate) || rate < 0) throw new UsageError(`demo: --rate must be a number of events per second, got "${values.rate}"`);
  const { LndSimulator } = await import('../core/sim');
  const sim = await LndSimulator.start({ seed: values.seed ? Number(values.seed) : Date.now() % 100000, eventsPerSecond: rate });
  if (!values.json) io.stderr.write(`htlc-monitor: simulator listening on ${sim.address}\n`);
  let store: HtlcStore | undefined;
  try {
    store = await openStore(values.db, io);
    return await runWatch(
      {
        connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
        durationSec: parseDurationSeconds(values.duration, '--duration'),
        json: Boolean(values.json),
        store,
        daemon,
      },
      io,
    );
  } finally {
    await store?.close();
    await sim.stop();
  }
}

async function watch(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(WATCH_USAGE, argv);
  const durationSec = parseDurationSeconds(values.duration, '--duration');
  const connection = connectionFromFlags(values);
  const daemon = daemonOptionsFrom(values);
  const store = await openStore(values.db, io);
  try {
    return await runWatch({ connection, durationSec, json: Boolean(values.json), store, daemon }, io);
  } finally {
    await store?.close();
  }
}

export async function main(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'watch':
        return await watch(rest, io);
      case 'demo':
        return await demo(rest, io);
      case 'report':
        return await reportCommand(rest, io);
      case 'sim':
        return await simCommand(rest, io);
      case 'export':
        return await exportCommand(rest, io);
      case 'help': {
        const about = rest[0] === undefined ? undefined : COMMANDS.get(rest[0]);
        if (rest[0] !== undefined && !about) throw new UsageError(`unknown command "${rest[0]}" (try: ${COMMAND_NAMES})`);
        io.stdout.write(about ? commandHelp(about) : USAGE);
        return 0;
      }
      case undefined:
      case '-h':
      case '--help':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}" (try: ${COMMAND_NAMES})`);
    }
  } catch (err) {
    const usage = command === undefined ? undefined : COMMANDS.get(command);
    if (err instanceof HelpRequested && usage) {
      io.stdout.write(commandHelp(usage));
      return 0;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`htlc-monitor: ${err.message}\nRun "htlc-monitor${usage ? ` ${usage.name}` : ''} --help" for usage.\n`);
      return 2;
    }
    if (err instanceof LndError) {
      io.stderr.write(`htlc-monitor: error: ${err.message}\n`);
      return err.kind === 'config' ? 2 : 1;
    }
    io.stderr.write(`htlc-monitor: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/**
 * Resolves once what was written to `stream` so far has been handed to the OS (or cannot be: the
 * reader is gone). An empty write is queued behind the pending ones, so its callback runs after
 * theirs.
 */
function flushed(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => void stream.write('', () => resolve()));
}

if (require.main === module) {
  // grpc-js passes an IP address as the TLS server name, which Node flags as deprecated (DEP0123);
  // the certificate is still verified against that IP. Keep the CLI's stderr to our own messages.
  process.noDeprecation = true;
  // A reader that went away (`… | head`) is not a failure of the command: the rest of the output
  // has nowhere to go. Any other write error is one, and is said so.
  let outputFailed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || outputFailed) return;
    outputFailed = true;
    process.stderr.write(`htlc-monitor: error: cannot write the output: ${err.message}\n`);
  });
  process.stderr.on('error', () => undefined);
  // Node writes to a pipe asynchronously: process.exit() right after a large write drops what the
  // pipe has not taken yet (`watch --json | jq` got a cut document). So the process ends only once
  // stdout and stderr are flushed; it still ends explicitly, so that a handle left open (a gRPC
  // channel, a timer) cannot keep a finished command alive.
  const end = async (code: number) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(outputFailed && code === 0 ? 1 : code);
  };
  main(process.argv.slice(2)).then(end, (err) => {
    process.stderr.write(`htlc-monitor: ${String(err)}\n`);
    return end(1);
  });
}
