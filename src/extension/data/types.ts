/**
 * The small interfaces the UI renders from. The in-memory implementations here work today over
 * StatsEngine; the sql.js store (windows, time series) and the opportunity analysis plug in
 * behind the same interfaces. Nothing in data/ imports vscode, so it is unit-testable.
 */
import type { Disposable } from '../../core/emitter';
import type { RecentFailure } from '../../core/ring';
import type { FailureSeries, Urgency, WindowId } from '../../shared/protocol';

export interface ReasonWindowStats {
  reason: string;
  count: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  /** Largest outgoing amount that failed for this reason (0 when unknown). */
  maxAmountMsat: bigint;
}

/** One outgoing channel's failures within a window. */
export interface ChannelWindowStats {
  channelId: string;
  scid: string;
  failures: number;
  successes: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  /** Sorted by count, then missed fees. */
  reasons: ReasonWindowStats[];
  lastFailureAtMs: number;
}

export interface WindowTotals {
  /** Every failed forward in the window, including those that failed on the incoming link. */
  failures: number;
  missedFeesMsat: bigint;
  channels: number;
}

export interface WindowSource extends Disposable {
  /** A description for the UI ("in-memory", "sql.js store"). */
  readonly kind: string;
  /**
   * Fires (coalescing is the subscriber's job) with the ids of channels whose stats changed; the set
   * is empty when only node-wide totals changed or when any answer may have (ask again).
   */
  onDidChange(listener: (channels: ReadonlySet<string>) => void): Disposable;
  /** Channels with at least one failure in the window, ranked by missed fees, failures, id. */
  channels(window: WindowId, nowMs?: number): ChannelWindowStats[];
  channel(channelId: string, window: WindowId, nowMs?: number): ChannelWindowStats | undefined;
  totals(window: WindowId, nowMs?: number): WindowTotals;
  /** Node-wide failures over time by reason, in about 60 buckets. */
  failureSeries(window: WindowId, nowMs?: number): FailureSeries;
  /** Newest first, within the window. */
  recentFailures(channelId: string, window: WindowId, limit: number, nowMs?: number): RecentFailure[];
  reset(): void;
}

/** What LND tells us about a channel (ListChannels, FeeReport). Every field may be missing. */
export interface ChannelContext {
  channelId: string;
  alias?: string;
  remotePubkey?: string;
  active?: boolean;
  capacitySat?: bigint;
  localBalanceSat?: bigint;
  remoteBalanceSat?: bigint;
  baseFeeMsat?: bigint;
  feePpm?: bigint;
}

export interface ChannelContextSource extends Disposable {
  get(channelId: string): ChannelContext | undefined;
  onDidChange(listener: () => void): Disposable;
  refresh(): Promise<void>;
}

export interface Opportunity {
  channelId: string;
  scid: string;
  alias?: string;
  stats: ChannelWindowStats;
  action: string;
  recommendation: string;
  urgency: Urgency;
  actionable: boolean;
  evidence: string[];
}

export interface OpportunitySource {
  readonly kind: string;
  /** Ranked, highest value first. */
  opportunities(window: WindowId, nowMs?: number): Opportunity[];
  /**
   * Fires when earlier answers may be out of date for reasons the windows do not announce (channel
   * context, an answer reused under load that has expired): ask again.
   */
  onDidChange?(listener: () => void): Disposable;
}
