import { LRUCache } from 'lru-cache';
import type { HtlcEvent } from './lnd/types';
import { parseU64 } from './scid';
import { categoryOf, Category, DOWNSTREAM, failureCodeName, failureDetailName, reasonKey } from './reasons';
import { nsToMs } from './time';
import type { SettleMatcher } from './settleMatch';

/** A forward that failed, at our node (link) or after we passed it on (downstream). */
export interface FailureOutcome {
  kind: 'failure';
  source: 'link' | 'downstream';
  incomingChanId: bigint;
  /** 0n when the HTLC failed on its incoming link: then it counts at node level only. */
  outgoingChanId: bigint;
  incomingHtlcId: bigint;
  outgoingHtlcId: bigint;
  timestampNs: bigint;
  timestampMs: number;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  /** incoming − outgoing when the outgoing amount is known and > 0, else 0. */
  missedFeeMsat: bigint;
  reason: string;
  category: Category;
  wireFailure: string;
  failureDetail: string;
  /** For display only; never used to classify. */
  failureString: string;
  /** True when the amounts come from info we saw (link_fail, or a remembered forward_event). */
  amountsKnown: boolean;
}

export interface SuccessOutcome {
  kind: 'success';
  incomingChanId: bigint;
  outgoingChanId: bigint;
  incomingHtlcId: bigint;
  outgoingHtlcId: bigint;
  timestampNs: bigint;
  timestampMs: number;
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
  feeMsat: bigint;
  amountsKnown: boolean;
  /** 'history' when it came from ForwardingHistory (backfill or history-only polling), not the stream. */
  source?: 'history';
}

export type Outcome = FailureOutcome | SuccessOutcome;

export type IgnoreReason = 'not-forward' | 'subscribed' | 'final' | 'forward-pending' | 'unknown-event';

export type NormalizeResult =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'ignored'; why: IgnoreReason }
  | { type: 'duplicate' };

export interface NormalizerOptions {
  /** How many pending forwards to remember (by incoming circuit). */
  maxPendingForwards?: number;
  /** How long a forward_event is remembered, in ms. HTLCs can be held for hours; default 24 h. */
  pendingForwardTtlMs?: number;
  /** How many event keys to remember for de-duplication after a reconnect. */
  dedupeMax?: number;
  /** How long an event key is remembered for de-duplication, in ms. Default 2 h. */
  dedupeTtlMs?: number;
}

interface PendingForward {
  incomingAmtMsat: bigint;
  outgoingAmtMsat: bigint;
}

/**
 * The fee a forward earns, or missed when it failed: incoming − outgoing amount, counted only when
 * the outgoing amount is known (> 0) and below the incoming one; otherwise 0.
 */
export function forwardFeeMsat(incomingAmtMsat: bigint, outgoingAmtMsat: bigint): bigint {
  return outgoingAmtMsat > 0n && incomingAmtMsat > outgoingAmtMsat ? incomingAmtMsat - outgoingAmtMsat : 0n;
}

const SENTINEL = '';
const SENTINEL_VALUE: PendingForward = { incomingAmtMsat: 0n, outgoingAmtMsat: 0n };

const ZERO_INFO = { incoming_amt_msat: '0', outgoing_amt_msat: '0' };

/**
 * Turns LND's HtlcEvent stream into forward outcomes. Only FORWARD events count; the stream is
 * best-effort, so every event is de-duplicated by kind and circuit within a bounded window.
 */
export class Normalizer {
  private readonly pending: LRUCache<string, PendingForward>;
  private readonly seen: LRUCache<string, true>;
  /** Forwards dropped from the pending map before they resolved (bounded memory at work). */
  pendingEvicted = 0;
  /** Settles counted from ForwardingHistory without htlc ids, that the stream may still deliver. */
  private external: SettleMatcher | undefined;

