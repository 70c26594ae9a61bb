/**
 * Store: flush time (apply + retention + export + atomic write with fsync) and file size, for
 * 1k and 10k failing channels with 30 and 400 days of roll-ups, and at the raw-event caps.
 *
 * Roll-up density assumed per failing channel and day: 4 failure rows (2 incoming peers × 2
 * reasons) and 2 success rows (2 incoming peers). Roll-ups and channel totals are written straight
 * into a file of the store's schema (fast set-up); raw events go through record() like the monitor's
 * batches. Each measured flush follows a record() of 200 new outcomes (a busy node's 15 s).
 *
 *   npx tsx bench/store.bench.ts            all scenarios
 *   BENCH_QUICK=1 npx tsx bench/store.bench.ts   skips the largest ones
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Outcome } from '../src/core/normalizer';
import { StatsEngine } from '../src/core/stats';
import { HtlcStore, loadSqlJs, STORE_DEFAULTS } from '../src/core/store';
import { migrate } from '../src/core/store/schema';
import { DAY_MS } from '../src/core/store/windows';
import { failure, prng, REASONS, success } from '../test/unit/store-helpers';
import { fmt, median, printTable, writeResult } from './util';

const QUICK = Boolean(process.env.BENCH_QUICK);
const FLUSHES = Number(process.env.BENCH_FLUSHES ?? 21);
const NOW = Date.now();
const TODAY = Math.floor(NOW / DAY_MS);

interface Scenario {
  name: string;
  channels: number;
  rollupDays: number;
  rawFailures: number;
  rawSuccesses: number;
  /** Store options under test (defaults unless set). */
  opts: { maxRawEvents?: number; maxRawSuccesses?: number; maxRollupRows?: number };
}

function chanId(i: number): bigint {
  return ((800_000n + BigInt(i)) << 40n) | (BigInt(i % 3000) << 16n) | 1n;
}

/** A file of the store's schema holding channel totals and `days` of roll-ups (newest first, up to rowCap). */
async function seedFile(file: string, s: Scenario, rowCap: number): Promise<number> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  migrate(db, NOW);
  const rnd = prng(s.channels * 31 + s.rollupDays);
  db.run('BEGIN');
  const insChan = db.prepare('INSERT INTO chan (ref, chan_id) VALUES (?, ?)');
  for (let i = 0; i < s.channels; i++) insChan.run([i + 1, chanId(i).toString()]);
  insChan.free();
  const insStr = db.prepare('INSERT INTO str (ref, s) VALUES (?, ?)');
  REASONS.forEach((r, i) => insStr.run([i + 1, r]));
  insStr.free();
  const insTot = db.prepare('INSERT INTO channel_totals VALUES (?,?,?,?,?,?,?,?,?)');
  const insRT = db.prepare('INSERT INTO channel_reason_totals VALUES (?,?,?,?,?,?)');
  for (let i = 0; i < s.channels; i++) {
    insTot.run([i + 1, NOW - s.rollupDays * DAY_MS, NOW - 1000, NOW - 1000, 5000, 900, 123_456_789, 98_765_432_100, 55_555_555]);
    insRT.run([i + 1, 1, 3000, 100_000_000, 50_000_000_000, 0]);
    insRT.run([i + 1, 3, 2000, 23_456_789, 48_765_432_100, 1]);
  }
  insTot.free();
  insRT.free();
  const insF = db.prepare('INSERT INTO rollup_failures (day, out_ref, in_ref, reason_ref, count, missed_fees_msat, missed_amount_msat) VALUES (?,?,?,?,?,?,?)');
  const insS = db.prepare('INSERT INTO rollup_successes (day, out_ref, in_ref, count, fees_msat, amount_msat) VALUES (?,?,?,?,?,?)');
  let rows = 0;
  outer: for (let d = 0; d < s.rollupDays; d++) {
    const day = TODAY - d;
    for (let c = 1; c <= s.channels; c++) {
      if (rows + 6 > rowCap) break outer;
      const [in1, in2] = peersOf(c - 1, s.channels).map((p) => p + 1);
      for (const inn of [in1, in2]) {
        for (const reason of [1, 3]) insF.run([day, c, inn, reason, 1 + Math.floor(rnd() * 40), Math.floor(rnd() * 2_000_000), Math.floor(rnd() * 5e9)]);
        insS.run([day, c, inn, 1 + Math.floor(rnd() * 10), Math.floor(rnd() * 500_000), Math.floor(rnd() * 2e9)]);
      }
      rows += 6;
    }
  }
  insF.free();
  insS.free();
  db.run('COMMIT');
  fs.writeFileSync(file, db.export());
  db.close();
  return rows;
}

/** The incoming peers of channel c (0-based), as in the seeded roll-ups. */
function peersOf(c: number, channels: number): [number, number] {
  return [(c + 1) * 7 % channels, ((c + 1) * 13 + 1) % channels];
}

