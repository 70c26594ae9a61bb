import { formatScid, parseChannelRef } from '../scid';
import { ChannelContext, ContextProvider, ContextSnapshot, FlowSummary, outboundMsatOf, PolicyView, RatingSummary } from './types';
import { mapPool } from './lnd';

/**
 * lnd-manageJ's REST DTOs (de.cotto.lndmanagej.controller.dto), the fields we read. Coins are
 * decimal strings ("…Sat" in sat, "…MilliSat" in msat); channel ids in lists use the "BLOCKxTXxOUT"
 * form. Older lnd-manageJ versions lack some fields: every one is optional here.
 */
export interface LmjPolicyDto {
  feeRatePpm?: number;
  baseFeeMilliSat?: string;
  inboundFeeRatePpm?: number;
  inboundBaseFeeMilliSat?: string;
  enabled?: boolean;
  timeLockDelta?: number;
  minHtlcMilliSat?: string;
  maxHtlcMilliSat?: string;
}

export interface LmjFlowReportDto {
  forwardedSentMilliSat?: string;
  forwardedReceivedMilliSat?: string;
  forwardingFeesReceivedMilliSat?: string;
  rebalanceSentMilliSat?: string;
  rebalanceReceivedMilliSat?: string;
  totalSentMilliSat?: string;
  totalReceivedMilliSat?: string;
}

export interface LmjRatingDto {
  rating?: number;
  message?: string;
  details?: Record<string, string>;
}

export interface LmjChannelDetailsDto {
  channelIdShort?: string;
  channelIdCompact?: string;
  channelIdCompactLnd?: string;
  channelPoint?: string;
  remotePubkey?: string;
  remoteAlias?: string;
  capacitySat?: string;
  status?: { private?: boolean; active?: boolean; closed?: boolean; openClosed?: string };
  balance?: {
    localBalanceSat?: string;
    localReserveSat?: string;
    localAvailableSat?: string;
    remoteBalanceSat?: string;
    remoteReserveSat?: string;
    remoteAvailableSat?: string;
  };
  policies?: { local?: LmjPolicyDto; remote?: LmjPolicyDto };
  flowReport?: LmjFlowReportDto;
  rating?: LmjRatingDto;
}

export interface LndManageJOptions {
  /** e.g. http://127.0.0.1:8081 (lnd-manageJ's default port). */
  baseUrl: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  concurrency?: number;
  /** Fetch the flow report and rating when the details do not carry them. Default true. */
  extras?: boolean;
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * Channel context from lnd-manageJ's REST API: /api/status/open-channels/, then per channel
 * /api/channel/{id}/details (+ /flow-report and /rating when the details lack them). Off unless
 * a base URL is configured. No pending-HTLC data there: pending amounts read 0.
 */
export class LndManageJProvider implements ContextProvider {
  readonly name = 'lnd-managej' as const;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: LndManageJOptions) {
    const u = new URL(opts.baseUrl); // throws on a bad URL: fail fast
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`lnd-manageJ URL must be http(s), got ${u.protocol}`);
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.fetchFn = opts.fetch ?? fetch;
  }

  async getJson<T>(path: string): Promise<T> {
    const res = await this.fetchFn(`${this.base}${path}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`lnd-manageJ ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  async load(): Promise<ContextSnapshot> {
    const list = await this.getJson<{ channels?: string[] }>('/api/status/open-channels/');
    const warnings: string[] = [];
    const fetchedAtMs = this.now();
    const ids = (list.channels ?? []).map((c) => parseChannelRef(String(c)).toString());
    const channels = await mapPool(ids, this.opts.concurrency ?? 4, async (id) => {
      try {
        return await this.channel(id, fetchedAtMs, warnings);
      } catch (err) {
        warnings.push(`lnd-manageJ ${formatScid(id)}: ${(err as Error).message}`);
        return undefined;
      }
    });
    return { ourPubkey: null, channels: channels.filter((c): c is ChannelContext => c !== undefined), fetchedAtMs, warnings };
  }

  private async channel(id: string, fetchedAtMs: number, warnings: string[]): Promise<ChannelContext> {
    const d = await this.getJson<LmjChannelDetailsDto>(`/api/channel/${id}/details`);
    let flow = d.flowReport;
    let rating = d.rating;
    if (this.opts.extras !== false) {
      if (!flow) {
        flow = await this.getJson<LmjFlowReportDto>(`/api/channel/${id}/flow-report`).catch((e: Error) => {
          warnings.push(e.message);
          return undefined;
        });
      }
      if (!rating) rating = await this.getJson<LmjRatingDto>(`/api/channel/${id}/rating`).catch(() => undefined); // 404 when lnd-manageJ has no rating
    }
    return channelFromLmj(id, d, flow ?? null, rating ?? null, fetchedAtMs);
  }
}

function n(v: string | number | undefined | null): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  const s = String(v);
  if (!/^-?\d+$/.test(s)) throw new RangeError(`not an integer: ${JSON.stringify(v)}`);
  return BigInt(s);
}

