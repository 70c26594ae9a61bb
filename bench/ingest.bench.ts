/**
 * Ingest: N FORWARD events over TLS from a Go-like server (pre-encoded frames, as LND's Go server
 * writes them). The limit is a bare grpc-js client that only counts messages; against it, in the
 * same run: proto-loader's decode, our decoder alone, and the full pipeline (client, decoder,
 * normaliser, stats, heap, and the store's batching when it is present).
 */
import { generateTlsCert } from '../src/core/sim/certs';
import { LndClient } from '../src/core/lnd/client';
import { loadLndProtos } from '../src/core/lnd/protos';
import { decodeHtlcEvent } from '../src/core/lnd/htlcDecoder';
import { HtlcMonitor } from '../src/core/monitor';
import { GoLikeServer } from './goLikeServer';
import { forwardMix } from './events';
import { fmt, printTable, RUNS, summarize, writeResult, Summary } from './util';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);

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
  const monitor = new HtlcMonitor({ connection: makeClient, backoff: { initialMs: 60_000 } });
  let storeClose: (() => Promise<void>) | undefined;
  if (withStore) storeClose = await attachStoreIfPresent(monitor);
  const t0 = performance.now();
  const done = new Promise<number>((resolve) => {
    monitor.on('changed', () => {
      if (monitor.counters.received >= N + 1 && monitor.queued === 0) resolve(performance.now());
    });
  });
  await monitor.start();
  const t1 = await done;
  const failures = monitor.counters.failures;
  await monitor.stop();
  await storeClose?.();
  return { rate: N / ((t1 - t0) / 1000), failures };
}

/** The store (issue 3) batches writes; include its per-event cost when it exists. */
async function attachStoreIfPresent(monitor: HtlcMonitor): Promise<(() => Promise<void>) | undefined> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../src/core/store');
    const os = await import('node:os');
    const path = await import('node:path');
    const fs = await import('node:fs');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
    const store = await mod.HtlcStore.open({ path: path.join(dir, 'bench.sqlite'), flushIntervalMs: 60_000 });
    const sub = store.attach(monitor);
    return async () => {
      sub.dispose();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
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

  const results: Record<string, number[]> = { count: [], protoLoader: [], ourDecoder: [], pipeline: [], pipelineStore: [] };
  let failures = 0;
  for (let run = 0; run < RUNS; run++) {
    // interleave the variants so the shared machine's noise hits them alike
    for (const [name, fn] of [
      ['count', () => streamRate(makeClient(), (b) => b)],
      ['protoLoader', () => streamRate(makeClient(), protoLoader)],
      ['ourDecoder', () => streamRate(makeClient(), decodeHtlcEvent)],
      ['pipeline', async () => (await pipelineRate(makeClient, false)).rate],
      ['pipelineStore', async () => {
        const r = await pipelineRate(makeClient, true);
        failures = r.failures;
        return r.rate;
      }],
    ] as const) {
      results[name].push(await fn());
    }
  }
  await server.stop();

  const s: Record<string, Summary> = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(v)]));
  const limit = s.count.median;
  const rows = [
    ['bare client, counting (the limit)', s.count],
    ['client + proto-loader decode (longs: String)', s.protoLoader],
    ['client + our HtlcEvent decoder', s.ourDecoder],
    ['full pipeline (decode, normalise, stats, heap)', s.pipeline],
    ['full pipeline + store batching', s.pipelineStore],
  ].map(([label, x]) => {
    const v = x as Summary;
    return [label as string, fmt(v.median), `${fmt(v.min)}–${fmt(v.max)}`, `${fmt((v.median / limit) * 100, 1)} %`];
  });
  printTable(`Ingest: ${fmt(N)} events (${fmt(bytes / 1e6, 1)} MB of frames) over TLS on loopback, ${RUNS} runs, events/s`, ['variant', 'median', 'range', 'of limit'], rows);
  console.log(`pipeline counted ${fmt(failures)} failures per run`);
  const file = writeResult('ingest', { events: N, bytes, runs: RUNS, results: s, ratioPipelineToLimit: s.pipeline.median / limit, ratioPipelineStoreToLimit: s.pipelineStore.median / limit });
  console.log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
