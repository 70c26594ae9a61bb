/**
 * Ingest: N FORWARD events over TLS from a Go-like server (pre-encoded frames, as LND's Go server
 * writes them). The limit is a bare grpc-js client that only counts messages; against it, in the
 * same run: proto-loader's decode, our decoders alone, and the full pipeline (client, decoder,
 * normaliser, stats, heap, and the store's batching when it is present).
 *
 *   npx tsx bench/ingest.bench.ts            (BENCH_EVENTS, BENCH_RUNS)
 *   BENCH_ONLY=count,pipeline npx tsx ...    some variants only, for A/B work (writes no JSON)
 */
import { generateTlsCert } from '../src/core/sim/certs';
import { LndClient } from '../src/core/lnd/client';
import { loadLndProtos } from '../src/core/lnd/protos';
import { decodeHtlcEvent, RawHtlcEvent, readHtlcEvent } from '../src/core/lnd/htlcDecoder';
import { HtlcMonitor } from '../src/core/monitor';
import { GoLikeServer } from './goLikeServer';
import { forwardMix } from './events';
import { fmt, printTable, summarize, writeResult, Summary } from './util';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const ONLY = process.env.BENCH_ONLY?.split(',');
// 9 interleaved runs by default (not the suite's 5): over TLS on this shared machine a run's rate
// moves ±20 %, and this figure's goal is a ratio
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

type Deser = (b: Buffer) => unknown;

async function streamRate(client: LndClient, deserialize: Deser): Promise<number> {
  const t0 = performance.now();
  await client.getInfo();
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = client.subscribeHtlcEvents(deserialize as never);
    s.on('data', () => n++);
    s.on('error', reject);
    s.on('end', () => {
      const rate = (n - 1) / ((performance.now() - t0) / 1000);
      client.close();
      resolve(rate);
    });
  });
}

async function pipelineRate(makeClient: () => LndClient, withStore: boolean): Promise<{ rate: number; failures: number }> {
  const monitor = new HtlcMonitor({ connection: makeClient, backoff: { initialMs: 60_000 }, ...(process.env.EXP_DELAY ? { batchDelayMs: Number(process.env.EXP_DELAY), batchSize: Number(process.env.EXP_BATCH ?? 5000) } : {}) });
  let store: AttachedStore | undefined;
  if (withStore) store = await attachStoreIfPresent(monitor);
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => {
    monitor.on('changed', () => {
      if (monitor.counters.received >= N + 1 && monitor.queued === 0) resolve();
    });
  });
  await monitor.start();
  await done;
  // the store's last rows (fewer than maxPending) are still queued: writing them is part of the work
  store?.applyPending();
  const t1 = performance.now();
  const failures = monitor.counters.failures;
  await monitor.stop();
  await store?.close();
  return { rate: N / ((t1 - t0) / 1000), failures };
}

interface AttachedStore {
  applyPending(): void;
  close(): Promise<void>;
}

/** The store (issue 3) batches writes; include its per-event cost when it exists. */
async function attachStoreIfPresent(monitor: HtlcMonitor): Promise<AttachedStore | undefined> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../src/core/store');
    const os = await import('node:os');
    const path = await import('node:path');
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
    const store = await mod.HtlcStore.open({ path: path.join(dir, 'bench.sqlite'), flushIntervalMs: 60_000 });
    const sub = store.attach(monitor);
    return {
      applyPending: () => store.applyPending(),
      close: async () => {
        sub.dispose();
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch {
    return undefined;
  }
}

async function main() {
  const tls = await generateTlsCert();
  const server = new GoLikeServer({ cert: tls.certPem, key: tls.keyPem });
  const events = forwardMix(N, 500);
  const bytes = server.setEvents(events);
  const address = await server.start();
  const makeClient = () => LndClient.create({ server: address, tlsCertPem: tls.certPem, macaroonHex: 'ab'.repeat(32) });
  const protoLoader = (loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, { responseDeserialize: Deser }>).SubscribeHtlcEvents.responseDeserialize;

  const rec = new RawHtlcEvent();
  const readRaw: Deser = (b) => {
    readHtlcEvent(b, rec);
    return rec.member;
  };
  const variants: [string, string, () => Promise<number>][] = [
    ['count', 'bare client, counting (the limit)', () => streamRate(makeClient(), (b) => b)],
    ['protoLoader', 'client + proto-loader decode (longs: String)', () => streamRate(makeClient(), protoLoader)],
    ['ourDecoder', 'client + decodeHtlcEvent (proto-loader shape)', () => streamRate(makeClient(), decodeHtlcEvent)],
    ['rawReader', 'client + readHtlcEvent (numeric record, hot path)', () => streamRate(makeClient(), readRaw)],
    ['pipeline', 'full pipeline (client, normaliser, stats, heap, ring)', async () => (await pipelineRate(makeClient, false)).rate],
    ['pipelineStore', 'full pipeline + store (record, SQL inserts)', async () => {
      const r = await pipelineRate(makeClient, true);
      failures = r.failures;
      return r.rate;
    }],
  ];
  const active = variants.filter(([name]) => !ONLY || ONLY.includes(name) || name === 'count');
  const results: Record<string, number[]> = Object.fromEntries(active.map(([name]) => [name, []]));
  let failures = 0;
  for (let run = 0; run < RUNS; run++) {
    // interleave the variants so the shared machine's noise hits them alike
    for (const [name, , fn] of active) results[name].push(await fn());
  }
  await server.stop();

  const s: Record<string, Summary> = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)]));
  const limit = s.count.median;
  // each run's variant against that run's counting client: steadier than the ratio of the medians
  const perRun = (name: string) => summarize(results[name].map((v, i) => v / results.count[i]));
  const rows = active.map(([name, label]) => {
    const v = s[name];
    return [label, fmt(v.median), `${fmt(v.min)}–${fmt(v.max)}`, `${fmt((v.median / limit) * 100, 1)} %`, `${fmt(perRun(name).median * 100, 1)} %`];
  });
  printTable(`Ingest: ${fmt(N)} events (${fmt(bytes / 1e6, 1)} MB of frames) over TLS on loopback, ${RUNS} runs, events/s`, ['variant', 'median', 'range', 'of limit', 'per-run ratio'], rows);
  if (results.pipelineStore) console.log(`pipeline counted ${fmt(failures)} failures per run`);
  if (ONLY) return;
  const file = writeResult('ingest', {
    events: N,
    bytes,
    runs: RUNS,
    results: s,
    ratioPipelineToLimit: s.pipeline.median / limit,
    ratioPipelineStoreToLimit: s.pipelineStore.median / limit,
    perRunRatio: Object.fromEntries(active.map(([name]) => [name, perRun(name)])),
  });
  console.log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
