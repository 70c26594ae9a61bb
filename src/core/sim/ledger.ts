import type { EnumValue, HtlcEvent } from '../lnd/types';
import { DOWNSTREAM_REASON, enumName, eventTypeTable, failureDetailTable, reasonKey, wireFailureTable } from './enums';

/**
 * Ground truth: what a correct monitor must have counted after seeing every event the simulator
 * emitted (once each). Only event_type FORWARD events count. Per outgoing channel:
 * - link_fail_event → failuresByReasonKey[reasonKey(wire, detail)]++, linkFailures++, and
 *   missedFeesMsat += incoming_amt − outgoing_amt when info is set and outgoing_amt > 0
 *   (a negative difference, only possible with emitRaw, counts as 0);
 * - forward_fail_event → failuresByReasonKey.DOWNSTREAM++, downstream++, and missedFeesMsat +=
 *   incoming − outgoing of the matching forward_event (same four ids), if one was seen;
 * - settle_event → settles++, earnedFeesMsat += incoming − outgoing of the matching forward_event.
 * Link failures whose outgoing_channel_id is "0" (failures on the incoming link) are counted at
 * node level only. A raw event (emitRaw) with the same member and the same four ids as an earlier
 * event still in the history, or as an earlier raw event, is not counted again.
 */
export interface ChannelTruth {
  /** Includes DOWNSTREAM for forward_fail events. */
  failuresByReasonKey: Record<string, number>;
  /** Link failures by "WIRE_FAILURE/FAILURE_DETAIL" (names; unknown numbers as numbers). */
  linkFailuresByWireDetail: Record<string, number>;
  linkFailures: number;
  downstream: number;
  settles: number;
  /** forward_event (FORWARD) count. */
  forwards: number;
  missedFeesMsat: bigint;
  earnedFeesMsat: bigint;
}

export interface NodeTruth {
  /** Link failures with outgoing_channel_id 0. */
  failuresByReasonKey: Record<string, number>;
  linkFailures: number;
}

export interface GroundTruth {
  /** Keyed by outgoing channel id (decimal string); see TruthOptions.resolveAliases. */
  channels: Record<string, ChannelTruth>;
  node: NodeTruth;
  totals: {
    linkFailures: number;
    downstream: number;
    settles: number;
    forwards: number;
    missedFeesMsat: bigint;
    earnedFeesMsat: bigint;
  };
  /** Counting events not counted because they repeated an earlier one. */
  duplicatesIgnored: number;
}

export interface TruthOptions {
  /**
   * Map alias SCIDs (and zero-conf confirmed SCIDs) to the channel's chan_id as ListChannels
   * reports it, merging their counts. Default true.
   */
  resolveAliases?: boolean;
}

interface Acc {
  failures: Map<string, number>;
  pairs: Map<string, number>;
  linkFailures: number;
  downstream: number;
  settles: number;
  forwards: number;
  missedLo: number;
  missedHi: bigint;
  earnedLo: number;
  earnedHi: bigint;
}

const FLUSH_AT = 2 ** 52;
const MAX_OPEN_FORWARDS = 200_000;
const MAX_SEEN = 100_000;

function newAcc(): Acc {
  return { failures: new Map(), pairs: new Map(), linkFailures: 0, downstream: 0, settles: 0, forwards: 0, missedLo: 0, missedHi: 0n, earnedLo: 0, earnedHi: 0n };
}

function idStr(v: unknown): string {
  if (v === undefined || v === null || v === '') return '0';
  return typeof v === 'string' ? v : String(v);
}

/** a − b for decimal msat strings/numbers; number when exact, bigint otherwise; 0 on garbage. */
function diffMsat(a: unknown, b: unknown): number | bigint {
  const sa = idStr(a);
  const sb = idStr(b);
  if (sa.length <= 15 && sb.length <= 15) {
    const d = Number(sa) - Number(sb);
    return Number.isFinite(d) ? d : 0;
  }
  try {
    return BigInt(sa) - BigInt(sb);
  } catch {
    return 0;
  }
}

function isZero(v: unknown): boolean {
  const s = idStr(v);
  return s === '0' || /^0+$/.test(s);
}

