// Helpers of the fault and security suites (test/unit/faults.test.ts, security.test.ts).
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { HtlcMonitor, type MonitorOptions, type StateChange } from '../../src/core/monitor';
import type { GroundTruth, LndSimulator } from '../../src/core/sim';
import type { StatsEngine } from '../../src/core/stats';
import { main } from '../../src/cli/cli';
import { until, WAIT_MS } from './wait';

export { sleep, until } from './wait';

export function monitorFor(sim: LndSimulator, extra: Partial<MonitorOptions> = {}): HtlcMonitor {
  return new HtlcMonitor({
    connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
    backoff: { initialMs: 50, maxMs: 400, jitter: 0 },
    ...extra,
  });
}

/** Every state change with the time it was seen and, for reconnecting, the delay announced. */
export interface Seen extends StateChange {
  at: number;
  delayMs?: number;
}
export function recordStates(m: HtlcMonitor): Seen[] {
  const seen: Seen[] = [];
  // the delay as announced, not retryAt minus our clock: that difference shrinks by however long
  // the notification took, which on a loaded machine is more than a millisecond or two
  m.on('state', (s) => seen.push({ ...s, at: Date.now(), delayMs: s.retryInMs }));
  return seen;
}

/** Every message read was accounted for exactly once. */
export function assertAccounted(m: HtlcMonitor): void {
  const c = m.counters;
  assert.equal(c.received, c.ignored + c.failures + c.successes + c.duplicates + c.malformed + c.dropped + m.queued, `accounting: ${JSON.stringify(c)}`);
}

/**
 * Compares the monitor's stats with the simulator's ground truth exactly: per channel (failures,
 * settles, missed fees, reasons) and per node. Returns the counts compared (for the report).
 */
export function assertMatchesTruth(stats: StatsEngine, truth: GroundTruth, minChannels = 3): { failures: number; settles: number; channels: number } {
  let checked = 0;
  for (const [chanId, t] of Object.entries(truth.channels)) {
    const failures = t.linkFailures + t.downstream;
    if (failures === 0 && t.settles === 0) continue;
    const ch = stats.channel(chanId);
    assert.ok(ch, `channel ${chanId} missing`);
    assert.equal(ch.failedForwards, failures, `failures of ${chanId} (lost or doubled)`);
    assert.equal(ch.successfulForwards, t.settles, `settles of ${chanId} (lost or doubled)`);
    assert.equal(ch.missedFeesMsat, t.missedFeesMsat, `missed fees of ${chanId}`);
    const byReason = Object.fromEntries([...ch.failuresByReason].map(([r, s]) => [r, s.count]));
    assert.deepEqual(byReason, t.failuresByReasonKey, `reasons of ${chanId}`);
    checked++;
  }
  assert.ok(checked >= minChannels, `only ${checked} channels compared`);
  const nodeLevel = Object.values(truth.node.failuresByReasonKey).reduce((a, b) => a + b, 0);
  assert.equal(stats.node.incomingLinkFailures, nodeLevel, 'node-level failures');
  assert.equal(stats.node.failedForwards, truth.totals.linkFailures + truth.totals.downstream, 'node failures (lost or doubled)');
  assert.equal(stats.node.successfulForwards, truth.totals.settles, 'node settles (lost or doubled)');
  return { failures: stats.node.failedForwards, settles: stats.node.successfulForwards, channels: checked };
}

/** Waits until the monitor has read at least `n` messages and processed its queue. */
export function drained(m: HtlcMonitor, n: number, what = `${n} messages processed`, timeoutMs = WAIT_MS): Promise<void> {
  return until(() => m.counters.received >= n && m.queued === 0, what, timeoutMs);
}

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const t0 = Date.now();
  const code = await main(args, { stdout, stderr });
  return { code, out: stdout.text, err: stderr.text, ms: Date.now() - t0 };
}

// ------------------------------------------------------------------ protobuf by hand (emitRawBytes)

export function varint(n: bigint | number): Buffer {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // int32/int64 negatives are 10-byte varints
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
/** A varint field. */
export function pbVarint(field: number, value: bigint | number): Buffer {
  return Buffer.concat([varint((field << 3) | 0), varint(value)]);
}
/** A length-delimited field (message, bytes, string). */
export function pbBytes(field: number, data: Buffer | string): Buffer {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
}

/** routerrpc.HtlcEvent field numbers (router.proto). */
export const HTLC_EVENT = {
  incoming_channel_id: 1,
  outgoing_channel_id: 2,
  incoming_htlc_id: 3,
  outgoing_htlc_id: 4,
  timestamp_ns: 5,
  event_type: 6,
  forward_event: 7,
  forward_fail_event: 8,
  settle_event: 9,
  link_fail_event: 10,
  subscribed_event: 11,
  final_htlc_event: 12,
} as const;
/** HtlcEvent.EventType FORWARD. */
export const EVENT_TYPE_FORWARD = 3;

export function htlcHeader(inChan: bigint, outChan: bigint, inHtlc: bigint, eventType: number): Buffer {
  return Buffer.concat([
    pbVarint(HTLC_EVENT.incoming_channel_id, inChan),
    pbVarint(HTLC_EVENT.outgoing_channel_id, outChan),
    pbVarint(HTLC_EVENT.incoming_htlc_id, inHtlc),
    pbVarint(HTLC_EVENT.outgoing_htlc_id, 0),
    pbVarint(HTLC_EVENT.timestamp_ns, BigInt(Date.now()) * 1_000_000n),
    pbVarint(HTLC_EVENT.event_type, eventType),
  ]);
}
