/**
 * Channel context: what a channel looks like right now (capacity, balances, policies, aliases),
 * gathered from LND (or lnd-manageJ) and cached. Amounts are bigint; every object here turns into
 * plain JSON with {@link toJsonValue} (bigint → decimal string).
 *
 * Aliases are attacker-controlled (anyone can announce any alias): they are kept as data and must
 * be escaped where they are displayed, never interpolated into HTML or Markdown.
 */

export type ChannelStatus = 'active' | 'inactive' | 'closed' | 'unknown';

/** One direction of a channel's forwarding policy, as announced in the graph. */
export interface PolicyView {
  feeBaseMsat: bigint;
  feeRatePpm: bigint;
  minHtlcMsat: bigint;
  /** 0n = no maximum announced. */
  maxHtlcMsat: bigint;
  timeLockDelta: number;
  disabled: boolean;
  inboundFeeBaseMsat: bigint;
  inboundFeeRatePpm: bigint;
  /** Unix seconds; 0 when unknown. */
  lastUpdate: number;
}

/** Our fees for a channel (FeeReport): outbound and inbound. */
export interface OurFees {
  baseFeeMsat: bigint;
  feeRatePpm: bigint;
  inboundBaseFeeMsat: bigint;
  inboundFeeRatePpm: bigint;
}

export type ContextSourceName = 'lnd' | 'lnd-managej';

export interface ChannelContext {
  /** Canonical channel id (decimal uint64): ListChannels' chan_id. */
  chanId: string;
  /** "BLOCKxTXxOUT". */
  scid: string;
  status: ChannelStatus;
  remotePubkey: string | null;
  /** The peer's alias: attacker-controlled data, never markup. */
  alias: string | null;
  aliasSource: 'peer_alias_lookup' | 'node_info' | 'lnd-managej' | null;
  capacitySat: bigint;
  /** Our settled balance (LND's local_balance: in-flight outgoing HTLCs are already excluded). */
  localBalanceSat: bigint;
  remoteBalanceSat: bigint;
  /** Sum of pending HTLCs (LND's unsettled_balance). */
  unsettledBalanceSat: bigint;
  /** The reserve we must keep (local_constraints.chan_reserve_sat). */
  localReserveSat: bigint;
  pendingOutgoingSat: bigint;
  pendingIncomingSat: bigint;
  pendingHtlcCount: number;
  /**
   * What the channel can still send now, in msat: local − reserve, never below 0. LND's
   * local_balance already excludes outgoing HTLCs in flight, so they are not subtracted twice.
   */
  outboundMsat: bigint;
  /** What the peer can still send us, in msat (remote balance; the peer's reserve is theirs). */
  inboundMsat: bigint;
  private: boolean;
  /** Alias SCIDs (decimal) that events may name instead of chanId. */
  aliasScids: string[];
  peerScidAlias: string | null;
  zeroConf: boolean;
  zeroConfConfirmedScid: string | null;
  /** Our fees from FeeReport; null when FeeReport did not list the channel. */
  ourFees: OurFees | null;
  /** Our side of the graph edge (min/max HTLC, time lock delta); null when unknown. */
  ourPolicy: PolicyView | null;
  /** The peer's side of the graph edge (the node whose pubkey is not ours); null when not announced. */
  peerPolicy: PolicyView | null;
  /** Extras only some providers have (lnd-manageJ's flow report and rating). */
  flow: FlowSummary | null;
  rating: RatingSummary | null;
  source: ContextSourceName;
  /** When this channel's data was read (epoch ms). */
  fetchedAtMs: number;
  /** Last time the channel was seen open (epoch ms); for closed channels, when it disappeared. */
  lastSeenOpenMs: number;
}

export interface FlowSummary {
  forwardedSentMsat: bigint;
  forwardedReceivedMsat: bigint;
  forwardingFeesReceivedMsat: bigint;
  rebalanceSentMsat: bigint;
  rebalanceReceivedMsat: bigint;
  totalSentMsat: bigint;
  totalReceivedMsat: bigint;
}

export interface RatingSummary {
  /** lnd-manageJ's rating; -1 when it could not compute one. */
  rating: number;
  message: string;
  details: Record<string, string>;
}

export interface ContextSnapshot {
  ourPubkey: string | null;
  channels: ChannelContext[];
  fetchedAtMs: number;
  /** Partial failures (a GetChanInfo that failed, …): never silent. */
  warnings: string[];
}

/** Where channel context comes from: LND itself or lnd-manageJ. */
export interface ContextProvider {
  readonly name: ContextSourceName;
  load(): Promise<ContextSnapshot>;
  dispose?(): void;
}

/** Outbound liquidity in msat: local − reserve, clamped at 0. */
export function outboundMsatOf(localBalanceSat: bigint, localReserveSat: bigint): bigint {
  const v = (localBalanceSat - localReserveSat) * 1000n;
  return v > 0n ? v : 0n;
}

/** A placeholder for a channel we know nothing about. */
export function unknownChannel(chanId: string, scid: string, nowMs: number): ChannelContext {
  return {
    chanId,
    scid,
    status: 'unknown',
    remotePubkey: null,
    alias: null,
    aliasSource: null,
    capacitySat: 0n,
    localBalanceSat: 0n,
    remoteBalanceSat: 0n,
    unsettledBalanceSat: 0n,
    localReserveSat: 0n,
    pendingOutgoingSat: 0n,
    pendingIncomingSat: 0n,
    pendingHtlcCount: 0,
    outboundMsat: 0n,
    inboundMsat: 0n,
    private: false,
    aliasScids: [],
    peerScidAlias: null,
    zeroConf: false,
    zeroConfConfirmedScid: null,
    ourFees: null,
    ourPolicy: null,
    peerPolicy: null,
    flow: null,
    rating: null,
    source: 'lnd',
    fetchedAtMs: nowMs,
    lastSeenOpenMs: 0,
  };
}

/** Deep copy into plain JSON values: bigint → decimal string, Map → object, Set → array. */
export function toJsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJsonValue(x)]));
  if (v instanceof Set) return [...v].map(toJsonValue);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined || typeof x === 'function') continue;
    out[k] = toJsonValue(x);
  }
  return out;
}