/** The four ids of an event as one string ("in|out|inHtlc|outHtlc", missing ids as "0"). */
export function forwardKey(ev: Partial<HtlcEvent>): string {
  return `${idStr(ev.incoming_channel_id)}|${idStr(ev.outgoing_channel_id)}|${idStr(ev.incoming_htlc_id)}|${idStr(ev.outgoing_htlc_id)}`;
}

/** Which oneof member an event carries (the `event` field, else the first non-null member). */
export function eventMember(ev: Partial<HtlcEvent>): string {
  if (typeof ev.event === 'string' && ev.event) return ev.event;
  if (ev.forward_event) return 'forward_event';
  if (ev.forward_fail_event) return 'forward_fail_event';
  if (ev.settle_event) return 'settle_event';
  if (ev.link_fail_event) return 'link_fail_event';
  if (ev.subscribed_event) return 'subscribed_event';
  if (ev.final_htlc_event) return 'final_htlc_event';
  return 'none';
}

function isForward(t: EnumValue | undefined): boolean {
  return t === 'FORWARD' || t === 3 || (t !== undefined && enumName(eventTypeTable(), t) === 'FORWARD');
}

export class TruthLedger {
  private readonly perChan = new Map<string, Acc>();
  private readonly nodeFailures = new Map<string, number>();
  private nodeLinkFailures = 0;
  /** forward key -> incoming − outgoing of its forward_event. */
  private readonly openForwards = new Map<string, number | bigint>();
  /** Keys of the last MAX_SEEN counted events (a ring, so eviction never iterates the set). */
  private readonly seen = new Set<string>();
  private readonly seenRing: (string | undefined)[] = new Array(MAX_SEEN);
  private seenPos = 0;
  private duplicates = 0;

  private acc(outId: string): Acc {
    let a = this.perChan.get(outId);
    if (!a) {
      a = newAcc();
      this.perChan.set(outId, a);
    }
    return a;
  }

  private firstTime(key: string): boolean {
    if (this.seen.has(key)) {
      this.duplicates++;
      return false;
    }
    this.seen.add(key);
    const evicted = this.seenRing[this.seenPos];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.seenRing[this.seenPos] = key;
    this.seenPos = this.seenPos + 1 === MAX_SEEN ? 0 : this.seenPos + 1;
    return true;
  }

  /**
   * Feeds one emitted event. Generated events are unique by construction (`trusted`), so only
   * untrusted (raw) events are checked for repeats: against earlier raw events and, through
   * `seenElsewhere`, against the history of generated ones.
   */
  observe(ev: Partial<HtlcEvent>, trusted = true, seenElsewhere?: (member: string, ids: string) => boolean): void {
    if (!isForward(ev.event_type)) return;
    const member = eventMember(ev);
    if (member !== 'forward_event' && member !== 'forward_fail_event' && member !== 'settle_event' && member !== 'link_fail_event') return;
    const inId = idStr(ev.incoming_channel_id);
    const outId = idStr(ev.outgoing_channel_id);
    const fwdKey = forwardKey(ev);
    if (!trusted) {
      if (seenElsewhere?.(member, fwdKey)) {
        this.duplicates++;
        return;
      }
      if (!this.firstTime(`${member}|${fwdKey}`)) return;
    }

    switch (member) {
      case 'forward_event': {
        const info = ev.forward_event?.info;
        const fee = info ? diffMsat(info.incoming_amt_msat, info.outgoing_amt_msat) : 0;
        this.openForwards.set(fwdKey, fee);
        if (this.openForwards.size > MAX_OPEN_FORWARDS) {
          const oldest = this.openForwards.keys().next().value;
          if (oldest !== undefined) this.openForwards.delete(oldest);
        }
        this.acc(outId).forwards++;
        return;
      }
      case 'settle_event': {
        const a = this.acc(outId);
        a.settles++;
        const fee = this.openForwards.get(fwdKey);
        this.openForwards.delete(fwdKey);
        if (fee !== undefined) addEarned(a, fee);
        return;
      }
      case 'forward_fail_event': {
        const a = this.acc(outId);
        a.downstream++;
        a.failures.set(DOWNSTREAM_REASON, (a.failures.get(DOWNSTREAM_REASON) ?? 0) + 1);
        const fee = this.openForwards.get(fwdKey);
        this.openForwards.delete(fwdKey);
        if (fee !== undefined) addMissed(a, fee);
        return;
      }
      case 'link_fail_event': {
        const lf = ev.link_fail_event;
        const key = reasonKey(lf?.wire_failure, lf?.failure_detail);
        if (isZero(outId)) {
          this.nodeLinkFailures++;
          this.nodeFailures.set(key, (this.nodeFailures.get(key) ?? 0) + 1);
          return;
        }
        const a = this.acc(outId);
        a.linkFailures++;
        a.failures.set(key, (a.failures.get(key) ?? 0) + 1);
        const pair = `${String(enumName(wireFailureTable(), lf?.wire_failure))}/${String(enumName(failureDetailTable(), lf?.failure_detail))}`;
        a.pairs.set(pair, (a.pairs.get(pair) ?? 0) + 1);
        const info = lf?.info;
        if (info && !isZero(info.outgoing_amt_msat)) addMissed(a, diffMsat(info.incoming_amt_msat, info.outgoing_amt_msat));
        return;
      }
    }
  }

