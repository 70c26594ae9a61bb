import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { HistoryBackfill, toOutcome } from '../../src/core/backfill';
import { HtlcMonitor } from '../../src/core/monitor';
import { LndSimulator, NO_HTLC_STREAM_PERMISSIONS, type GroundTruth } from '../../src/core/sim';
import { StatsEngine } from '../../src/core/stats';
import { LndClient } from '../../src/core/lnd/client';
import { SettleMatcher } from '../../src/core/settleMatch';
import { HtlcStore } from '../../src/core/store/store';
import type { ForwardingEvent, HtlcEvent } from '../../src/core/lnd/types';
import { rmDir, tmpDir } from './store-helpers';
import { sleep, until } from './wait';

/** Settles per channel and in total equal the ground truth (successes only: failures in a gap are lost for good). */
function assertSettlesMatch(stats: StatsEngine, truth: GroundTruth): void {
  let checked = 0;
  for (const [chanId, t] of Object.entries(truth.channels)) {
    if (t.settles === 0) continue;
    assert.equal(stats.channel(chanId)?.successfulForwards ?? 0, t.settles, `settles of ${chanId}`);
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} channels compared`);
  assert.equal(stats.node.successfulForwards, truth.totals.settles, 'settles in total');
}

describe('ForwardingHistory backfill against the simulator', function () {
  let sim: LndSimulator;
  let monitor: HtlcMonitor | undefined;
  let backfill: HistoryBackfill | undefined;

  afterEach(async () => {
    backfill?.dispose();
    await monitor?.stop();
    monitor = backfill = undefined;
    await sim?.stop();
  });

  function start(macaroonHex = sim.macaroonHex, extra: ConstructorParameters<typeof HistoryBackfill>[1] = {}) {
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex }, backoff: { initialMs: 50, maxMs: 200 } });
    backfill = new HistoryBackfill(monitor, { settlePassDelayMs: 300, pollMs: 200, ...extra });
    return { monitor, backfill };
  }

  it('the simulator serves ForwardingHistory consistent with the settles it streamed', async () => {
    sim = await LndSimulator.start({ seed: 3 });
    const streamed: HtlcEvent[] = [];
    sim.on('event', (ev: HtlcEvent) => streamed.push(ev));
    sim.step(2000, { flush: true });
    const settles = streamed.filter((e) => e.event === 'settle_event' && e.event_type === 'FORWARD');
    const client = LndClient.create({ server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex });
    try {
      const res = await client.forwardingHistory({ start_time: '0', num_max_events: 50_000 });
      assert.equal(res.forwarding_events.length, settles.length);
      assert.equal(res.forwarding_events.length, sim.truth({ resolveAliases: false }).totals.settles);
      for (let i = 0; i < settles.length; i++) {
        const h = res.forwarding_events[i]!;
        const s = settles[i]!;
        assert.equal(h.timestamp_ns, s.timestamp_ns);
        assert.equal(h.chan_id_in, s.incoming_channel_id);
        assert.equal(h.chan_id_out, s.outgoing_channel_id);
        assert.equal(h.incoming_htlc_id, s.incoming_htlc_id);
        assert.equal(h.outgoing_htlc_id, s.outgoing_htlc_id);
        assert.equal(BigInt(h.amt_in_msat) - BigInt(h.amt_out_msat), BigInt(h.fee_msat));
      }
      // paging: index_offset / last_offset_index walk the same list
      const page1 = await client.forwardingHistory({ start_time: '0', num_max_events: 100 });
      const page2 = await client.forwardingHistory({ start_time: '0', index_offset: page1.last_offset_index, num_max_events: 100 });
      assert.equal(page1.last_offset_index, 100);
      assert.equal(page2.forwarding_events[0]!.timestamp_ns, res.forwarding_events[100]!.timestamp_ns);
    } finally {
      client.close();
    }
  });

  it('after a disconnect, counts the settles of the gap from history: none missed, none twice', async () => {
    sim = await LndSimulator.start({ seed: 11 });
    const { monitor: m, backfill: b } = start();
    const passes: string[] = [];
    b.on('pass', (p) => passes.push(`${p.reason}:${p.applied}`));
    await m.start();
    await until(() => m.state === 'connected', 'connected');
    const first = sim.step(600);
    await until(() => m.queued === 0 && m.counters.received >= first + 1, 'first part');
    await sim.setMode('down');
    await until(() => m.state === 'reconnecting', 'reconnecting');
    sim.step(900); // the gap: nothing streamed
    await sim.setMode('ok');
    await until(() => m.state === 'connected' && sim.liveStreams === 1, 'reconnected');
    const later = sim.step(500, { flush: true });
    await until(() => passes.some((p) => p.startsWith('settle')), 'the second pass');
    await b.idle();
    await until(() => m.queued === 0 && m.counters.received >= first + later + 2, 'drained');
    const truth = sim.truth({ resolveAliases: false });
    assertSettlesMatch(m.stats, truth);
    assert.ok(m.counters.backfilled > 0, 'the gap had settles');
    assert.ok(m.stats.node.failedForwards < truth.totals.linkFailures + truth.totals.downstream, 'failures of the gap are not in history');
    assert.ok(b.counters.duplicates > 0, 'the overlap was recognised');
  });

  it('after a restart, starts from the store and counts nothing the store has', async () => {
    sim = await LndSimulator.start({ seed: 5 });
    const dir = tmpDir('htlc-backfill-');
    const file = path.join(dir, 'node.sqlite');
    try {
      let store = await HtlcStore.open(file, { flushIntervalMs: 0 });
      const { monitor: m1, backfill: b1 } = start(sim.macaroonHex, { store, toleranceMs: 200 });
      let sub = store.attach(m1);
      await m1.start();
      await until(() => m1.state === 'connected', 'connected');
      const first = sim.step(700, { flush: true });
      await until(() => m1.queued === 0 && m1.counters.received >= first + 1, 'first run');
      await m1.stop();
      b1.dispose();
      sub.dispose();
      await store.close();

      await sleep(400); // past the tolerance: the store's boundary is matched by time
      sim.step(800, { flush: true }); // while we are not running

      store = await HtlcStore.open(file, { flushIntervalMs: 0 });
      const stats = new StatsEngine();
      store.restoreInto(stats);
      monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex }, stats });
      backfill = new HistoryBackfill(monitor, { store, settlePassDelayMs: 0, toleranceMs: 200 });
      sub = store.attach(monitor);
      await monitor.start();
      await until(() => monitor!.state === 'connected', 'connected again');
      await until(() => backfill!.counters.passes === 1, 'backfilled');
      const later = sim.step(300, { flush: true });
      await until(() => monitor!.queued === 0 && monitor!.counters.received >= later + 1, 'drained');
      assertSettlesMatch(monitor.stats, sim.truth({ resolveAliases: false }));
      assert.ok(backfill.counters.applied > 0);
      assert.ok(backfill.counters.duplicates > 0, 'entries before the restart were recognised');
      sub.dispose();
      await store.close();
    } finally {
      rmDir(dir);
    }
  });

  it('falls back to polling ForwardingHistory when SubscribeHtlcEvents is refused, and says so', async () => {
    sim = await LndSimulator.start({ seed: 9 });
    // on LND only a macaroon scoped to single calls can read ForwardingHistory but not the stream
    const { monitor: m, backfill: b } = start(sim.bakeMacaroon(NO_HTLC_STREAM_PERMISSIONS).toString('hex'));
    const modes: string[] = [];
    m.on('state', (s) => modes.push(`${s.state}/${s.mode ?? ''}`));
    await m.start();
    await until(() => m.mode === 'history-only', 'history-only');
    assert.equal(m.state, 'connected');
    assert.equal(m.modeReason?.kind, 'permission');
    assert.match(m.modeReason!.message, /offchain:read/);
    assert.ok(modes.includes('connected/history-only'));
    sim.step(1000, { flush: true });
    const truth = sim.truth({ resolveAliases: false });
    await until(() => m.stats.node.successfulForwards === truth.totals.settles, 'polled');
    // two more polls over the same entries: nothing counted twice
    const polls = b.counters.passes;
    await until(() => b.counters.passes >= polls + 2, 'two more polls');
    await b.idle();
    assertSettlesMatch(m.stats, truth);
    assert.equal(m.stats.node.failedForwards, 0, 'failures are not visible');
  });

  it('falls back the same way on an LND without the router sub-server (SubscribeHtlcEvents unimplemented)', async () => {
    sim = await LndSimulator.start({ seed: 9, routerRpc: false });
    const { monitor: m } = start(sim.readonlyMacaroonHex);
    await m.start();
    await until(() => m.mode === 'history-only', 'history-only');
    assert.equal(m.modeReason?.kind, 'unimplemented');
    assert.match(m.modeReason!.message, /SubscribeHtlcEvents.*unknown service routerrpc\.Router/);
    sim.step(500, { flush: true });
    const truth = sim.truth({ resolveAliases: false });
    await until(() => m.stats.node.successfulForwards === truth.totals.settles, 'polled', 5000);
  });

  it('stops with both reasons when ForwardingHistory is refused too', async () => {
    sim = await LndSimulator.start({ seed: 9 });
    const { monitor: m } = start(sim.bakeMacaroon(['info:read', 'onchain:read', 'peers:read']).toString('hex'));
    await m.start();
    await until(() => m.state === 'failed', 'failed');
    assert.equal(m.lastError?.kind, 'permission');
    assert.match(m.lastError!.message, /SubscribeHtlcEvents.*ForwardingHistory/s);
  });

  it('without the backfill, a refused stream still fails as before', async () => {
    sim = await LndSimulator.start({ seed: 9 });
    monitor = new HtlcMonitor({ connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.bakeMacaroon(NO_HTLC_STREAM_PERMISSIONS).toString('hex') } });
    await monitor.start();
    await until(() => monitor!.state === 'failed', 'failed');
    assert.equal(monitor.mode, 'stream');
  });
});

// ------------------------------------------------------------------------------------------------
// The matching rule without htlc ids (ForwardingHistory before LND 0.20), with hand-made events.

const T0 = 1_750_000_000_000; // ms

function settle(inChan: string, outChan: string, inHtlc: number, tsMs: number): HtlcEvent {
  return {
    incoming_channel_id: inChan,
    outgoing_channel_id: outChan,
    incoming_htlc_id: String(inHtlc),
    outgoing_htlc_id: String(inHtlc + 1000),
    timestamp_ns: `${tsMs}000000`,
    event_type: 'FORWARD',
    settle_event: { preimage: Buffer.alloc(32) },
    event: 'settle_event',
  };
}

function forward(inChan: string, outChan: string, inHtlc: number, tsMs: number, inAmt: number, outAmt: number): HtlcEvent {
  return {
    ...settle(inChan, outChan, inHtlc, tsMs),
    settle_event: undefined,
    forward_event: { info: { incoming_timelock: 0, outgoing_timelock: 0, incoming_amt_msat: String(inAmt), outgoing_amt_msat: String(outAmt) } },
    event: 'forward_event',
  };
}

function hist(inChan: string, outChan: string, tsMs: number, inAmt: number, outAmt: number, inHtlc?: number): ForwardingEvent {
  return {
    timestamp: String(Math.floor(tsMs / 1000)),
    chan_id_in: inChan,
    chan_id_out: outChan,
    amt_in: String(Math.floor(inAmt / 1000)),
    amt_out: String(Math.floor(outAmt / 1000)),
    fee: String(Math.floor((inAmt - outAmt) / 1000)),
    fee_msat: String(inAmt - outAmt),
    amt_in_msat: String(inAmt),
    amt_out_msat: String(outAmt),
    timestamp_ns: `${tsMs}000123`,
    peer_alias_in: '',
    peer_alias_out: '',
    ...(inHtlc === undefined ? {} : { incoming_htlc_id: String(inHtlc), outgoing_htlc_id: String(inHtlc + 1000) }),
  };
}

describe('backfill matching without htlc ids', () => {
  let monitor: HtlcMonitor;
  let backfill: HistoryBackfill;
  beforeEach(() => {
    monitor = new HtlcMonitor({ connection: () => { throw new Error('not used'); } });
    backfill = new HistoryBackfill(monitor, { toleranceMs: 2000 });
  });
  afterEach(() => backfill.dispose());

  function stream(...evs: HtlcEvent[]): void {
    for (const e of evs) monitor.ingest(e);
    monitor.drainNow();
  }

  it('matches by channels, amounts and time within the tolerance (LND stamps both a little apart)', () => {
    stream(forward('1', '2', 7, T0, 1_001_000, 1_000_000), settle('1', '2', 7, T0 + 5));
    const r = backfill.countEntries([hist('1', '2', T0 + 40, 1_001_000, 1_000_000)], 0, Infinity);
    assert.deepEqual([r.applied, r.duplicates], [0, 1]);
    assert.equal(monitor.stats.node.successfulForwards, 1);
  });

  it('a stream settle without amounts (its forward_event was before we subscribed) matches on channels and time alone', () => {
    stream(settle('1', '2', 7, T0));
    assert.equal(monitor.stats.channel('2')!.earnedFeesMsat, 0n);
    const r = backfill.countEntries([hist('1', '2', T0 + 900, 2_002_000, 2_000_000)], 0, Infinity);
    assert.deepEqual([r.applied, r.duplicates], [0, 1]);
  });

  it('different amounts, other channels or more than the tolerance apart are other forwards', () => {
    stream(forward('1', '2', 7, T0, 1_001_000, 1_000_000), settle('1', '2', 7, T0));
    const r = backfill.countEntries(
      [hist('1', '2', T0 + 10, 5_005_000, 5_000_000), hist('3', '2', T0 + 10, 1_001_000, 1_000_000), hist('1', '2', T0 + 2500, 1_001_000, 1_000_000)],
      0,
      Infinity,
    );
    assert.deepEqual([r.applied, r.duplicates], [3, 0]);
    assert.equal(monitor.stats.node.successfulForwards, 4);
    assert.equal(monitor.stats.channel('2')!.earnedFeesMsat, 1_000n + 5_000n + 1_000n + 1_000n);
  });

  it('is one-to-one: two equal forwards in history, one seen by the stream, count two', () => {
    stream(settle('1', '2', 7, T0));
    const r = backfill.countEntries([hist('1', '2', T0 + 100, 1_001_000, 1_000_000), hist('1', '2', T0 + 300, 1_001_000, 1_000_000)], 0, Infinity);
    assert.deepEqual([r.applied, r.duplicates], [1, 1]);
    assert.equal(monitor.stats.node.successfulForwards, 2);
  });

  it('an entry seen again in a later pass is not counted again', () => {
    const e = hist('1', '2', T0, 1_001_000, 1_000_000);
    assert.equal(backfill.countEntries([e], 0, Infinity).applied, 1);
    assert.equal(backfill.countEntries([{ ...e }], 0, Infinity).applied, 0);
    assert.equal(monitor.stats.node.successfulForwards, 1);
  });

  it('an entry counted from history first makes the late stream settle a duplicate', () => {
    const r = backfill.countEntries([hist('1', '2', T0, 1_001_000, 1_000_000)], 0, T0 - 1000);
    assert.equal(r.applied, 1);
    stream(forward('1', '2', 9, T0 - 20, 1_001_000, 1_000_000), settle('1', '2', 9, T0 + 3));
    assert.equal(monitor.stats.node.successfulForwards, 1);
    assert.equal(monitor.counters.duplicates, 1);
  });

  it('with htlc ids (LND 0.20+) the circuit decides, both ways', () => {
    stream(settle('1', '2', 7, T0));
    const r = backfill.countEntries([hist('1', '2', T0 + 1, 1_001_000, 1_000_000, 7), hist('1', '2', T0 + 2, 1_001_000, 1_000_000, 8)], 0, Infinity);
    assert.deepEqual([r.applied, r.duplicates], [1, 1]);
    stream(settle('1', '2', 8, T0 + 2));
    assert.equal(monitor.stats.node.successfulForwards, 2);
  });

  it('entries before the start of the gap are skipped', () => {
    const r = backfill.countEntries([hist('1', '2', T0 - 10_000, 1_001_000, 1_000_000)], T0 - 2000, Infinity);
    assert.equal(r.applied, 0);
  });

  it('reads old LND entries without msat fields or ids', () => {
    const o = toOutcome({ ...hist('1', '2', T0, 1_001_000, 1_000_000), amt_in_msat: '0', amt_out_msat: '0', fee_msat: '0', timestamp_ns: '0' });
    assert.equal(o.incomingAmtMsat, 1_001_000n);
    assert.equal(o.feeMsat, 1_000n);
    assert.equal(o.timestampMs, Math.floor(T0 / 1000) * 1000);
  });
});

describe('SettleMatcher', () => {
  it('consumes the nearest entry in time and expires by count', () => {
    const m = new SettleMatcher({ toleranceMs: 1000, maxEntries: 3 });
    const ref = (t: number) => ({ incomingChanId: 1n, outgoingChanId: 2n, timestampMs: t, incomingAmtMsat: 0n, outgoingAmtMsat: 0n, amountsKnown: false });
    m.add(ref(100));
    m.add(ref(600));
    assert.equal(m.size, 2);
    assert.ok(m.take(ref(550)));
    assert.ok(m.take(ref(550))); // the other one, 450 ms away
    assert.ok(!m.take(ref(550)));
    for (let i = 0; i < 5; i++) m.add(ref(i));
    assert.equal(m.size, 3);
  });
});