  constructor(opts: NormalizerOptions = {}) {
    this.pending = new LRUCache<string, PendingForward>({
      max: opts.maxPendingForwards ?? 50_000,
      ttl: opts.pendingForwardTtlMs ?? 24 * 3600_000,
      updateAgeOnGet: false,
      dispose: (_v, _k, reason) => {
        if ((reason === 'evict' || reason === 'expire') && _k !== SENTINEL) this.pendingEvicted++;
      },
    });
    this.seen = new LRUCache<string, true>({
      max: opts.dedupeMax ?? 100_000,
      ttl: opts.dedupeTtlMs ?? 2 * 3600_000,
      updateAgeOnGet: false,
    });
  }

  get pendingForwards(): number {
    return this.pending.size - (this.pending.has(SENTINEL) ? 1 : 0);
  }

  /** Whether a settle of this incoming circuit was counted recently (the `s:<chan>:<htlc>` key). */
  hasSettle(incomingChanId: bigint, incomingHtlcId: bigint): boolean {
    return this.seen.has(`s:${incomingChanId}:${incomingHtlcId}`);
  }

  /**
   * Marks a settle counted from another source (ForwardingHistory with htlc ids), so the stream's
   * settle of the same circuit is a duplicate. Returns false when it was already counted.
   */
  markSettle(incomingChanId: bigint, incomingHtlcId: bigint): boolean {
    return !this.isDuplicate(`s:${incomingChanId}:${incomingHtlcId}`);
  }

  /**
   * Settles counted from another source without htlc ids: a stream settle that matches one of
   * them (see SettleMatcher: channels, amounts when known, time) is a duplicate and consumes it.
   */
  watchExternalSettles(matcher: SettleMatcher | undefined): void {
    this.external = matcher;
  }

  /** Forgets everything (after a statistics reset). */
  clear(): void {
    this.pending.clear();
    this.seen.clear();
  }