  /** Snapshot of the ground truth. `resolve` maps an outgoing id to the id to report it under. */
  snapshot(resolve?: (id: string) => string): GroundTruth {
    const merged = new Map<string, Acc>();
    for (const [id, a] of this.perChan) {
      const key = resolve ? resolve(id) : id;
      const m = merged.get(key);
      if (!m) {
        merged.set(key, { ...a, failures: new Map(a.failures), pairs: new Map(a.pairs) });
        continue;
      }
      for (const [k, v] of a.failures) m.failures.set(k, (m.failures.get(k) ?? 0) + v);
      for (const [k, v] of a.pairs) m.pairs.set(k, (m.pairs.get(k) ?? 0) + v);
      m.linkFailures += a.linkFailures;
      m.downstream += a.downstream;
      m.settles += a.settles;
      m.forwards += a.forwards;
      m.missedHi += BigInt(a.missedLo) + a.missedHi;
      m.earnedHi += BigInt(a.earnedLo) + a.earnedHi;
    }
    const channels: Record<string, ChannelTruth> = {};
    const totals = { linkFailures: 0, downstream: 0, settles: 0, forwards: 0, missedFeesMsat: 0n, earnedFeesMsat: 0n };
    for (const id of [...merged.keys()].sort(cmpDecimal)) {
      const a = merged.get(id)!;
      const t: ChannelTruth = {
        failuresByReasonKey: sortedObj(a.failures),
        linkFailuresByWireDetail: sortedObj(a.pairs),
        linkFailures: a.linkFailures,
        downstream: a.downstream,
        settles: a.settles,
        forwards: a.forwards,
        missedFeesMsat: BigInt(a.missedLo) + a.missedHi,
        earnedFeesMsat: BigInt(a.earnedLo) + a.earnedHi,
      };
      channels[id] = t;
      totals.linkFailures += t.linkFailures;
      totals.downstream += t.downstream;
      totals.settles += t.settles;
      totals.forwards += t.forwards;
      totals.missedFeesMsat += t.missedFeesMsat;
      totals.earnedFeesMsat += t.earnedFeesMsat;
    }
    totals.linkFailures += this.nodeLinkFailures;
    return {
      channels,
      node: {
        failuresByReasonKey: sortedObj(this.nodeFailures),
        linkFailures: this.nodeLinkFailures,
      },
      totals,
      duplicatesIgnored: this.duplicates,
    };
  }
}

function addMissed(a: Acc, fee: number | bigint): void {
  if (typeof fee === 'bigint') {
    if (fee > 0n) a.missedHi += fee;
    return;
  }
  if (fee <= 0) return;
  a.missedLo += fee;
  if (a.missedLo >= FLUSH_AT) {
    a.missedHi += BigInt(a.missedLo);
    a.missedLo = 0;
  }
}

function addEarned(a: Acc, fee: number | bigint): void {
  if (typeof fee === 'bigint') {
    if (fee > 0n) a.earnedHi += fee;
    return;
  }
  if (fee <= 0) return;
  a.earnedLo += fee;
  if (a.earnedLo >= FLUSH_AT) {
    a.earnedHi += BigInt(a.earnedLo);
    a.earnedLo = 0;
  }
}

function sortedObj(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
}

function cmpDecimal(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
