// How store.record()'s cost splits: the per-event in-memory part vs applyPending (the SQL insert).
// applyPending is measured twice per store: into an empty store (every roll-up key new), then the
// same outcomes again (every roll-up key exists: the upsert's update path).
import { decodeHtlcEvent } from '../src/core/lnd/htlcDecoder';
import { Normalizer, Outcome } from '../src/core/normalizer';
import { HtlcStore } from '../src/core/store';
import { encodedMix } from './decode.bench';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './util';

async function main() {
  const N = 200_000;
  const norm = new Normalizer();
  const outs: Outcome[] = [];
  for (const b of encodedMix(N, 500)) {
    const r = norm.normalize(decodeHtlcEvent(b));
    if (r.type === 'outcome') outs.push(r.outcome);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-split-'));
  const rec: number[] = [];
  const app: number[] = [];
  const again: number[] = [];
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ns (${xs.map((x) => x.toFixed(0)).join(' ')})`;
  for (let run = 0; run < 6; run++) {
    const store = await HtlcStore.open({ path: path.join(tmp, `s${run}.sqlite`), flushIntervalMs: 0, maxPending: 1e9 });
    const t0 = performance.now();
    for (let i = 0; i < outs.length; i += 5000) store.record(outs.slice(i, i + 5000));
    const t1 = performance.now();
    store.applyPending();
    const t2 = performance.now();
    store.record(outs);
    const t3 = performance.now();
    store.applyPending();
    const t4 = performance.now();
    if (run) {
      rec.push(((t1 - t0) * 1e6) / N);
      app.push(((t2 - t1) * 1e6) / N);
      again.push(((t4 - t3) * 1e6) / N);
    }
    await store.close();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${outs.length} outcomes of ${N} events; per event: record() ${fmt(rec)}, applyPending ${fmt(app)}, applyPending with the roll-up keys present ${fmt(again)}`);
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
