/**
 * Decode ceiling: the same bytes the ingest bench sends, decoded in a tight loop (no transport),
 * to show where the time goes: proto-loader's decode (longs: String), our decoder into proto-loader's
 * shape, the hot path's reader into one numeric record, the normaliser on objects and on bytes,
 * + stats (+ heap, ring), and that + the store's record().
 * The limit here is a loop that only walks the buffers (reads one byte of each).
 *
 *   npx tsx bench/decode.bench.ts        (BENCH_EVENTS, BENCH_RUNS)
 */
import type { MethodDefinition } from '@grpc/proto-loader';
import { loadLndProtos } from '../src/core/lnd/protos';
import { decodeHtlcEvent, RawHtlcEvent, readHtlcEvent } from '../src/core/lnd/htlcDecoder';
import { Normalizer, Outcome } from '../src/core/normalizer';
import { StatsEngine } from '../src/core/stats';
import { forwardMix } from './events';
import { fmt, printTable, RUNS, summarize, writeResult, Summary } from './util';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 500);

export function encodedMix(n: number, channels: number): Buffer[] {
  const def = loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, MethodDefinition<object, object>>;
  const ser = def.SubscribeHtlcEvents.responseSerialize;
  // one big buffer with subarrays, like grpc-js hands over slices of its receive buffer
  const parts = forwardMix(n, channels).map((ev) => ser(ev as object));
  const all = Buffer.concat(parts);
  const out: Buffer[] = [];
  let off = 0;
  for (const p of parts) {
    out.push(all.subarray(off, off + p.length));
    off += p.length;
  }
  return out;
}

type Variant = (bufs: Buffer[]) => number;

async function main() {
  const bufs = encodedMix(N, CHANNELS);
  const protoLoader = (loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, { responseDeserialize: (b: Buffer) => unknown }>)
    .SubscribeHtlcEvents.responseDeserialize;

  // The store (issue 3) is optional: its record() is the per-event part of its batching.
  let storeMod: typeof import('../src/core/store') | undefined;
  try {
    storeMod = require('../src/core/store');
  } catch {
    storeMod = undefined;
  }
  const os = await import('node:os');
  const path = await import('node:path');
  const fs = await import('node:fs');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-decode-'));

  const variants: [string, string, Variant | (() => Promise<Variant>)][] = [
    ['walk', 'walk the buffers (the limit)', (b) => {
      let x = 0;
      for (let i = 0; i < b.length; i++) x += b[i][b[i].length >> 1];
      return x;
    }],
    ['protoLoader', 'proto-loader decode (longs: String)', (b) => {
      let x = 0;
      for (let i = 0; i < b.length; i++) x += (protoLoader(b[i]) as { event?: string }).event ? 1 : 0;
      return x;
    }],
    ['ourDecoder', 'decodeHtlcEvent (proto-loader\'s shape)', (b) => {
      let x = 0;
      for (let i = 0; i < b.length; i++) x += decodeHtlcEvent(b[i]).event ? 1 : 0;
      return x;
    }],
    ['rawReader', 'readHtlcEvent into one record (hot path)', (b) => {
      const rec = new RawHtlcEvent();
      let x = 0;
      for (let i = 0; i < b.length; i++) {
        readHtlcEvent(b[i], rec);
        x += rec.member;
      }
      return x;
    }],
    ['normalizeObject', 'decodeHtlcEvent + normalize (object path)', (b) => {
      const norm = new Normalizer();
      let x = 0;
      for (let i = 0; i < b.length; i++) x += norm.normalize(decodeHtlcEvent(b[i])).type === 'outcome' ? 1 : 0;
      return x;
    }],
    ['normalize', 'normalizeBytes (reader + normaliser, hot path)', (b) => {
      const norm = new Normalizer();
      let x = 0;
      for (let i = 0; i < b.length; i++) x += norm.normalizeBytes(b[i]).type === 'outcome' ? 1 : 0;
      return x;
    }],
    ['stats', 'normalizeBytes + stats, heap, ring', (b) => {
      const norm = new Normalizer();
      const stats = new StatsEngine();
      let x = 0;
      for (let i = 0; i < b.length; i++) {
        const r = norm.normalizeBytes(b[i]);
        if (r.type === 'outcome') {
          stats.apply(r.outcome);
          x++;
        }
      }
      return x;
    }],
  ];
  if (storeMod) {
    const mod = storeMod;
    variants.push(['store', '… + store.record() in batches of 5,000', async () => {
      const store = await mod.HtlcStore.open({ path: path.join(tmp, `s-${Math.random()}.sqlite`), flushIntervalMs: 0 });
      return (b: Buffer[]) => {
        const norm = new Normalizer();
        const stats = new StatsEngine();
        let batch: Outcome[] = [];
        let x = 0;
        for (let i = 0; i < b.length; i++) {
          const r = norm.normalizeBytes(b[i]);
          if (r.type === 'outcome') {
            stats.apply(r.outcome);
            batch.push(r.outcome);
            x++;
          }
          if (batch.length >= 5000) {
            store.record(batch);
            batch = [];
          }
        }
        store.record(batch);
        void store.close().catch(() => undefined);
        return x;
      };
    }]);
  }

  const results: Record<string, number[]> = Object.fromEntries(variants.map(([k]) => [k, []]));
  // one warm-up pass of each on a slice, then RUNS interleaved measured passes
  for (const [, , v] of variants) {
    const fn = v.length === 0 ? await (v as () => Promise<Variant>)() : (v as Variant);
    fn(bufs.slice(0, 20_000));
  }
  for (let run = 0; run < RUNS; run++) {
    for (const [name, , v] of variants) {
      const fn = v.length === 0 ? await (v as () => Promise<Variant>)() : (v as Variant);
      const t0 = performance.now();
      fn(bufs);
      results[name].push(N / ((performance.now() - t0) / 1000));
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const s: Record<string, Summary> = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)]));
  const rows = variants.map(([k, label]) => [
    label,
    fmt(s[k].median),
    `${fmt(s[k].min)}–${fmt(s[k].max)}`,
    fmt(1e9 / s[k].median, 0),
  ]);
  printTable(`Decode ceiling: ${fmt(N)} events in a loop (no transport), ${RUNS} runs, events/s`, ['variant', 'median', 'range', 'ns/event'], rows);
  const file = writeResult('decode', { events: N, channels: CHANNELS, runs: RUNS, results: s });
  console.log(`wrote ${file}`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