  normalize(ev: HtlcEvent): NormalizeResult {
    const member = ev.event ?? memberOf(ev);
    if (member === 'subscribed_event') return { type: 'ignored', why: 'subscribed' };
    if (member === 'final_htlc_event') return { type: 'ignored', why: 'final' };
    if (ev.event_type !== 'FORWARD' && ev.event_type !== 3) return { type: 'ignored', why: 'not-forward' };

    const circuit = `${ev.incoming_channel_id}:${ev.incoming_htlc_id}`;
    switch (member) {
      case 'forward_event': {
        if (this.isDuplicate(`f:${circuit}`)) return { type: 'duplicate' };
        const info = ev.forward_event?.info ?? ZERO_INFO;
        this.pending.set(circuit, {
          incomingAmtMsat: parseU64(info.incoming_amt_msat),
          outgoingAmtMsat: parseU64(info.outgoing_amt_msat),
        });
        return { type: 'ignored', why: 'forward-pending' };
      }
      case 'settle_event': {
        if (this.isDuplicate(`s:${circuit}`)) return { type: 'duplicate' };
        const fwd = this.take(circuit);
        const inAmt = fwd?.incomingAmtMsat ?? 0n;
        const outAmt = fwd?.outgoingAmtMsat ?? 0n;
        const timestampNs = parseU64(ev.timestamp_ns);
        // one object, built once (no spread of an ids object): it is the outcome, and what the
        // external matcher is asked about
        const outcome: SuccessOutcome = {
          kind: 'success',
          incomingChanId: parseU64(ev.incoming_channel_id),
          outgoingChanId: parseU64(ev.outgoing_channel_id),
          incomingHtlcId: parseU64(ev.incoming_htlc_id),
          outgoingHtlcId: parseU64(ev.outgoing_htlc_id),
          timestampNs,
          timestampMs: nsToMs(timestampNs),
          incomingAmtMsat: inAmt,
          outgoingAmtMsat: outAmt,
          feeMsat: forwardFeeMsat(inAmt, outAmt),
          amountsKnown: fwd !== undefined,
        };
        if (this.external !== undefined && this.external.size !== 0 && this.external.take(outcome)) {
          return { type: 'duplicate' };
        }
        return { type: 'outcome', outcome };
      }
      case 'forward_fail_event': {
        if (this.isDuplicate(`d:${circuit}`)) return { type: 'duplicate' };
        const fwd = this.take(circuit);
        const inAmt = fwd?.incomingAmtMsat ?? 0n;
        const outAmt = fwd?.outgoingAmtMsat ?? 0n;
        const timestampNs = parseU64(ev.timestamp_ns);
        return {
          type: 'outcome',
          outcome: {
            kind: 'failure',
            source: 'downstream',
            incomingChanId: parseU64(ev.incoming_channel_id),
            outgoingChanId: parseU64(ev.outgoing_channel_id),
            incomingHtlcId: parseU64(ev.incoming_htlc_id),
            outgoingHtlcId: parseU64(ev.outgoing_htlc_id),
            timestampNs,
            timestampMs: nsToMs(timestampNs),
            incomingAmtMsat: inAmt,
            outgoingAmtMsat: outAmt,
            missedFeeMsat: forwardFeeMsat(inAmt, outAmt),
            reason: DOWNSTREAM,
            category: 'downstream',
            wireFailure: '',
            failureDetail: '',
            failureString: '',
            amountsKnown: fwd !== undefined,
          },
        };
      }
      case 'link_fail_event': {
        if (this.isDuplicate(`l:${circuit}`)) return { type: 'duplicate' };
        const lf = ev.link_fail_event!;
        const info = lf.info ?? ZERO_INFO;
        const inAmt = parseU64(info.incoming_amt_msat);
        const outAmt = parseU64(info.outgoing_amt_msat);
        const reason = reasonKey(lf.wire_failure, lf.failure_detail);
        const timestampNs = parseU64(ev.timestamp_ns);
        return {
          type: 'outcome',
          outcome: {
            kind: 'failure',
            source: 'link',
            incomingChanId: parseU64(ev.incoming_channel_id),
            outgoingChanId: parseU64(ev.outgoing_channel_id),
            incomingHtlcId: parseU64(ev.incoming_htlc_id),
            outgoingHtlcId: parseU64(ev.outgoing_htlc_id),
            timestampNs,
            timestampMs: nsToMs(timestampNs),
            incomingAmtMsat: inAmt,
            outgoingAmtMsat: outAmt,
            missedFeeMsat: forwardFeeMsat(inAmt, outAmt),
            reason,
            category: categoryOf(reason),
            wireFailure: failureCodeName(lf.wire_failure),
            failureDetail: failureDetailName(lf.failure_detail),
            failureString: lf.failure_string ?? '',
            amountsKnown: lf.info != null,
          },
        };
      }
      default:
        // A oneof member newer than our protos: counted as ignored, never a crash.
        return { type: 'ignored', why: 'unknown-event' };
    }
  }

  private isDuplicate(key: string): boolean {
    if (this.seen.has(key)) return true;
    this.seen.set(key, true);
    return false;
  }

  private take(circuit: string): PendingForward | undefined {
    const fwd = this.pending.get(circuit);
    if (fwd) {
      // lru-cache clears (fills) all its max-sized arrays when its last entry is deleted, which
      // made every settle cost O(max) on a quiet node; a sentinel keeps it from ever emptying.
      if (this.pending.size === 1) this.pending.set(SENTINEL, SENTINEL_VALUE);
      this.pending.delete(circuit);
    }
    return fwd;
  }
}

const MEMBERS = ['forward_event', 'forward_fail_event', 'settle_event', 'link_fail_event', 'subscribed_event', 'final_htlc_event'] as const;

function memberOf(ev: HtlcEvent): string | undefined {
  for (const m of MEMBERS) if (ev[m] != null) return m;
  return undefined;
}
