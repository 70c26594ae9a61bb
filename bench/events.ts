import type { HtlcEvent } from '../src/core/lnd/types';

/** A deterministic, realistic mix of FORWARD events (and some noise) for benchmarks. */
export function forwardMix(count: number, channels: number, seed = 7): HtlcEvent[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const ids = Array.from({ length: channels }, (_, i) => ((BigInt(750_000 + i) << 40n) | (BigInt(i * 7 % 3000) << 16n) | 1n).toString());
  const htlcIds = new Array<number>(channels).fill(0);
  const out: HtlcEvent[] = [];
  let ns = 1_764_000_000_000_000_000n;
  const reasons: [number, number, string][] = [
    [15, 6, 'insufficient bandwidth to route htlc'],
    [12, 1, 'fee insufficient'],
    [15, 5, 'htlc exceeds maximum policy amount'],
    [18, 1, 'unknown next peer'],
    [11, 1, 'amount below minimum'],
  ];
  while (out.length < count) {
    const a = Math.floor(rnd() * channels);
    let b = Math.floor(rnd() * channels);
    if (b === a) b = (b + 1) % channels;
    const inHtlc = String(htlcIds[a]++);
    const outHtlc = String(htlcIds[b]++);
    const amt = 10_000 + Math.floor(rnd() * 5_000_000) * 1000;
    const fee = 1000 + Math.floor(amt * 0.0005);
    const info = { incoming_timelock: 800_100, outgoing_timelock: 800_060, incoming_amt_msat: String(amt + fee), outgoing_amt_msat: String(amt) };
    const base = () => {
      ns += 1_000_003n;
      return { incoming_channel_id: ids[a], outgoing_channel_id: ids[b], incoming_htlc_id: inHtlc, outgoing_htlc_id: outHtlc, timestamp_ns: ns.toString(), event_type: 'FORWARD' };
    };
    const r = rnd();
    if (r < 0.55) {
      out.push({ ...base(), forward_event: { info }, event: 'forward_event' });
      out.push({ ...base(), settle_event: { preimage: Buffer.alloc(32, 1) }, event: 'settle_event' });
    } else if (r < 0.8) {
      const [wire, detail, text] = reasons[Math.floor(rnd() * reasons.length)];
      out.push({ ...base(), outgoing_htlc_id: '0', link_fail_event: { info, wire_failure: wire, failure_detail: detail, failure_string: text }, event: 'link_fail_event' });
    } else if (r < 0.92) {
      out.push({ ...base(), forward_event: { info }, event: 'forward_event' });
      out.push({ ...base(), forward_fail_event: {}, event: 'forward_fail_event' });
    } else {
      out.push({ ...base(), event_type: 'UNKNOWN', final_htlc_event: { settled: true, offchain: true }, event: 'final_htlc_event' });
    }
  }
  return out.slice(0, count);
}
