/**
 * Memory: heapUsed + arrayBuffers after forced GC, while 1,000,000 events go through the
 * normaliser and the stats engine (maxChannels 10,000, rings of 100 recent failures).
 *
 * - "churn": 1M events (link failures, forwards with their settle or downstream failure) over
 *   50,000 distinct outgoing channels, uniformly: the channel cap is reached after a few thousand
 *   events and evicts all along. Memory must not grow between 500k and 1M events (≤ 5 %).
 * - "full rings": 1M link failures round-robin over 10,000 channels, so at the end every channel
 *   holds exactly 100 recent failures: the per-channel cost at full rings. (Full rings for 10k
 *   channels take 1M failures on those channels alone, so one workload cannot show both.)
 *
 * The normaliser's bounded maps (pending forwards, de-duplication keys) are measured apart from
 * the per-channel stats: the same events go through a normaliser alone, and the stats' share is the
 * rest (KiB/channel includes the engine's fixed parts: node totals, 24 h minute counters, heap).
 *
 *   node --expose-gc --import tsx bench/memory.bench.ts
 */
import { Normalizer } from '../src/core/normalizer';
import { StatsEngine } from '../src/core/stats';
import type { HtlcEvent } from '../src/core/lnd/types';
import { fmt, printTable, writeResult } from './util';

const EVENTS = Number(process.env.BENCH_MEM_EVENTS ?? 1_000_000);
const MAX_CHANNELS = 10_000;
const RING = 100;
const KiB = 1024;
const MiB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc --import tsx bench/memory.bench.ts');
  process.exit(2);
}

