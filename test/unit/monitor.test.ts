import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HtlcMonitor, MonitorState } from '../../src/core/monitor';
import { LndSimulator, SimEngine, type GroundTruth } from '../../src/core/sim';
import type { HtlcEvent } from '../../src/core/lnd/types';
import type { StatsEngine } from '../../src/core/stats';
import { ChannelContextService, LndContextProvider } from '../../src/core/context';
import { LndClient } from '../../src/core/lnd/client';
import { until } from './wait';

function monitorFor(sim: LndSimulator, extra: Partial<ConstructorParameters<typeof HtlcMonitor>[0]> = {}): HtlcMonitor {
  return new HtlcMonitor({
    connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
    backoff: { initialMs: 50, maxMs: 400 },
    ...extra,
  });
}

/** Compares the monitor's per-channel stats with the simulator's ground truth, exactly. */
function assertMatchesTruth(stats: StatsEngine, truth: GroundTruth): void {
  let checked = 0;
  for (const [chanId, t] of Object.entries(truth.channels)) {
    const failures = t.linkFailures + t.downstream;
    const ch = stats.channel(chanId);
    if (failures === 0 && t.settles === 0) continue;
    assert.ok(ch, `channel ${chanId} missing`);
    assert.equal(ch.failedForwards, failures, `failures of ${chanId}`);
    assert.equal(ch.successfulForwards, t.settles, `settles of ${chanId}`);
    assert.equal(ch.missedFeesMsat, t.missedFeesMsat, `missed fees of ${chanId}`);
    const byReason = Object.fromEntries([...ch.failuresByReason].map(([r, s]) => [r, s.count]));
    assert.deepEqual(byReason, t.failuresByReasonKey, `reasons of ${chanId}`);
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} channels compared`);
  assert.equal(stats.channel('0'), undefined, 'no channel "0"');
  const nodeLevel = Object.values(truth.node.failuresByReasonKey).reduce((a, b) => a + b, 0);
  assert.equal(stats.node.incomingLinkFailures, nodeLevel);
  assert.equal(stats.node.failedForwards, truth.totals.linkFailures + truth.totals.downstream);
  assert.equal(stats.node.successfulForwards, truth.totals.settles);
}

describe('HtlcMonitor against the simulator (real TLS gRPC stream)', function () {
  let sim: LndSimulator;
  let monitor: HtlcMonitor | undefined;

  beforeEach(async () => {
    sim = await LndSimulator.start({ seed: 42 });
  });
  afterEach(async () => {
    await monitor?.stop();
    monitor = undefined;
    await sim.stop();
  });

  it('counts every forward outcome exactly as the ground truth says, and ignores the rest', async () => {
    const context = new ChannelContextService({ provider: new LndContextProvider(LndClient.create({ server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex })) });
    await context.refresh();
    monitor = monitorFor(sim, { resolveChannel: (id) => context.resolveBig(id) });
    const states: MonitorState[] = [];
    monitor.on('state', (s) => states.push(s.state));
    let notifications = 0;
    monitor.on('changed', () => notifications++);
    await monitor.start();
    await sim.waitForStreams(1);
    await until(() => monitor!.state === 'connected', 'connected');
    const emitted = sim.step(3000, { flush: true });
    await until(() => monitor!.counters.received >= emitted + 1 && monitor!.queued === 0, 'all events processed');
    assertMatchesTruth(monitor.stats, sim.truth());
    const c = monitor.counters;
    assert.equal(c.duplicates, 0);
    assert.equal(c.dropped, 0);
    assert.ok(c.ignored > 0, 'subscribed, final_htlc and forward_event are ignored');
    assert.equal(c.received, c.ignored + c.failures + c.successes + c.duplicates + c.malformed);
    assert.ok(notifications < c.failures + c.successes, 'notifications are coalesced per batch');
    assert.deepEqual(states.slice(0, 2), ['connecting', 'connected']);
    assert.equal(monitor.nodeInfo?.identity_pubkey, sim.identityPubkey);
    context.dispose();
  });

  it('a stream cut with a replay after the reconnect counts nothing twice', async () => {
    monitor = monitorFor(sim);
    await monitor.start();
    await sim.waitForStreams(1);
    await until(() => monitor!.state === 'connected', 'connected');
    let emitted = sim.step(800, { flush: true });
    await until(() => monitor!.counters.received >= emitted + 1 && monitor!.queued === 0, 'first half');
    sim.replayOnNextSubscribe(1500);
    assert.equal(sim.cutStreams(), 1);
    await until(() => monitor!.state === 'reconnecting', 'reconnecting');
    await until(() => monitor!.state === 'connected' && sim.liveStreams === 1, 'reconnected');
    emitted += sim.step(800, { flush: true });
    const received = () => monitor!.counters.received;
    await until(() => received() >= emitted + 2 + 1500 && monitor!.queued === 0, 'second half');
    assertMatchesTruth(monitor.stats, sim.truth({ resolveAliases: false }));
    assert.ok(monitor.counters.duplicates > 0, 'the replay was recognised');
    assert.equal(monitor.counters.reconnects, 1);
  });

  it('counts an unknown enum number under a readable key and an unknown oneof member as ignored', async () => {
    monitor = monitorFor(sim);
    await monitor.start();
    await sim.waitForStreams(1);
    const ch = sim.channels[0];
    sim.emitRaw({
      incoming_channel_id: sim.channels[1].chanId.toString(),
      outgoing_channel_id: ch.chanId.toString(),
      incoming_htlc_id: '77',
      outgoing_htlc_id: '0',
      timestamp_ns: String(BigInt(Date.now()) * 1_000_000n),
      event_type: 'FORWARD',
      link_fail_event: { info: { incoming_timelock: 1, outgoing_timelock: 1, incoming_amt_msat: '1001000', outgoing_amt_msat: '1000000' }, wire_failure: 1234, failure_detail: 999, failure_string: 'from the future' },
    });
    await until(() => (monitor!.stats.channel(ch.chanId)?.failedForwards ?? 0) === 1, 'the failure');
    const stats = monitor.stats.channel(ch.chanId)!;
    assert.deepEqual([...stats.failuresByReason.keys()], ['FAILURE_DETAIL_999']);
    assert.equal(stats.missedFeesMsat, 1000n);
    assert.equal(monitor.state, 'connected');
  });

  it('stops with the macaroon named when LND rejects it, without retrying', async () => {
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: 'ab'.repeat(40) }, backoff: { initialMs: 50 } });
    await monitor.start();
    assert.equal(monitor.state, 'failed');
    assert.equal(monitor.lastError?.kind, 'macaroon');
    assert.match(monitor.lastError!.message, /macaroon/);
    assert.equal(monitor.counters.reconnects, 0);
  });

  it('stops with "certificate" when the server is not the one in tls.cert', async () => {
    const other = await LndSimulator.start({ seed: 43 });
    try {
      monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: other.certPem, macaroonHex: sim.macaroonHex }, backoff: { initialMs: 50 } });
      await monitor.start();
      assert.equal(monitor.state, 'failed');
      assert.equal(monitor.lastError?.kind, 'certificate');
      assert.match(monitor.lastError!.message, /certificate/);
    } finally {
      await other.stop();
    }
  });

  it('explains a name that is not in the certificate, and how to fix it', async () => {
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex, tlsServerName: 'node.example.com' }, backoff: { initialMs: 50 } });
    await monitor.start();
    assert.equal(monitor.state, 'failed');
    assert.equal(monitor.lastError?.kind, 'certificate');
    assert.match(monitor.lastError!.message, /tlsextradomain|tlsextraip/);
  });

  it('names the missing permission when the macaroon lacks offchain:read', async () => {
    const noOffchain = sim.bakeMacaroon(['info:read', 'onchain:read', 'peers:read']).toString('hex');
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: noOffchain } });
    await monitor.start();
    await until(() => monitor!.state === 'failed', 'failed');
    assert.equal(monitor.lastError?.kind, 'permission');
    assert.match(monitor.lastError!.message, /offchain:read/);
  });

  it('retries while LND is starting, locked or down, with growing delays, then connects', async () => {
    await sim.setMode('starting');
    monitor = monitorFor(sim, { backoff: { initialMs: 40, maxMs: 1000, jitter: 0 } });
    const delays: number[] = [];
    const kinds: string[] = [];
    monitor.on('state', (s) => {
      if (s.state === 'reconnecting' && s.retryInMs !== undefined && s.error) {
        delays.push(s.retryInMs);
        kinds.push(s.error.kind);
      }
    });
    await monitor.start();
    await until(() => kinds.includes('starting'), 'starting seen');
    await sim.setMode('locked');
    await until(() => kinds.includes('locked'), 'locked seen');
    await sim.setMode('down');
    await until(() => kinds.includes('unreachable'), 'unreachable seen');
    await sim.setMode('ok');
    await until(() => monitor!.state === 'connected', 'connected');
    assert.ok(delays.length >= 3);
    // the delays announced, exactly (jitter 0): 40 ms doubling to the 1 s cap, whatever the error
    assert.deepEqual(delays, delays.map((_, i) => Math.min(1000, 40 * 2 ** i)), `delays grow: ${delays}`);
    assert.equal(monitor.counters.reconnects, delays.length);
  });

  it('counts and logs a listener that throws, and keeps going', async () => {
    const logged: string[] = [];
    monitor = monitorFor(sim, { logger: { debug() {}, info() {}, warn() {}, error: (m) => logged.push(m) } });
    monitor.on('changed', () => {
      throw new Error('boom from a listener');
    });
    let calls = 0;
    monitor.on('changed', () => calls++);
    await monitor.start();
    await sim.waitForStreams(1);
    const emitted = sim.step(200, { flush: true });
    await until(() => monitor!.counters.received >= emitted + 1 && monitor!.queued === 0, 'processed');
    assert.ok(calls > 0, 'the other listener still ran');
    assert.ok(monitor.counters.listenerErrors > 0);
    assert.ok(logged.some((l) => l.includes('boom from a listener')));
  });

  it('supports await using (Symbol.asyncDispose) and stops cleanly', async () => {
    {
      await using m = monitorFor(sim);
      await m.start();
      await sim.waitForStreams(1);
    }
    await until(() => sim.liveStreams === 0, 'stream closed');
  });
});

describe('HtlcMonitor without a connection', () => {
  /** Events of a seeded simulator engine, for monitor.ingest(). */
  function engineEvents(scenarios: number): HtlcEvent[] {
    const engine = new SimEngine({ seed: 21 });
    const events: HtlcEvent[] = [];
    engine.addListener((ev) => events.push(ev));
    engine.step(scenarios, { flush: true });
    return events;
  }
  /** One turn of the event loop: whatever was scheduled with setImmediate before has run. */
  const turn = () => new Promise<void>((r) => setImmediate(r));

  it('holdProcessing(): events queue up, bounded and counted, and are processed once every hold is released', async () => {
    const events = engineEvents(300);
    const m = new HtlcMonitor({ connection: () => { throw new Error('not used'); }, batchDelayMs: 0, queueLimit: 500 });
    const a = m.holdProcessing();
    const b = m.holdProcessing();
    for (const ev of events) m.ingest(ev);
    await turn();
    assert.equal(m.queued, 500, 'nothing processed while held; the queue stops at its bound');
    assert.equal(m.counters.dropped, events.length - 500);
    a.dispose();
    a.dispose(); // twice is once
    await turn();
    assert.equal(m.queued, 500, 'still held by the other');
    b.dispose();
    await until(() => m.queued === 0, 'processed after the last release');
    const c = m.counters;
    assert.equal(c.received, events.length);
    assert.equal(c.received, c.ignored + c.failures + c.successes + c.duplicates + c.malformed + c.dropped);
    assert.ok(c.failures + c.successes > 0);
  });

  it('holdProcessing() from a listener stops after that batch; stop() still processes what is queued', async () => {
    const events = engineEvents(300);
    const m = new HtlcMonitor({ connection: () => { throw new Error('not used'); }, batchDelayMs: 0, batchSize: 100 });
    let batches = 0;
    m.on('changed', () => {
      batches++;
      m.holdProcessing();
    });
    for (const ev of events) m.ingest(ev);
    await until(() => batches === 1, 'the first batch');
    // longer than any delay processLoop schedules (250 ms): had it scheduled a run, that timer fires first
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(batches, 1, 'held after it');
    assert.ok(m.queued > 0 && m.queued < events.length);
    await m.stop();
    assert.equal(m.queued, 0, 'stop() drains a held queue');
    assert.equal(m.counters.dropped, 0);
  });

  it('reports bad input as a config failure with the path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-mon-'));
    const missing = path.join(dir, 'tls.cert');
    const m = new HtlcMonitor({ connection: { server: '127.0.0.1:10009', tlsCertPath: missing, macaroonHex: 'ab' } });
    await m.start();
    assert.equal(m.state, 'failed');
    assert.equal(m.lastError?.kind, 'config');
    assert.ok(m.lastError!.message.includes(missing));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
