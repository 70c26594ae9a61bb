import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, UsageError } from './args';
import type { CliIO } from './cli';
import type { CommandUsage } from './usage';

/** The simulated traffic, shared by sim and demo. */
export const TRAFFIC_OPTIONS = `  --rate N            simulated HTLC events per second (default 40)
  --seed N            picks the simulated node and its traffic (default: from the clock)`;

export const SIM_USAGE = {
  name: 'sim',
  flags: {
    port: { type: 'string' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    credentials: { type: 'string' },
    backfill: { type: 'string' },
    host: { type: 'string' },
    'test-aliases': { type: 'boolean' },
  },
  summary: `  sim     [--port N] [--rate EVENTS_PER_SECOND] [--seed N] [--credentials DIR] [--backfill MINUTES]
          Run the built-in LND simulator on its own until Ctrl-C/SIGTERM: it writes
          tls.cert, tls.key, admin.macaroon, readonly.macaroon (LND's: every read permission)
          and macaroons.key (their root key) into DIR (default ./sim-node; reused when present,
          as LND does) and prints one JSON line {address, certPath, macaroonPath}. Point the
          extension or \`watch\` at it.`,
  options: `  --port N            listen on port N (default 0: a free port, given in the JSON line)
  --host ADDRESS      listen on ADDRESS (default 127.0.0.1)
${TRAFFIC_OPTIONS}
  --credentials DIR   write tls.cert, tls.key, admin.macaroon, readonly.macaroon and
                      macaroons.key into DIR, or reuse them when present (default ./sim-node)
  --backfill MINUTES  timestamp the first traffic after a client subscribes as if it had happened
                      over the last MINUTES (default 0; at most 1440)
  --test-aliases      keep the model's hostile peer aliases, for escaping tests (default: plain ones)`,
  example: 'htlc-monitor sim --port 10009 --credentials ./sim-node',
} satisfies CommandUsage;

/** What `htlc-monitor sim` prints on stdout once it listens (one line of JSON). */
export interface SimReady {
  address: string;
  certPath: string;
  macaroonPath: string;
  readonlyMacaroonPath: string;
  pid: number;
}

function intFlag(name: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`sim: --${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

/**
 * A clock that lags real time by `backfillMs` until `warp()` is called (the first subscription),
 * then runs `speed` times faster until it has caught up, then is real time: events sent meanwhile
 * are spread over the past `backfillMs`. Continuous and non-decreasing.
 */
export function backfillClock(backfillMs: number, speed: number, real: () => number = Date.now) {
  let warpAt: number | undefined;
  const now = (): number => {
    const t = real();
    if (backfillMs <= 0) return t;
    if (warpAt === undefined) return t - backfillMs;
    const v = warpAt - backfillMs + (t - warpAt) * speed;
    return Math.min(v, t);
  };
  return {
    now,
    warp(): void {
      if (warpAt === undefined) warpAt = real();
    },
  };
}

/**
 * What a previous run left in `dir`: the TLS pair, and the macaroon root key, from which the
 * simulator re-mints the same admin.macaroon and readonly.macaroon (a folder from a version that
 * wrote no root key gets new macaroons).
 */
async function readCredentials(dir: string, rootKeyFile: string) {
  const tlsFiles = ['tls.cert', 'tls.key'].map((f) => path.join(dir, f));
  const keyFile = path.join(dir, rootKeyFile);
  const out: { tls?: { certPem: string; keyPem: string }; macaroonRootKey?: Buffer } = {};
  if (tlsFiles.every((f) => existsSync(f))) {
    const [cert, key] = await Promise.all(tlsFiles.map((f) => fs.readFile(f, 'utf8')));
    out.tls = { certPem: cert!, keyPem: key! };
  }
  if (existsSync(keyFile)) {
    const rootKey = await fs.readFile(keyFile);
    if (rootKey.length === 32) out.macaroonRootKey = rootKey;
  }
  return out;
}

/**
 * The model gives its first channels hostile aliases (escaping tests) and a few exotic ones: a
 * standalone node gets plain ones (also legible without CJK fonts).
 */
const FRIENDLY = ['lightning-lane', 'satoshi-street', 'ember-relay', 'harbor-hub', 'north-star-node'];
function friendlyAliases(channels: readonly { peerAlias: string }[]): void {
  let i = 0;
  for (const ch of channels) {
    if (/[|"<>=*[\]]|[^\x20-\x7e\u00c0-\u017f\u26a1]/.test(ch.peerAlias)) {
      (ch as { peerAlias: string }).peerAlias = FRIENDLY[i++ % FRIENDLY.length]!;
    }
  }
}

/** `htlc-monitor sim`: the simulator as a standalone LND look-alike. */
export async function simCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(SIM_USAGE, argv);
  const port = intFlag('port', values.port, 0, 0, 65535);
  const seed = intFlag('seed', values.seed, Date.now() % 100_000, 0, Number.MAX_SAFE_INTEGER);
  const backfillMin = intFlag('backfill', values.backfill, 0, 0, 24 * 60);
  const rate = values.rate === undefined ? 40 : Number(values.rate);
  if (!Number.isFinite(rate) || rate < 0 || rate > 100_000) throw new UsageError(`sim: --rate must be a number of events per second, got "${values.rate}"`);
  const dir = path.resolve(values.credentials ?? 'sim-node');
  // catch up with real time in about 20 s whatever the backfill
  const clock = backfillClock(backfillMin * 60_000, Math.max(2, (backfillMin * 60) / 20));
  const { LndSimulator, MACAROON_ROOT_KEY_FILE } = await import('../core/sim');
  const reused = await readCredentials(dir, MACAROON_ROOT_KEY_FILE);
  const sim = await LndSimulator.start({
    seed,
    port,
    host: values.host ?? '127.0.0.1',
    eventsPerSecond: rate,
    now: clock.now,
    ...reused,
  });
  if (!values['test-aliases']) friendlyAliases(sim.engine.model.channels);
  // LND's htlc indices are persistent and never reused; a restarted simulator must not reuse them
  // either (the monitor de-duplicates by circuit), so they continue from the wall clock in ms.
  const htlcBase = Date.now();
  for (const ch of sim.engine.model.channels) {
    ch.nextInHtlcId += htlcBase;
    ch.nextOutHtlcId += htlcBase;
  }
  sim.once('subscribe', () => clock.warp());
  const creds = await sim.writeCredentials(dir, true);
  const ready: SimReady = {
    address: sim.address,
    certPath: creds.certPath,
    macaroonPath: creds.macaroonPath,
    readonlyMacaroonPath: creds.readonlyMacaroonPath,
    pid: process.pid,
  };
  io.stdout.write(JSON.stringify(ready) + '\n');
  io.stderr.write(
    `htlc-monitor: simulated LND node "${sim.alias}" (seed ${seed}, ${rate} events/s) on ${sim.address}${reused.tls && reused.macaroonRootKey ? ' (credentials reused)' : ''}\n` +
      `  watch it:  htlc-monitor watch --lnd ${sim.address} --tls-cert ${creds.certPath} --macaroon ${creds.macaroonPath}\n` +
      `  VS Code:   set htlcMonitor.lnd.server, .tlsCertPath and .macaroonPath to the same values\n` +
      `  Ctrl-C stops it\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await sim.stop();
  io.stderr.write(`htlc-monitor: simulator stopped (${signal})\n`);
  return 0;
}