function lmjPolicy(p: LmjPolicyDto | undefined): PolicyView | null {
  if (!p) return null;
  return {
    feeBaseMsat: n(p.baseFeeMilliSat),
    feeRatePpm: n(p.feeRatePpm),
    minHtlcMsat: n(p.minHtlcMilliSat),
    maxHtlcMsat: n(p.maxHtlcMilliSat),
    timeLockDelta: Number(p.timeLockDelta ?? 0),
    disabled: p.enabled === false,
    inboundFeeBaseMsat: n(p.inboundBaseFeeMilliSat),
    inboundFeeRatePpm: n(p.inboundFeeRatePpm),
    lastUpdate: 0,
  };
}

export function channelFromLmj(
  id: string,
  d: LmjChannelDetailsDto,
  flow: LmjFlowReportDto | null,
  rating: LmjRatingDto | null,
  fetchedAtMs: number,
): ChannelContext {
  const chanId = d.channelIdShort ? parseChannelRef(d.channelIdShort).toString() : id;
  const local = n(d.balance?.localBalanceSat);
  const reserve = n(d.balance?.localReserveSat);
  const remote = n(d.balance?.remoteBalanceSat);
  const ours = lmjPolicy(d.policies?.local);
  const closed = d.status?.closed === true || (d.status?.openClosed !== undefined && d.status.openClosed !== 'OPEN');
  const flowSummary: FlowSummary | null = flow
    ? {
        forwardedSentMsat: n(flow.forwardedSentMilliSat),
        forwardedReceivedMsat: n(flow.forwardedReceivedMilliSat),
        forwardingFeesReceivedMsat: n(flow.forwardingFeesReceivedMilliSat),
        rebalanceSentMsat: n(flow.rebalanceSentMilliSat),
        rebalanceReceivedMsat: n(flow.rebalanceReceivedMilliSat),
        totalSentMsat: n(flow.totalSentMilliSat),
        totalReceivedMsat: n(flow.totalReceivedMilliSat),
      }
    : null;
  const ratingSummary: RatingSummary | null = rating
    ? { rating: Number(rating.rating ?? -1), message: String(rating.message ?? ''), details: { ...(rating.details ?? {}) } }
    : null;
  return {
    chanId,
    scid: formatScid(chanId),
    status: closed ? 'closed' : d.status?.active === false ? 'inactive' : 'active',
    remotePubkey: d.remotePubkey ?? null,
    alias: typeof d.remoteAlias === 'string' && d.remoteAlias !== '' ? d.remoteAlias : null,
    aliasSource: d.remoteAlias ? 'lnd-managej' : null,
    capacitySat: n(d.capacitySat),
    localBalanceSat: local,
    remoteBalanceSat: remote,
    unsettledBalanceSat: 0n,
    localReserveSat: reserve,
    pendingOutgoingSat: 0n,
    pendingIncomingSat: 0n,
    pendingHtlcCount: 0,
    outboundMsat: outboundMsatOf(local, reserve),
    inboundMsat: remote > 0n ? remote * 1000n : 0n,
    private: d.status?.private === true,
    aliasScids: [],
    peerScidAlias: null,
    zeroConf: false,
    zeroConfConfirmedScid: null,
    ourFees: ours
      ? { baseFeeMsat: ours.feeBaseMsat, feeRatePpm: ours.feeRatePpm, inboundBaseFeeMsat: ours.inboundFeeBaseMsat, inboundFeeRatePpm: ours.inboundFeeRatePpm }
      : null,
    ourPolicy: ours,
    peerPolicy: lmjPolicy(d.policies?.remote),
    flow: flowSummary,
    rating: ratingSummary,
    source: 'lnd-managej',
    fetchedAtMs,
    lastSeenOpenMs: fetchedAtMs,
  };
}
