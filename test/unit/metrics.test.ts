import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { HtlcMonitor } from '../../src/core/monitor';
import { MonitorMetrics, serveMetrics, type MetricsServer } from '../../src/core/metrics';
import { HistoryBackfill } from '../../src/core/backfill';
import { LndSimulator } from '../../src/core/sim';
import { failure, success } from './store-helpers';
import { parseExposition } from './prom-parse';
import { until } from './wait';

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

const offline = () => new HtlcMonitor({ connection: () => { throw new Error('offline'); } });

describe('Prometheus metrics', () => {
  it('folds channels beyond the top N by missed fees into "other", and the sums still add up', async () => {
    const monitor = offline();
    const reasons = ['TEMPORARY_CHANNEL_FAILURE', 'FEE_INSUFFICIENT', 'UNKNOWN_NEXT_PEER'];
    for (let ch = 1; ch <= 120; ch++) {
      for (let k = 0; k < 3; k++) {
        monitor.stats.apply(failure({ timestampMs: 1_000_000 + k, outgoingChanId: BigInt(ch) << 40n, incomingAmtMsat: 1_000_000n + BigInt(ch) * 1000n, outgoingAmtMsat: 1_000_000n, reason: reasons[(ch + k) % 3] }));
      }
      monitor.stats.apply(success({ timestampMs: 1_000_100, outgoingChanId: BigInt(ch) << 40n }));
    }
    const metrics = new MonitorMetrics(monitor, { topChannels: 50, aliasOf: (id) => (id === String(120n << 40n) ? 'evil "alias"\\\nname' : undefined) });
    const { types, samples } = parseExposition(await metrics.metrics());
    assert.equal(types.get('htlc_monitor_failures_total'), 'counter');
    const fails = samples.filter((s) => s.name === 'htlc_monitor_failures_total');
    const channels = new Set(fails.map((s) => s.labels.channel));
    assert.equal(channels.size, 51, 'top 50 + other');
    assert.ok(channels.has('other'));
    // the top 50 are the channels with the most missed fees (the highest ids here)
    assert.ok(channels.has('120x0x0') && channels.has('71x0x0') && !channels.has('70x0x0'));
    assert.equal(fails.reduce((a, s) => a + s.value, 0), monitor.stats.node.failedForwards);
    const missed = samples.filter((s) => s.name === 'htlc_monitor_missed_fees_msat_total');
    assert.equal(missed.reduce((a, s) => a + s.value, 0), Number(monitor.stats.node.missedFeesMsat));
    const ok = samples.filter((s) => s.name === 'htlc_monitor_successes_total');
    assert.equal(ok.reduce((a, s) => a + s.value, 0), 120);
    assert.equal(fails.find((s) => s.labels.channel === '120x0x0')!.labels.alias, 'evil "alias"\\\nname');
    for (const name of ['events_received_total', 'events_ignored_total', 'events_duplicates_total', 'events_dropped_total', 'listener_errors_total', 'reconnects_total', 'last_event_age_seconds', 'connection_state', 'history_only']) {
      assert.ok(types.has(`htlc_monitor_${name}`), name);
    }
    const state = samples.filter((s) => s.name === 'htlc_monitor_connection_state');
    assert.deepEqual(state.filter((s) => s.value === 1).map((s) => s.labels.state), ['idle']);
    metrics.dispose();
  });

  it('reads the stats at scrape time, nothing per event', async () => {
    const monitor = offline();
    const metrics = new MonitorMetrics(monitor);
    const before = parseExposition(await metrics.metrics()).samples.find((s) => s.name === 'htlc_monitor_node_failures_total')!.value;
    monitor.stats.apply(failure({ timestampMs: 5 }));
    const after = parseExposition(await metrics.metrics()).samples.find((s) => s.name === 'htlc_monitor_node_failures_total')!.value;
    assert.deepEqual([before, after], [0, 1]);
    metrics.dispose();
  });

  it('reports the store: flush durations (a histogram), size and rows', async () => {
    const monitor = offline();
    const listeners: Record<string, (x: never) => void> = {};
    const store = {
      sizes: { rawFailures: 3, rawSuccesses: 2, fileBytes: 4096, pending: 1 },
      on: (ev: string, l: (x: never) => void) => ((listeners[ev] = l), { dispose() {} }),
    };
    const metrics = new MonitorMetrics(monitor, { store: store as never });
    listeners.flushed!({ durationMs: 30, bytes: 4096 } as never);
    const { types, samples } = parseExposition(await metrics.metrics());
    assert.equal(types.get('htlc_monitor_store_flush_duration_seconds'), 'histogram');
    assert.equal(samples.find((s) => s.name === 'htlc_monitor_store_flush_duration_seconds_count')!.value, 1);
    assert.equal(samples.find((s) => s.name === 'htlc_monitor_store_size_bytes')!.value, 4096);
    assert.equal(samples.find((s) => s.name === 'htlc_monitor_store_rows' && s.labels.table === 'failures')!.value, 3);
    metrics.dispose();
  });
});

