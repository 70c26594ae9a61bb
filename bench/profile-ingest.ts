/**
 * The ingest bench's pipeline variant alone (TLS gRPC from the Go-like server into HtlcMonitor), for
 * `node --cpu-prof --import tsx bench/profile-ingest.ts` (BENCH_RUNS passes; BENCH_STORE=1 attaches a store).
 */
import { generateTlsCert } from '../src/core/sim/certs';
import { LndClient } from '../src/core/lnd/client';
import { HtlcMonitor } from '../src/core/monitor';
import { HtlcStore } from '../src/core/store';
import { GoLikeServer } from './goLikeServer';
import { forwardMix } from './events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function main() {
  const tls = await generateTlsCert();
  const server = new GoLikeServer({ cert: tls.certPem, key: tls.keyPem });
  server.setEvents(forwardMix(N, 500));
  const address = await server.start();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pi-'));
  for (let run = 0; run < RUNS; run++) {
    const monitor = new HtlcMonitor({ connection: () => LndClient.create({ server: address, tlsCertPem: tls.certPem, macaroonHex: 'ab'.repeat(32) }), backoff: { initialMs: 60_000 } });
    const store = process.env.BENCH_STORE ? await HtlcStore.open({ path: path.join(tmp, `s${run}.sqlite`), flushIntervalMs: 60_000 }) : undefined;
    const sub = store?.attach(monitor);
    const t0 = performance.now();
    const done = new Promise<number>((resolve) => {
      monitor.on('changed', () => {
        if (monitor.counters.received >= N + 1 && monitor.queued === 0) resolve(performance.now());
      });
    });
    await monitor.start();
    const t1 = await done;
    console.log(`run ${run}: ${Math.round(N / ((t1 - t0) / 1000))} ev/s`);
    await monitor.stop();
    sub?.dispose();
    await store?.close();
  }
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
