/**
 * `npm run bench`: every benchmark in sequence, each in its own process (so one's heap and JIT
 * state cannot colour another's), then a summary of the goals from the JSON results.
 * BENCH_RUNS (default 5) sets the runs per figure; BENCH_SKIP_PACKAGE=1 skips `npm run package`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, printTable } from './util';

const benches: [string, string[]][] = [
  ['ingest', ['--import', 'tsx', 'bench/ingest.bench.ts']],
  ['decode', ['--import', 'tsx', 'bench/decode.bench.ts']],
  ['ranking', ['--import', 'tsx', 'bench/ranking.bench.ts']],
  ['memory', ['--expose-gc', '--import', 'tsx', 'bench/memory.bench.ts']],
  ['store', ['--import', 'tsx', 'bench/store.bench.ts']],
  ['extension', ['--import', 'tsx', 'bench/extension.bench.ts']],
  ['sim', ['--import', 'tsx', 'bench/sim.bench.ts']],
];

const ROOT = path.resolve(__dirname, '..');
const only = process.argv.slice(2);
const t0 = Date.now();
const failed: string[] = [];
for (const [name, args] of benches) {
  if (only.length && !only.includes(name)) continue;
  if (!fs.existsSync(path.join(ROOT, args[args.length - 1]))) {
    console.log(`\n== ${name}: ${args[args.length - 1]} not found, skipped`);
    continue;
  }
  console.log(`\n== ${name}`);
  const t = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  console.log(`== ${name}: ${r.status === 0 ? 'done' : `FAILED (${r.status ?? r.signal})`} in ${fmt((Date.now() - t) / 1000, 1)} s`);
  if (r.status !== 0) failed.push(name);
}

// the goals, from the results just written
const read = (n: string) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, 'results', `${n}.json`), 'utf8'));
  } catch {
    return undefined;
  }
};
const rows: string[][] = [];
const ingest = read('ingest');
if (ingest) {
  rows.push(['ingest: pipeline ≥ 50 % of the counting client', `${fmt(ingest.ratioPipelineToLimit * 100, 1)} %`, ingest.ratioPipelineToLimit >= 0.5 ? 'met' : 'missed']);
  rows.push(['ingest: pipeline + store batching ≥ 50 %', `${fmt(ingest.ratioPipelineStoreToLimit * 100, 1)} %`, ingest.ratioPipelineStoreToLimit >= 0.5 ? 'met' : 'missed']);
}
const ranking = read('ranking');
if (ranking?.results?.['100000']) {
  const x = ranking.results['100000'].speedup;
  rows.push(['ranking: heap ≥ 1000× sort at 100k channels', `${fmt(x)}×`, x >= 1000 ? 'met' : 'missed']);
}
const memory = read('memory');
if (memory) {
  const full = memory.fullRings.points.at(-1);
  rows.push(['memory: ≤ 4 KiB per channel (full rings)', `${fmt(full.perChannelKiB, 2)} KiB`, full.perChannelKiB <= 4 ? 'met' : 'missed']);
  rows.push(['memory: ≤ 40 MiB stats for 10k channels', `${fmt(full.statsMiB, 1)} MiB`, full.statsMiB <= 40 ? 'met' : 'missed']);
  rows.push(['memory: ≤ 5 % growth 500k → 1M (churn)', `${fmt(memory.churn.growth * 100, 1)} %`, memory.churn.growth <= 0.05 ? 'met' : 'missed']);
}
const store = read('store');
if (store?.results) {
  for (const r of store.results.filter((x: { scenario: string }) => /defaults/.test(x.scenario))) {
    rows.push([`store: flush ≤ 50 ms, ${r.scenario}`, `${fmt(r.flushMs.median, 1)} ms, ${fmt(r.fileMB, 1)} MB`, r.flushMs.median <= 50 ? 'met' : 'missed']);
  }
}
const ext = read('extension');
if (ext) {
  rows.push(['extension: activation < 100 ms', `${fmt(ext.activation.total.median, 1)} ms`, ext.activation.total.median < 100 ? 'met' : 'missed']);
  if (ext.vsix) rows.push(['extension: VSIX < 3 MB', `${fmt(ext.vsix.bytes / 1e6, 2)} MB`, ext.vsix.bytes < 3e6 ? 'met' : 'missed']);
}
const sim = read('sim');
if (sim) rows.push(['sim: step() ≥ 100,000 events/s in-process', `${fmt(sim.stepEventsPerSecond.median)} ev/s`, sim.stepEventsPerSecond.median >= 100_000 ? 'met' : 'missed']);
printTable(`Goals (all benchmarks in ${fmt((Date.now() - t0) / 1000)} s)`, ['goal', 'measured', ''], rows);
if (failed.length) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
