/**
 * The in-process pipeline in a loop, for profiling (`node --cpu-prof --import tsx bench/profile-pipeline.ts`)
 * and quick A/B timing of its stages: decode (the hot path's readHtlcEvent into a reused record),
 * normalise (Normalizer.normalizeBytes, which decodes too), stats (+ heap, ring), store.record() in
 * batches of 5,000 (as the decode bench). Prints ns/event per stage, median of BENCH_RUNS passes.
 *   PROFILE_STAGES=decode,normalize,stats,store (default: all)
 */
import { RawHtlcEvent, readHtlcEvent } from '../src/core/lnd/htlcDecoder';
import { Normalizer, Outcome } from '../src/core/normalizer';
import { StatsEngine } from '../src/core/stats';
import { HtlcStore } from '../src/core/store';
import { encodedMix } from './decode.bench';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './util';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const stages = (process.env.PROFILE_STAGES ?? 'decode,normalize,stats,store').split(',');

async function main() {
  const bufs = encodedMix(N, 500);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
  const res: Record<string, number[]> = {};
  for (let run = 0; run < RUNS + 1; run++) {
    for (const st of stages) {
      const store = st === 'store' ? await HtlcStore.open({ path: path.join(tmp, `s${run}.sqlite`), flushIntervalMs: 0 }) : undefined;
      const norm = new Normalizer();
      const stats = new StatsEngine();
      let batch: Outcome[] = [];
      const rec = new RawHtlcEvent();
      const t0 = performance.now();
      for (let i = 0; i < bufs.length; i++) {
        if (st === 'decode') {
          readHtlcEvent(bufs[i], rec);
          continue;
        }
        const r = norm.normalizeBytes(bufs[i]);
        if (st === 'normalize' || r.type !== 'outcome') continue;
        stats.apply(r.outcome);
        if (store) {
          batch.push(r.outcome);
          if (batch.length >= 5000) {
            store.record(batch);
            batch = [];
          }
        }
      }
      if (store) store.record(batch);
      const t = performance.now() - t0;
      if (store) await store.close();
      if (run > 0) (res[st] ??= []).push((t * 1e6) / N);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  let prev = 0;
  for (const st of stages) {
    const m = median(res[st]);
    console.log(`${st.padEnd(10)} ${m.toFixed(0).padStart(6)} ns/event cumulative, +${(m - prev).toFixed(0)} (runs ${res[st].map((x) => x.toFixed(0)).join(' ')})`);
    prev = m;
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