/** Outcomes on the same route pairs and reasons as the seeded roll-ups (their rows absorb them). */
function outcomes(n: number, channels: number, fromMs: number, toMs: number, seed: number, successShare: number): Outcome[] {
  const rnd = prng(seed);
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) {
    const ts = Math.floor(fromMs + ((toMs - fromMs) * i) / n);
    const c = Math.floor(rnd() * channels);
    const o = chanId(c);
    const inn = chanId(peersOf(c, channels)[rnd() < 0.5 ? 0 : 1]);
    const amt = BigInt(Math.floor(rnd() * 5e9));
    const fee = BigInt(Math.floor(rnd() * 5e6));
    if (rnd() < successShare) out.push(success({ timestampMs: ts, outgoingChanId: o, incomingChanId: inn, outgoingAmtMsat: amt, incomingAmtMsat: amt + fee }));
    else {
      const reason = REASONS[rnd() < 0.5 ? 0 : 2];
      out.push(
        failure({
          timestampMs: ts,
          outgoingChanId: o,
          incomingChanId: inn,
          outgoingAmtMsat: amt,
          incomingAmtMsat: amt + fee,
          reason,
          failureString: reason === 'INSUFFICIENT_BALANCE' ? 'insufficient bandwidth to route htlc' : reason === 'FEE_INSUFFICIENT' ? 'FeeInsufficient' : '',
        }),
      );
    }
  }
  return out;
}

interface Result {
  scenario: string;
  channels: number;
  rollupDays: number;
  rollupRows: number;
  rawFailures: number;
  rawSuccesses: number;
  fileMB: number;
  flushMs: { median: number; p10: number; p90: number; min: number; max: number };
  /** apply + retention + export: the part that runs on the event loop. */
  blockingMs: { median: number; p10: number; p90: number };
  exportMs: number;
  writeMs: number;
  applyMs: number;
  openMs: number;
  restoreMs: number;
  window30dMs: number;
  window24hMs: number;
  heapMB: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))];
}

async function runScenario(s: Scenario, dir: string): Promise<Result> {
  const file = path.join(dir, `${s.name.replace(/\W+/g, '_')}.sqlite`);
  const rowCap = s.opts.maxRollupRows ?? STORE_DEFAULTS.maxRollupRows;
  await seedFile(file, s, rowCap === Infinity ? Number.MAX_SAFE_INTEGER : rowCap);
  const opts = { flushIntervalMs: 0, lock: false, ...s.opts };
  let store = await HtlcStore.open(file, opts);
  // raw events over the last 29 days, through record() as the monitor does
  const total = s.rawFailures + s.rawSuccesses;
  const raw = outcomes(total, s.channels, NOW - 29 * DAY_MS, NOW - 60_000, 7, s.rawSuccesses / Math.max(1, total));
  for (let i = 0; i < raw.length; i += 5000) store.record(raw.slice(i, i + 5000));
  await store.flush();
  await store.close();

  let t = performance.now();
  store = await HtlcStore.open(file, opts);
  const openMs = performance.now() - t;
  t = performance.now();
  store.restoreInto(new StatsEngine({ maxChannels: Math.max(10_000, s.channels) }));
  const restoreMs = performance.now() - t;

  const flushes: number[] = [];
  const exp: number[] = [];
  const wr: number[] = [];
  const ap: number[] = [];
  const bl: number[] = [];
  for (let k = 0; k < FLUSHES + 2; k++) {
    store.record(outcomes(200, s.channels, NOW - 1000, NOW, 100 + k, 0.25));
    const info = await store.flush();
    if (!info) throw new Error('no flush');
    if (k < 2) continue; // warm-up
    flushes.push(info.durationMs);
    exp.push(info.exportMs);
    wr.push(info.writeMs);
    ap.push(info.applyMs);
    bl.push(info.applyMs + info.exportMs);
  }
  t = performance.now();
  store.windows('30d');
  const window30dMs = performance.now() - t;
  t = performance.now();
  store.windows('24h');
  const window24hMs = performance.now() - t;
  const sizes = store.sizes;
  const heapMB = process.memoryUsage().rss / 2 ** 20;
  await store.close();
  const bytes = fs.statSync(file).size;
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true });
  return {
    scenario: s.name,
    channels: s.channels,
    rollupDays: s.rollupDays,
    rollupRows: sizes.rollupFailureRows + sizes.rollupSuccessRows,
    rawFailures: sizes.rawFailures,
    rawSuccesses: sizes.rawSuccesses,
    fileMB: bytes / 1e6,
    flushMs: { median: median(flushes), p10: pct(flushes, 0.1), p90: pct(flushes, 0.9), min: Math.min(...flushes), max: Math.max(...flushes) },
    blockingMs: { median: median(bl), p10: pct(bl, 0.1), p90: pct(bl, 0.9) },
    exportMs: median(exp),
    writeMs: median(wr),
    applyMs: median(ap),
    openMs,
    restoreMs,
    window30dMs,
    window24hMs,
    heapMB,
  };
}

