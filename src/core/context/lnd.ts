import type { LndClient } from '../lnd/client';
import type { Channel, ChannelEdge, ChannelFeeReport, RoutingPolicy } from '../lnd/types';
import { formatScid, parseU64 } from '../scid';
import { ChannelContext, ContextProvider, ContextSnapshot, OurFees, outboundMsatOf, PolicyView } from './types';

const ALIAS_LOOKUP_ERROR = 'unable to lookup peer alias';

/** The LND calls the context needs (LndClient has them; tests may pass a stub). */
export type ContextLndApi = Pick<LndClient, 'getInfo' | 'listChannels' | 'getChanInfo' | 'getNodeInfo' | 'feeReport'>;

export interface LndContextOptions {
  /** GetChanInfo/GetNodeInfo calls in flight at once. Default 8. */
  concurrency?: number;
  now?: () => number;
}

/** Reads channel context from LND: GetInfo, ListChannels (peer_alias_lookup), FeeReport, GetChanInfo, GetNodeInfo. */
export class LndContextProvider implements ContextProvider {
  readonly name = 'lnd' as const;
  private readonly now: () => number;
  private readonly concurrency: number;
  /** Node aliases by pubkey (GetNodeInfo fallback), kept across refreshes. */
  private readonly nodeAliases = new Map<string, string | null>();

  constructor(private readonly api: ContextLndApi | (() => ContextLndApi | undefined), opts: LndContextOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
  }

  private client(): ContextLndApi {
    const c = typeof this.api === 'function' ? this.api() : this.api;
    if (!c) throw new Error('no LND connection');
    return c;
  }

  async load(): Promise<ContextSnapshot> {
    const lnd = this.client();
    const warnings: string[] = [];
    const [info, channels, fees] = await Promise.all([
      lnd.getInfo(),
      lnd.listChannels({ peer_alias_lookup: true }),
      lnd.feeReport().catch((err: unknown) => {
        warnings.push(`FeeReport failed: ${(err as Error).message}`);
        return { channel_fees: [] as ChannelFeeReport[], day_fee_sum: '0', week_fee_sum: '0', month_fee_sum: '0' };
      }),
    ]);
    const ourPubkey = info.identity_pubkey;
    const fetchedAtMs = this.now();
    const feesById = new Map<string, ChannelFeeReport>();
    const feesByPoint = new Map<string, ChannelFeeReport>();
    for (const f of fees.channel_fees ?? []) {
      feesById.set(String(f.chan_id), f);
      if (f.channel_point) feesByPoint.set(f.channel_point, f);
    }

    const out = await mapPool(channels, this.concurrency, async (ch) => {
      const edge = await this.chanInfo(lnd, ch, warnings);
      const sides = edge ? policySides(edge, ourPubkey, ch.remote_pubkey) : { ours: null, peers: null };
      // LND puts its lookup error into peer_alias ("unable to lookup peer alias: …"): not an alias.
      let alias: string | null = ch.peer_alias && !ch.peer_alias.startsWith(ALIAS_LOOKUP_ERROR) ? ch.peer_alias : null;
      let aliasSource: ChannelContext['aliasSource'] = alias !== null ? 'peer_alias_lookup' : null;
      if (alias === null && ch.remote_pubkey) {
        alias = await this.nodeAlias(lnd, ch.remote_pubkey);
        if (alias !== null) aliasSource = 'node_info';
      }
      const fee = feesById.get(String(ch.chan_id)) ?? feesByPoint.get(ch.channel_point);
      return channelFromLnd(ch, { alias, aliasSource, ourPolicy: sides.ours, peerPolicy: sides.peers, fee, fetchedAtMs });
    });
    return { ourPubkey, channels: out, fetchedAtMs, warnings };
  }

  private async chanInfo(lnd: ContextLndApi, ch: Channel, warnings: string[]): Promise<ChannelEdge | null> {
    const ids = [String(ch.chan_id)];
    const confirmed = String(ch.zero_conf_confirmed_scid ?? '0');
    if (confirmed !== '0' && confirmed !== '' && !ids.includes(confirmed)) ids.push(confirmed);
    let lastErr: unknown;
    for (const id of ids) {
      try {
        return await lnd.getChanInfo(id);
      } catch (err) {
        lastErr = err;
      }
    }
    warnings.push(`GetChanInfo ${formatScid(String(ch.chan_id))}: ${(lastErr as Error)?.message ?? 'failed'} (policies unknown)`);
    return null;
  }

  private async nodeAlias(lnd: ContextLndApi, pubkey: string): Promise<string | null> {
    if (this.nodeAliases.has(pubkey)) return this.nodeAliases.get(pubkey) ?? null;
    let alias: string | null = null;
    try {
      const ni = await lnd.getNodeInfo(pubkey);
      alias = ni.node?.alias || null;
    } catch {
      alias = null; // unannounced peer: no alias, that is all
    }
    this.nodeAliases.set(pubkey, alias);
    return alias;
  }
}

