/**
 * The simulator's traffic, in-process (no network): how fast SimEngine.step generates events (the
 * fault suite's 100,000-event bursts are generated this way; goal ≥ 100,000 events/s), and how
 * close startTraffic(rate) comes to its rate over one second. These were assertions in the unit
 * tests, where a loaded machine decided whether they held; here they are measurements.
 *
 *   npx tsx bench/sim.bench.ts        (BENCH_RUNS)
 */
import { SimEngine } from '../src/core/sim';
import { fmt, printTable, RUNS, summarize, writeResult } from './util';

const TRAFFIC_RATE = 2000;

/** Events per second of step(), over batches of 10,000 scenarios. */
function stepRate(seed: number): number {
  const e = new SimEngine({ seed });
  e.step(2000); // warm-up
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 5; i++) n += e.step(10_000);
  return (n / (performance.now() - t0)) * 1000;
}

/** Events startTraffic(rate) emitted in one second of wall time, per second. */
function trafficRate(seed: number): Promise<number> {
  const e = new SimEngine({ seed });
  let n = 0;
  e.addListener(() => n++);
  const t0 = performance.now();
  e.startTraffic(TRAFFIC_RATE);
  return new Promise((resolve) =>
    setTimeout(() => {
      e.stopTraffic();
      resolve((n / (performance.now() - t0)) * 1000);
    }, 1000),
  );
}

async function main() {
  const step: number[] = [];
  const traffic: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    step.push(stepRate(9 + run));
    traffic.push(await trafficRate(9 + run));
  }
  const s = summarize(step);
  const t = summarize(traffic);
  printTable('Simulator (in-process)', ['figure', 'median', 'range'], [
    ['step(): events/s (goal ≥ 100,000)', fmt(s.median), `${fmt(s.min)}–${fmt(s.max)}`],
    [`startTraffic(${fmt(TRAFFIC_RATE)}): events/s over 1 s`, fmt(t.median), `${fmt(t.min)}–${fmt(t.max)}`],
  ]);
  const file = writeResult('sim', { stepEventsPerSecond: s, traffic: { rate: TRAFFIC_RATE, eventsPerSecond: t } });
  console.log(`\nwritten to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