function used(): number {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const ids: string[] = [];
function idOf(i: number): string {
  return (ids[i] ??= ((BigInt(750_000 + i) << 40n) | (BigInt((i * 7) % 3000) << 16n) | 1n).toString());
}

const INFO = (amt: number) => ({ incoming_timelock: 800_100, outgoing_timelock: 800_060, incoming_amt_msat: String(amt + 1000 + (amt >> 11)), outgoing_amt_msat: String(amt) });
const REASONS: [string, string, string][] = [
  ['TEMPORARY_CHANNEL_FAILURE', 'INSUFFICIENT_BALANCE', 'insufficient bandwidth to route htlc'],
  ['FEE_INSUFFICIENT', 'NO_DETAIL', 'fee insufficient'],
  ['TEMPORARY_CHANNEL_FAILURE', 'HTLC_EXCEEDS_MAX', 'htlc exceeds maximum policy amount'],
  ['UNKNOWN_NEXT_PEER', 'NO_DETAIL', 'unknown next peer'],
];

/** Yields the events of a workload one at a time (nothing is kept: only the engine's state is measured). */
function* workload(kind: 'churn' | 'fullRings', n: number): Generator<HtlcEvent> {
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  let ns = 1_764_000_000_000_000_000n;
  let htlc = 0;
  let k = 0;
  while (k < n) {
    const out = kind === 'churn' ? Math.floor(rnd() * 50_000) : k % MAX_CHANNELS;
    const inc = (out + 1 + Math.floor(rnd() * 49_999)) % 50_000;
    const amt = 10_000 + Math.floor(rnd() * 5_000_000) * 1000;
    const base = () => {
      ns += 1_000_003n;
      return { incoming_channel_id: idOf(inc), outgoing_channel_id: idOf(out), incoming_htlc_id: String(htlc), outgoing_htlc_id: String(htlc), timestamp_ns: ns.toString(), event_type: 'FORWARD' };
    };
    htlc++;
    const r = kind === 'churn' ? rnd() : 0;
    if (r < 0.4) {
      const [wire, detail, text] = REASONS[htlc % REASONS.length];
      yield { ...base(), link_fail_event: { info: INFO(amt), wire_failure: wire, failure_detail: detail, failure_string: text }, event: 'link_fail_event' };
      k++;
    } else {
      yield { ...base(), forward_event: { info: INFO(amt) }, event: 'forward_event' };
      k++;
      if (k >= n) break;
      if (r < 0.8) yield { ...base(), settle_event: { preimage: Buffer.alloc(32, 1) }, event: 'settle_event' };
      else yield { ...base(), forward_fail_event: {}, event: 'forward_fail_event' };
      k++;
    }
  }
}

interface Point {
  events: number;
  totalMiB: number;
  normalizerMiB: number;
  statsMiB: number;
  channels: number;
  perChannelKiB: number;
  avgRingFill: number;
  pending: number;
  seen: number;
}

function run(kind: 'churn' | 'fullRings'): { points: Point[]; growth: number } {
  const base = used();
  const norm = new Normalizer();
  const stats = new StatsEngine({ maxChannels: MAX_CHANNELS, recentPerChannel: RING });
  const checkpoints = new Set([EVENTS / 4, EVENTS / 2, (3 * EVENTS) / 4, EVENTS]);
  const points: Point[] = [];
  let k = 0;
  for (const ev of workload(kind, EVENTS)) {
    const r = norm.normalize(ev);
    if (r.type === 'outcome') stats.apply(r.outcome);
    k++;
    if (checkpoints.has(k)) {
      const total = used() - base;
      let ringSum = 0;
      for (const ch of stats.ranked()) ringSum += ch.recent.size;
      // the normaliser's map sizes (private fields; read here for the report only)
      const sizes = { pending: norm.pendingForwards, seen: (norm as unknown as { seen: { size: number } }).seen.size };
      // what each part holds: free the normaliser's maps, then the channels, measuring each step
      points.push({ events: k, totalMiB: total / MiB, normalizerMiB: 0, statsMiB: 0, channels: stats.channelCount, perChannelKiB: 0, avgRingFill: ringSum / stats.channelCount, pending: sizes.pending, seen: sizes.seen });
    }
  }
  const p = points[points.length - 1];
  // the normaliser's share: the same events through a normaliser alone
  const base2 = used();
  const alone = new Normalizer();
  for (const ev of workload(kind, EVENTS)) alone.normalize(ev);
  const normOnly = used() - base2;
  p.normalizerMiB = normOnly / MiB;
  p.statsMiB = p.totalMiB - p.normalizerMiB;
  p.perChannelKiB = (p.statsMiB * MiB) / p.channels / KiB;
  void [norm, stats, alone];
  const half = points.find((x) => x.events === EVENTS / 2)!;
  return { points, growth: p.totalMiB / half.totalMiB - 1 };
}

async function main() {
  const churn = run('churn');
  const full = run('fullRings');
  const rows: (string | number)[][] = [];
  for (const [name, r] of [['churn: 50k channels', churn], ['full rings: 10k channels', full]] as const) {
    for (const p of r.points) {
      rows.push([
        name,
        fmt(p.events),
        fmt(p.channels),
        fmt(p.avgRingFill, 1),
        fmt(p.totalMiB, 1),
        p.statsMiB ? fmt(p.statsMiB, 1) : '',
        p.perChannelKiB ? fmt(p.perChannelKiB, 2) : '',
        p.normalizerMiB ? fmt(p.normalizerMiB, 1) : '',
        `${fmt(p.pending)} / ${fmt(p.seen)}`,
      ]);
    }
  }
  printTable(
    `Memory: heapUsed + arrayBuffers after GC, maxChannels ${fmt(MAX_CHANNELS)}, rings of ${RING}`,
    ['workload', 'events', 'channels', 'ring fill', 'total MiB', 'stats MiB', 'KiB/channel', 'normaliser MiB', 'pending / seen keys'],
    rows,
  );
  console.log(`growth 500k → 1M events: churn ${fmt(churn.growth * 100, 1)} %, full rings ${fmt(full.growth * 100, 1)} % (rings filling up)`);
  const file = writeResult('memory', { events: EVENTS, maxChannels: MAX_CHANNELS, ring: RING, churn, fullRings: full });
  console.log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