/**
 * The two sides of a graph edge: ours is the side whose pubkey is our identity, the peer's is the
 * other one. When neither side is ours (should not happen), the remote pubkey decides.
 */
export function policySides(edge: ChannelEdge, ourPubkey: string, remotePubkey: string): { ours: PolicyView | null; peers: PolicyView | null } {
  let oursIs1: boolean;
  if (edge.node1_pub === ourPubkey) oursIs1 = true;
  else if (edge.node2_pub === ourPubkey) oursIs1 = false;
  else if (edge.node1_pub === remotePubkey) oursIs1 = false;
  else if (edge.node2_pub === remotePubkey) oursIs1 = true;
  else return { ours: null, peers: null };
  const p1 = edge.node1_policy ? policyView(edge.node1_policy) : null;
  const p2 = edge.node2_policy ? policyView(edge.node2_policy) : null;
  return oursIs1 ? { ours: p1, peers: p2 } : { ours: p2, peers: p1 };
}

export function policyView(p: RoutingPolicy): PolicyView {
  return {
    feeBaseMsat: signed(p.fee_base_msat),
    feeRatePpm: signed(p.fee_rate_milli_msat),
    minHtlcMsat: signed(p.min_htlc),
    maxHtlcMsat: parseU64(p.max_htlc_msat),
    timeLockDelta: Number(p.time_lock_delta ?? 0),
    disabled: Boolean(p.disabled),
    inboundFeeBaseMsat: BigInt(Math.trunc(Number(p.inbound_fee_base_msat ?? 0))),
    inboundFeeRatePpm: BigInt(Math.trunc(Number(p.inbound_fee_rate_milli_msat ?? 0))),
    lastUpdate: Number(p.last_update ?? 0),
  };
}

function signed(v: string | number | undefined | null): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  const s = String(v);
  if (!/^-?\d+$/.test(s)) throw new RangeError(`not an integer: ${JSON.stringify(v)}`);
  return BigInt(s);
}

function nonZeroId(v: string | undefined | null): string | null {
  if (v === undefined || v === null || v === '' || v === '0') return null;
  return parseU64(v).toString();
}

interface ChannelExtras {
  alias: string | null;
  aliasSource: ChannelContext['aliasSource'];
  ourPolicy: PolicyView | null;
  peerPolicy: PolicyView | null;
  fee: ChannelFeeReport | undefined;
  fetchedAtMs: number;
}

export function channelFromLnd(ch: Channel, x: ChannelExtras): ChannelContext {
  const chanId = parseU64(ch.chan_id).toString();
  let pendingOut = 0n;
  let pendingIn = 0n;
  for (const h of ch.pending_htlcs ?? []) {
    const amt = signed(h.amount);
    if (h.incoming) pendingIn += amt;
    else pendingOut += amt;
  }
  const local = signed(ch.local_balance);
  const remote = signed(ch.remote_balance);
  const reserve = signed(ch.local_constraints?.chan_reserve_sat ?? '0');
  const ourFees: OurFees | null = x.fee
    ? {
        baseFeeMsat: signed(x.fee.base_fee_msat),
        feeRatePpm: signed(x.fee.fee_per_mil),
        inboundBaseFeeMsat: BigInt(Math.trunc(Number(x.fee.inbound_base_fee_msat ?? 0))),
        inboundFeeRatePpm: BigInt(Math.trunc(Number(x.fee.inbound_fee_per_mil ?? 0))),
      }
    : null;
  return {
    chanId,
    scid: formatScid(chanId),
    status: ch.active ? 'active' : 'inactive',
    remotePubkey: ch.remote_pubkey || null,
    alias: x.alias,
    aliasSource: x.aliasSource,
    capacitySat: signed(ch.capacity),
    localBalanceSat: local,
    remoteBalanceSat: remote,
    unsettledBalanceSat: signed(ch.unsettled_balance),
    localReserveSat: reserve,
    pendingOutgoingSat: pendingOut,
    pendingIncomingSat: pendingIn,
    pendingHtlcCount: (ch.pending_htlcs ?? []).length,
    outboundMsat: outboundMsatOf(local, reserve),
    inboundMsat: remote > 0n ? remote * 1000n : 0n,
    private: Boolean(ch.private),
    aliasScids: (ch.alias_scids ?? []).map((a) => parseU64(a).toString()).filter((a) => a !== '0'),
    peerScidAlias: nonZeroId(ch.peer_scid_alias),
    zeroConf: Boolean(ch.zero_conf),
    zeroConfConfirmedScid: nonZeroId(ch.zero_conf_confirmed_scid),
    ourFees,
    ourPolicy: x.ourPolicy,
    peerPolicy: x.peerPolicy,
    flow: null,
    rating: null,
    source: 'lnd',
    fetchedAtMs: x.fetchedAtMs,
    lastSeenOpenMs: x.fetchedAtMs,
  };
}

/** Maps with at most `limit` promises in flight, keeping order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