describe('/metrics and /healthz over HTTP (simulator)', function () {
  let sim: LndSimulator;
  let monitor: HtlcMonitor;
  let server: MetricsServer | undefined;
  let metrics: MonitorMetrics | undefined;
  let backfill: HistoryBackfill | undefined;
  afterEach(async () => {
    await server?.close();
    metrics?.dispose();
    backfill?.dispose();
    await monitor?.stop();
    await sim.stop();
    server = metrics = backfill = undefined;
  });

  it('/healthz is 200 while the stream is connected, 503 with the reason when it goes down, 200 again after', async () => {
    sim = await LndSimulator.start({ seed: 2 });
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex }, backoff: { initialMs: 50, maxMs: 200 } });
    // the metrics' clock, stopped when the event age is read: the age is then known exactly
    let stoppedAt: number | undefined;
    metrics = new MonitorMetrics(monitor, { now: () => stoppedAt ?? Date.now() });
    server = await serveMetrics(metrics, '127.0.0.1', 0);
    const base = `http://${server.address}`;
    let h = await get(`${base}/healthz`);
    assert.equal(h.status, 503);
    assert.match(JSON.parse(h.body).reason, /not connected.*idle/);
    await monitor.start();
    await until(() => monitor.state === 'connected', 'connected');
    h = await get(`${base}/healthz`);
    assert.equal(h.status, 200, h.body);
    assert.match(h.type, /application\/json/);
    assert.equal(JSON.parse(h.body).status, 'ok');
    const emitted = sim.step(300, { flush: true });
    await until(() => monitor.counters.received >= emitted + 1 && monitor.queued === 0, 'events');
    stoppedAt = monitor.lastEventAt + 2500;
    const m = await get(`${base}/metrics`);
    stoppedAt = undefined;
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    const { samples } = parseExposition(m.body);
    assert.equal(samples.find((s) => s.name === 'htlc_monitor_events_received_total')!.value, monitor.counters.received);
    assert.equal(samples.find((s) => s.name === 'htlc_monitor_last_event_age_seconds')!.value, 2.5, 'seconds since the last event');

    await sim.setMode('down');
    await until(() => monitor.state === 'reconnecting', 'reconnecting');
    h = await get(`${base}/healthz`);
    assert.equal(h.status, 503);
    assert.match(JSON.parse(h.body).reason, /reconnecting/);
    const t = await get(`${base}/healthz?format=text`);
    assert.match(t.body, /^unhealthy: not connected/);
    await sim.setMode('ok');
    await until(() => monitor.state === 'connected', 'connected again');
    assert.equal((await get(`${base}/healthz`)).status, 200);
    assert.equal((await get(`${base}/nope`)).status, 404);
  });

  it('/healthz is 503 in history-only mode: failures are not visible', async () => {
    sim = await LndSimulator.start({ seed: 2, routerRpc: false });
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.readonlyMacaroonHex } });
    backfill = new HistoryBackfill(monitor, { pollMs: 100_000 });
    metrics = new MonitorMetrics(monitor);
    await monitor.start();
    await until(() => monitor.mode === 'history-only', 'history-only');
    const h = metrics.health();
    assert.equal(h.healthy, false);
    assert.match(h.reason, /history-only.*failures are not visible/);
    const { samples } = parseExposition(await metrics.metrics());
    assert.equal(samples.find((s) => s.name === 'htlc_monitor_history_only')!.value, 1);
  });

  it('with a silence bound, /healthz turns 503 after that long without an event', async () => {
    let now = 1_000_000;
    monitor = offline();
    sim = await LndSimulator.start({ seed: 1 });
    metrics = new MonitorMetrics(monitor, { maxSilenceMs: 60_000, now: () => now });
    Object.defineProperty(monitor, 'state', { get: () => 'connected' });
    Object.defineProperty(monitor, 'lastEventAt', { get: () => 1_000_000 });
    assert.equal(metrics.health().healthy, true);
    now += 61_000;
    assert.match(metrics.health().reason, /no HTLC event for 61 s/);
  });
});
