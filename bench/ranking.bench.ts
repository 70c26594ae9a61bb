/**
 * Ranking: the top 10 after each update, at 1k, 10k and 100k channels: the engine's indexed heap
 * (StatsEngine.apply + top(10)) against sorting every channel (ranked().slice(0, 10)), which is
 * the limit to beat. Each update is one failure on a random channel of a filled engine.
 *
 *   npx tsx bench/ranking.bench.ts        (BENCH_RUNS)
 */
import type { FailureOutcome } from '../src/core/normalizer';
import { StatsEngine } from '../src/core/stats';
import { fmt, printTable, RUNS, summarize, writeResult, Summary } from './util';

const SIZES = [1_000, 10_000, 100_000];
const T0 = 1_764_000_000_000;

function chanId(i: number): bigint {
  return (BigInt(750_000 + i) << 40n) | (BigInt(i % 3000) << 16n) | 1n;
}

function failure(i: number, k: number): FailureOutcome {
  const outAmt = BigInt(10_000 + ((k * 7919) % 5_000_000) * 1000);
  const fee = 1000n + outAmt / 2000n;
  return {
    kind: 'failure',
    source: 'link',
    incomingChanId: chanId((i + 1) % 7),
    outgoingChanId: chanId(i),
    incomingHtlcId: BigInt(k),
    outgoingHtlcId: 0n,
    timestampNs: BigInt(T0 + k) * 1_000_000n,
    timestampMs: T0 + k,
    incomingAmtMsat: outAmt + fee,
    outgoingAmtMsat: outAmt,
    missedFeeMsat: fee,
    reason: 'TEMPORARY_CHANNEL_FAILURE',
    category: 'liquidity',
    wireFailure: 'TEMPORARY_CHANNEL_FAILURE',
    failureDetail: 'INSUFFICIENT_BALANCE',
    failureString: 'insufficient bandwidth to route htlc',
    amountsKnown: true,
  };
}

function filled(n: number): StatsEngine {
  const s = new StatsEngine({ maxChannels: n, recentPerChannel: 4 });
  for (let i = 0; i < n; i++) s.apply(failure(i, i));
  return s;
}

/** Updates per second while taking the top 10 after each, for at least minMs. */
function rate(s: StatsEngine, n: number, topOf: (s: StatsEngine) => unknown, minMs: number, seed: number): number {
  let x = seed >>> 0;
  let k = n + seed * 1_000_000;
  let done = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs || done < 3) {
    for (let j = 0; j < 8; j++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      s.apply(failure(x % n, k++));
      topOf(s);
      done++;
    }
    t = performance.now();
  }
  return done / ((t - t0) / 1000);
}

async function main() {
  const results: Record<string, { heap: number[]; sort: number[] }> = {};
  for (const n of SIZES) {
    const engine = filled(n);
    const heapTop = (s: StatsEngine) => s.top(10);
    const sortTop = (s: StatsEngine) => s.ranked().slice(0, 10);
    // check both give the same top 10 before timing them
    const a = heapTop(engine).map((c) => c.key).join();
    const b = sortTop(engine).map((c) => c.key).join();
    if (a !== b) throw new Error(`heap and sort disagree at ${n} channels`);
    rate(engine, n, heapTop, 50, 99);
    results[n] = { heap: [], sort: [] };
    for (let run = 0; run < RUNS; run++) {
      results[n].heap.push(rate(engine, n, heapTop, 200, run + 1));
      results[n].sort.push(rate(engine, n, sortTop, n >= 100_000 ? 1500 : 300, run + 1));
    }
  }
  const s: Record<string, { heap: Summary; sort: Summary; speedup: number }> = {};
  const rows: (string | number)[][] = [];
  for (const n of SIZES) {
    const heap = summarize(results[n].heap);
    const sort = summarize(results[n].sort);
    s[n] = { heap, sort, speedup: heap.median / sort.median };
    rows.push([fmt(n), fmt(heap.median), `${fmt(heap.min)}–${fmt(heap.max)}`, fmt(sort.median, sort.median < 100 ? 1 : 0), `${fmt(sort.min, 1)}–${fmt(sort.max, 1)}`, `${fmt(heap.median / sort.median)}×`]);
  }
  printTable(`Ranking: one update + top 10, updates/s, ${RUNS} runs`, ['channels', 'heap', 'range', 'sort all (limit)', 'range', 'heap / sort'], rows);
  const file = writeResult('ranking', { runs: RUNS, results: s });
  console.log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