/** The disk alone: write 10 MB to a new file, fsync, rename (what a flush's write phase does). */
async function diskBaseline(dir: string): Promise<number> {
  const data = new Uint8Array(10_000_000).fill(7);
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    const fh = await fs.promises.open(path.join(dir, 'base.tmp'), 'w');
    await fh.write(data);
    await fh.sync();
    await fh.close();
    await fs.promises.rename(path.join(dir, 'base.tmp'), path.join(dir, 'base'));
    times.push(performance.now() - t);
  }
  fs.rmSync(path.join(dir, 'base'), { force: true });
  return median(times);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-bench-'));
  const disk10MB = await diskBaseline(dir);
  const D = STORE_DEFAULTS;
  const scenarios: Scenario[] = [
    { name: '1k ch, 30 d, raw at caps (defaults)', channels: 1000, rollupDays: 30, rawFailures: D.maxRawEvents, rawSuccesses: D.maxRawSuccesses, opts: {} },
    { name: '1k ch, 400 d (defaults: row cap)', channels: 1000, rollupDays: 400, rawFailures: D.maxRawEvents, rawSuccesses: D.maxRawSuccesses, opts: {} },
    { name: '10k ch, 30 d (defaults: row cap)', channels: 10_000, rollupDays: 30, rawFailures: D.maxRawEvents, rawSuccesses: D.maxRawSuccesses, opts: {} },
    { name: '10k ch, 400 d (defaults: row cap)', channels: 10_000, rollupDays: 400, rawFailures: D.maxRawEvents, rawSuccesses: D.maxRawSuccesses, opts: {} },
    { name: 'raw only, 50k failures', channels: 1000, rollupDays: 0, rawFailures: 50_000, rawSuccesses: 0, opts: { maxRawEvents: 50_000 } },
    { name: 'raw only, 100k failures', channels: 1000, rollupDays: 0, rawFailures: 100_000, rawSuccesses: 0, opts: { maxRawEvents: 100_000 } },
    { name: 'raw only, 200k failures', channels: 1000, rollupDays: 0, rawFailures: 200_000, rawSuccesses: 0, opts: { maxRawEvents: 200_000 } },
  ];
  if (!QUICK) {
    scenarios.push(
      { name: '1k ch, 400 d, no row cap', channels: 1000, rollupDays: 400, rawFailures: D.maxRawEvents, rawSuccesses: D.maxRawSuccesses, opts: { maxRollupRows: Infinity } },
      { name: '10k ch, 30 d, no row cap', channels: 10_000, rollupDays: 30, rawFailures: D.maxRawEvents, rawSuccesses: D.maxRawSuccesses, opts: { maxRollupRows: Infinity } },
      { name: 'raw only, 500k failures', channels: 1000, rollupDays: 0, rawFailures: 500_000, rawSuccesses: 0, opts: { maxRawEvents: 500_000 } },
    );
  }
  const results: Result[] = [];
  for (const s of scenarios) {
    process.stderr.write(`running: ${s.name}\n`);
    results.push(await runScenario(s, dir));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  printTable(
    `Store flush (median of ${FLUSHES}, p10–p90), file size, and read costs — defaults: retention ${D.retentionDays} d, maxRawEvents ${fmt(D.maxRawEvents)}, maxRawSuccesses ${fmt(D.maxRawSuccesses)}, rollupDays ${D.rollupDays}, maxRollupRows ${fmt(D.maxRollupRows)}`,
    ['scenario', 'rollup rows', 'raw fail', 'raw ok', 'file MB', 'flush ms', 'p10–p90', 'blocking', 'p10–p90', 'apply', 'export', 'write+fsync', 'open', 'restore', 'win 30d', 'win 24h'],
    results.map((r) => [
      r.scenario,
      fmt(r.rollupRows),
      fmt(r.rawFailures),
      fmt(r.rawSuccesses),
      fmt(r.fileMB, 1),
      fmt(r.flushMs.median, 1),
      `${fmt(r.flushMs.p10, 1)}–${fmt(r.flushMs.p90, 1)}`,
      fmt(r.blockingMs.median, 1),
      `${fmt(r.blockingMs.p10, 1)}–${fmt(r.blockingMs.p90, 1)}`,
      fmt(r.applyMs, 1),
      fmt(r.exportMs, 1),
      fmt(r.writeMs, 1),
      fmt(r.openMs, 0),
      fmt(r.restoreMs, 0),
      fmt(r.window30dMs, 0),
      fmt(r.window24hMs, 0),
    ]),
  );
  console.log(`\ndisk baseline: write + fsync + rename of 10 MB = ${fmt(disk10MB, 1)} ms (median of 9), in ${os.tmpdir()}`);
  const out = writeResult('store', {
    diskBaselineMs10MB: disk10MB,
    description: 'HtlcStore flush cost and file size; times in ms, sizes in MB (1e6 bytes)',
    assumptions: 'roll-ups: 4 failure + 2 success rows per failing channel per day; each measured flush follows record() of 200 outcomes',
    defaults: STORE_DEFAULTS,
    flushes: FLUSHES,
    results,
  });
  console.log(`\nwrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
