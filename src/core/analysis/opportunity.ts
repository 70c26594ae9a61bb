import type { ChannelContext } from '../context/types';
import { toJsonValue } from '../context/types';
import { ppm } from '../format';
import { forwardFeeMsat } from '../normalizer';
import { CATEGORIES, Category, categoryOf } from '../reasons';
import { formatScid } from '../scid';
import type { FailureSample, ReasonAgg, WindowCoverage, WindowKey, WindowSource } from './window';
import { WINDOW_KEYS } from './window';

/** What the analysis needs from the channel context (ChannelContextService fits). */
export interface ContextLookup {
  get(chanId: string): ChannelContext;
  open(): ChannelContext[];
}

export interface AnalysisOptions {
  /** The window recommendations are drawn from. Default '24h'. */
  window?: WindowKey;
  nowMs?: number;
  /** No recommendation from fewer relevant failures than this. Default 3. */
  minFailures?: number;
  /** No recommendation from less observation than this (hours of the window actually watched). Default 1. */
  minObservedHours?: number;
  /** Outbound below this share of capacity is "depleted". Default 0.2. */
  depletedShare?: number;
  /** Rebalance sources must hold more than this share as outbound. Default 0.6. */
  surplusShare?: number;
  /** Rebalancing aims at this outbound share (target) and never takes sources below it. Default 0.5. */
  balancedShare?: number;
  /** A fee-insufficient offer is "close" when it pays at least this share of our rate. Default 0.75. */
  feeCloseShare?: number;
  /** Route pairs listed. Default 20. */
  topPairs?: number;
}

const DEFAULTS = {
  window: '24h' as WindowKey,
  minFailures: 3,
  minObservedHours: 1,
  depletedShare: 0.2,
  surplusShare: 0.6,
  balancedShare: 0.5,
  feeCloseShare: 0.75,
  topPairs: 20,
};

export type Confidence = 'low' | 'medium' | 'high';

export interface Evidence {
  label: string;
  value: string | number | bigint;
  /** The window the number comes from, or 'now' for the current channel context. */
  window: WindowKey | 'now';
  /** events: the failures/successes we saw; context-now: LND now; snapshot-at-arrival: context held when each failure arrived. */
  basis: 'events' | 'context-now' | 'snapshot-at-arrival' | 'derived';
}

export interface ExpectedGain {
  /** Expected extra fees per 30 days, sat. */
  sat30d: bigint;
  /** A rough band (±2√n on the count of failures it rests on). */
  lowSat30d: bigint;
  highSat30d: bigint;
  confidence: Confidence;
  /** Failures the projection rests on, and the hours observed. */
  failures: number;
  observedHours: number;
  /** Share of the missed fees this action is assumed to win back. */
  captureShare: number;
  basis: string;
}

export interface UrgencyPart {
  name: 'gain' | 'frequency' | 'recency' | 'confidence';
  points: number;
  max: number;
  why: string;
}

export interface Urgency {
  score: number;
  parts: UrgencyPart[];
}

export interface RebalanceLeg {
  chanId: string;
  scid: string;
  alias: string | null;
  amountSat: bigint;
  outboundBeforeSat: bigint;
  outboundAfterSat: bigint;
  capacitySat: bigint;
}

export type RecommendationKind =
  | 'rebalance-in'
  | 'raise-fee'
  | 'add-capacity'
  | 'check-peer-limits'
  | 'lower-fee'
  | 'raise-max-htlc'
  | 'lower-min-htlc'
  | 'review-time-lock-delta'
  | 'investigate-peer';

export type RecommendationDetails =
  | {
      kind: 'rebalance-in';
      /** Always 'in': local balance moves FROM the sources INTO the target. */
      direction: 'in';
      amountSat: bigint;
      target: RebalanceLeg;
      sources: RebalanceLeg[];
      /** Rebalancing pays off while it costs less than this (fee ppm of the amount, per 30 days of gain). */
      breakEvenPpm: bigint;
      alternative: { kind: 'raise-fee'; fromPpm: bigint; toPpm: bigint } | null;
    }
  | { kind: 'raise-fee'; fromPpm: bigint; toPpm: bigint }
  | { kind: 'add-capacity'; currentCapacitySat: bigint; suggestedCapacitySat: bigint; addSat: bigint; p90FailedAmountSat: bigint }
  | { kind: 'check-peer-limits'; medianFailedAmountSat: bigint; outboundSat: bigint }
  | { kind: 'lower-fee'; fromPpm: bigint; toPpm: bigint; baseFeeMsat: bigint; recoveredFailures: number; offeredPpmMedian: bigint }
  | { kind: 'raise-max-htlc'; fromMsat: bigint | null; toMsat: bigint }
  | { kind: 'lower-min-htlc'; fromMsat: bigint | null; toMsat: bigint }
  | { kind: 'review-time-lock-delta'; current: number | null; reasons: Record<string, number> }
  | { kind: 'investigate-peer'; status: string; ourPolicyDisabled: boolean | null; reasons: Record<string, number>; suggestClose: boolean };

export interface Recommendation {
  id: string;
  kind: RecommendationKind;
  chanId: string;
  scid: string;
  /** Attacker-controlled: data only. Texts below never contain it (they name the SCID). */
  alias: string | null;
  category: Category;
  action: string;
  details: RecommendationDetails;
  evidence: Evidence[];
  expectedGain: ExpectedGain;
  urgency: Urgency;
  window: WindowKey;
}

export interface CategoryAgg {
  count: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
}

export interface WindowMetrics {
  window: WindowKey;
  observedHours: number;
  failures: number;
  successes: number;
  /** successes / (successes + failures); null without any forward. */
  successRate: number | null;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  earnedFeesMsat: bigint;
  /** Outgoing amount of the successful forwards. */
  forwardedMsat: bigint;
  byCategory: Record<Category, CategoryAgg>;
  byReason: Record<string, ReasonAgg>;
}

export interface LiquidityEvidence {
  failures: number;
  /** Failures whose amount exceeded the outbound liquidity (at arrival, or now when no snapshot). */
  exceededOutbound: number;
  basis: 'snapshot-at-arrival' | 'context-now' | 'mixed';
  medianAmountMsat: bigint;
  p90AmountMsat: bigint;
  outboundNowMsat: bigint;
  outboundShareNow: number | null;
  medianOutboundAtArrivalMsat: bigint | null;
  state: 'depleted' | 'balanced' | 'unknown';
}

export interface FeeOfferEvidence {
  failures: number;
  ourPpm: bigint | null;
  ourBaseMsat: bigint | null;
  /** Offered fee rates, ppm = (incoming − outgoing) / outgoing. */
  offeredPpmMin: bigint;
  offeredPpmMedian: bigint;
  offeredPpmMax: bigint;
  /** Offers paying at least feeCloseShare of our rate. */
  closeOffers: number;
}

export interface ChannelOpportunity {
  chanId: string;
  scid: string;
  alias: string | null;
  status: ChannelContext['status'];
  capacitySat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  ourFeePpm: bigint | null;
  windows: Record<WindowKey, WindowMetrics>;
  liquidity: LiquidityEvidence | null;
  feeOffers: FeeOfferEvidence | null;
  recommendations: Recommendation[];
  /** Why there is no (or only some) advice: below minimums, downstream failures, closed channel, … */
  notes: string[];
  actionable: boolean;
  /** Highest urgency of its recommendations (0 without). */
  urgency: number;
}

export interface RoutePairSummary {
  incomingChanId: string;
  incomingScid: string;
  incomingAlias: string | null;
  outgoingChanId: string;
  outgoingScid: string;
  outgoingAlias: string | null;
  failures: number;
  successes: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  topReason: string | null;
  byCategory: Record<Category, number>;
}

export interface OpportunityReport {
  generatedAtMs: number;
  window: WindowKey;
  coverage: WindowCoverage;
  minimums: { failures: number; observedHours: number };
  view: 'actionable' | 'full';
  channels: ChannelOpportunity[];
  routePairs: RoutePairSummary[];
  /** All recommendations, most urgent first. */
  recommendations: Recommendation[];
  summary: {
    channelsWithFailures: number;
    channelsWithRecommendations: number;
    missedFeesMsat: bigint;
    projectedGainSat30d: bigint;
    message: string;
  };
}

const SAT = 1000n;
const HOUR_MS = 3600_000;
const MONTH_MS = 30 * 86400_000;

/**
 * Turns failure windows and channel context into ranked, explained recommendations. Never
 * advises from less than the minimum evidence; downstream failures are shown, never advised on.
 */
export function analyzeOpportunities(source: WindowSource, context: ContextLookup, options: AnalysisOptions = {}): OpportunityReport {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const nowMs = options.nowMs ?? Date.now();
  const win = o.window;
  const coverage = source.coverage(win, nowMs);
  const observedHours = coverage.observedMs / HOUR_MS;

  // window metrics for every channel that had a forward in any window
  const metrics = new Map<string, Partial<Record<WindowKey, WindowMetrics>>>();
  for (const w of WINDOW_KEYS) {
    const cov = w === win ? coverage : source.coverage(w, nowMs);
    for (const row of source.channelRows(w, nowMs)) {
      const m = metrics.get(row.chanId) ?? {};
      m[w] = windowMetrics(w, cov, row);
      metrics.set(row.chanId, m);
    }
  }

  const open = context.open();
  const drainingIds = new Set<string>();
  const primaryRows = new Map(source.channelRows(win, nowMs).map((r) => [r.chanId, r]));
  for (const r of primaryRows.values()) {
    let liq = 0;
    for (const [reason, a] of r.byReason) if (categoryOf(reason) === 'liquidity') liq += a.count;
    if (liq > 0) drainingIds.add(r.chanId);
  }

  const channels: ChannelOpportunity[] = [];
  for (const [chanId, m] of metrics) {
    const ctx = context.get(chanId);
    const wm = fillWindows(m, (w) => source.coverage(w, nowMs));
    const primary = wm[win];
    const samples = source.failureSamples(chanId, win, nowMs);
    const opp: ChannelOpportunity = {
      chanId,
      scid: formatScid(chanId),
      alias: ctx.alias,
      status: ctx.status,
      capacitySat: ctx.capacitySat,
      outboundMsat: ctx.outboundMsat,
      inboundMsat: ctx.inboundMsat,
      ourFeePpm: ctx.ourFees?.feeRatePpm ?? null,
      windows: wm,
      liquidity: null,
      feeOffers: null,
      recommendations: [],
      notes: [],
      actionable: false,
      urgency: 0,
    };
    const env: RuleEnv = { o, win, coverage, observedHours, ctx, primary, samples, opp, open, drainingIds, nowMs };
    if (primary.failures > 0) {
      if (ctx.status === 'closed') opp.notes.push('The channel is closed: its failures are history, nothing to change on it.');
      else if (ctx.status === 'unknown') opp.notes.push('This channel is not in LND\'s channel list (unknown or not yet loaded): no advice without its context.');
      else {
        liquidityRule(env);
        feeRule(env);
        policyRule(env);
        peerRule(env);
      }
      const down = primary.byCategory.downstream;
      if (down.count > 0)
        opp.notes.push(`${down.count} failure(s) happened downstream, after we forwarded the HTLC: not ours to fix, so no advice is drawn from them.`);
      const other = primary.byCategory.other;
      if (other.count > 0) opp.notes.push(`${other.count} failure(s) with reasons that suggest no local action (${Object.keys(primary.byReason).filter((r) => categoryOf(r) === 'other').join(', ')}).`);
      if (opp.recommendations.length === 0 && (ctx.status === 'active' || ctx.status === 'inactive'))
        opp.notes.push('Nothing actionable on this channel in this window.');
    }
    opp.actionable = opp.recommendations.length > 0;
    opp.urgency = Math.max(0, ...opp.recommendations.map((r) => r.urgency.score));
    opp.recommendations.sort((a, b) => b.urgency.score - a.urgency.score);
    channels.push(opp);
  }
  channels.sort(
    (a, b) =>
      b.urgency - a.urgency ||
      cmpBig(b.windows[win].missedFeesMsat, a.windows[win].missedFeesMsat) ||
      b.windows[win].failures - a.windows[win].failures ||
      (a.chanId < b.chanId ? -1 : 1),
  );

  const routePairs = source
    .routePairRows(win, nowMs)
    .filter((p) => p.failures > 0)
    .sort((a, b) => b.failures - a.failures || cmpBig(b.missedFeesMsat, a.missedFeesMsat))
    .slice(0, o.topPairs)
    .map((p): RoutePairSummary => {
      const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
      let top: string | null = null;
      let topN = 0;
      for (const [r, a] of p.byReason) {
        byCategory[categoryOf(r)] += a.count;
        if (a.count > topN) {
          top = r;
          topN = a.count;
        }
      }
      return {
        incomingChanId: p.incomingChanId,
        incomingScid: formatScid(p.incomingChanId),
        incomingAlias: context.get(p.incomingChanId).alias,
        outgoingChanId: p.outgoingChanId,
        outgoingScid: formatScid(p.outgoingChanId),
        outgoingAlias: context.get(p.outgoingChanId).alias,
        failures: p.failures,
        successes: p.successes,
        missedFeesMsat: p.missedFeesMsat,
        missedAmountMsat: p.missedAmountMsat,
        topReason: top,
        byCategory,
      };
    });

  const recommendations = channels.flatMap((c) => c.recommendations).sort((a, b) => b.urgency.score - a.urgency.score);
  const withFailures = channels.filter((c) => c.windows[win].failures > 0);
  const missed = withFailures.reduce((s, c) => s + c.windows[win].missedFeesMsat, 0n);
  const projected = recommendations.reduce((s, r) => s + r.expectedGain.sat30d, 0n);
  let message: string;
  if (withFailures.length === 0) message = `No failed forwards in the last ${win} (${fmtHours(observedHours)} observed).`;
  else if (recommendations.length === 0)
    message =
      observedHours < o.minObservedHours
        ? `Nothing to recommend yet: ${fmtHours(observedHours)} observed, recommendations need at least ${o.minObservedHours} h and ${o.minFailures} failures of a kind.`
        : 'Nothing actionable: the failures seen are downstream, below the evidence minimums, or need no local change.';
  else message = `${recommendations.length} recommendation(s) on ${channels.filter((c) => c.actionable).length} channel(s).`;

  return {
    generatedAtMs: nowMs,
    window: win,
    coverage,
    minimums: { failures: o.minFailures, observedHours: o.minObservedHours },
    view: 'full',
    channels,
    routePairs,
    recommendations,
    summary: {
      channelsWithFailures: withFailures.length,
      channelsWithRecommendations: channels.filter((c) => c.actionable).length,
      missedFeesMsat: missed,
      projectedGainSat30d: projected,
      message,
    },
  };
}

/**
 * The "actionable only" view (default in the UI and CLI): channels with a recommendation and
 * missed fees above zero; route pairs stay. The full view is the report itself.
 */
export function actionableView(report: OpportunityReport): OpportunityReport {
  const channels = report.channels.filter((c) => c.actionable && c.windows[report.window].missedFeesMsat > 0n);
  const ids = new Set(channels.map((c) => c.chanId));
  return { ...report, view: 'actionable', channels, recommendations: report.recommendations.filter((r) => ids.has(r.chanId)) };
}

/** The report as plain JSON values (bigint → decimal string). */
export function reportToJson(report: OpportunityReport): unknown {
  return toJsonValue({ ...report, generatedAt: new Date(report.generatedAtMs).toISOString() });
}

// ---------------------------------------------------------------------------------------------

interface RuleEnv {
  o: typeof DEFAULTS;
  win: WindowKey;
  coverage: WindowCoverage;
  observedHours: number;
  ctx: ChannelContext;
  primary: WindowMetrics;
  samples: FailureSample[];
  opp: ChannelOpportunity;
  open: ChannelContext[];
  drainingIds: Set<string>;
  nowMs: number;
}

/** Checks the minimums; adds a note and returns false when the evidence is too thin. */
function enough(env: RuleEnv, what: string, n: number): boolean {
  const { o, observedHours } = env;
  if (n >= o.minFailures && observedHours >= o.minObservedHours) return true;
  if (n > 0)
    env.opp.notes.push(
      `${n} ${what} failure(s) in ${fmtHours(observedHours)} observed: below the minimum (${o.minFailures} failures and ${o.minObservedHours} h) for a recommendation.`,
    );
  return false;
}

function liquidityRule(env: RuleEnv): void {
  const { ctx, o, win, opp } = env;
  const samples = env.samples.filter((s) => s.category === 'liquidity' && s.outgoingAmtMsat > 0n);
  const agg = env.primary.byCategory.liquidity;
  if (agg.count === 0) return;
  const amounts = samples.map((s) => s.outgoingAmtMsat).sort(cmpBig);
  const median = quantile(amounts, 0.5);
  const p90 = quantile(amounts, 0.9);
  let exceeded = 0;
  let snaps = 0;
  const outboundsAtArrival: bigint[] = [];
  for (const s of samples) {
    const ob = s.outboundAtArrivalMsat ?? ctx.outboundMsat;
    if (s.outboundAtArrivalMsat !== null) {
      snaps++;
      outboundsAtArrival.push(s.outboundAtArrivalMsat);
    }
    if (s.outgoingAmtMsat > ob) exceeded++;
  }
  const capMsat = ctx.capacitySat * SAT;
  const shareNow = capMsat > 0n ? Number((ctx.outboundMsat * 10_000n) / capMsat) / 10_000 : null;
  outboundsAtArrival.sort(cmpBig);
  const medianAtArrival = outboundsAtArrival.length ? quantile(outboundsAtArrival, 0.5) : null;
  const shareAtArrival = medianAtArrival !== null && capMsat > 0n ? Number((medianAtArrival * 10_000n) / capMsat) / 10_000 : null;
  const depleted = (shareNow !== null && shareNow < o.depletedShare) || (shareAtArrival !== null && shareAtArrival < o.depletedShare);
  const basis = snaps === samples.length && snaps > 0 ? 'snapshot-at-arrival' : snaps === 0 ? 'context-now' : 'mixed';
  opp.liquidity = {
    failures: agg.count,
    exceededOutbound: exceeded,
    basis,
    medianAmountMsat: median,
    p90AmountMsat: p90,
    outboundNowMsat: ctx.outboundMsat,
    outboundShareNow: shareNow,
    medianOutboundAtArrivalMsat: medianAtArrival,
    state: capMsat === 0n ? 'unknown' : depleted ? 'depleted' : 'balanced',
  };
  if (ctx.status !== 'active') return; // an inactive channel's failures are the peer rule's
  if (!enough(env, 'liquidity', agg.count)) return;
  if (capMsat === 0n) return;

  const evidence: Evidence[] = [
    { label: 'liquidity failures', value: agg.count, window: win, basis: 'events' },
    { label: 'missed fees (msat)', value: agg.missedFeesMsat, window: win, basis: 'events' },
    { label: 'median failed amount (msat)', value: median, window: win, basis: 'events' },
    { label: 'failed amounts above the outbound liquidity', value: `${exceeded} of ${samples.length}`, window: win, basis: basis === 'context-now' ? 'context-now' : 'snapshot-at-arrival' },
    { label: 'outbound liquidity now (msat)', value: ctx.outboundMsat, window: 'now', basis: 'context-now' },
    { label: 'outbound share of capacity now', value: pct(shareNow), window: 'now', basis: 'context-now' },
  ];
  if (medianAtArrival !== null)
    evidence.push({ label: 'median outbound when the failures arrived (msat)', value: medianAtArrival, window: win, basis: 'snapshot-at-arrival' });

  const fees = ctx.ourFees;
  if (depleted) {
    // Bring the target to the balanced share, and at least enough for the p90 HTLC when it fits.
    const targetMsat = (capMsat * BigInt(Math.round(o.balancedShare * 1000))) / 1000n;
    const maxMsat = capMsat - ctx.localReserveSat * SAT;
    let wantMsat = targetMsat - ctx.outboundMsat;
    const forP90 = (p90 < maxMsat ? p90 : maxMsat) - ctx.outboundMsat;
    if (forP90 > wantMsat) wantMsat = forP90;
    const want = ceilDiv(wantMsat > 0n ? wantMsat : 0n, 1000n * SAT) * 1000n; // whole thousands of sat
    const sources = pickSources(env, want);
    const amount = sources.reduce((s, l) => s + l.amountSat, 0n);
    const raiseTo = fees ? raisedFee(fees.feeRatePpm) : null;
    const outboundAfterSat = ctx.outboundMsat / SAT + amount;
    // failures that would have fit with the added outbound
    const fitting = samples.filter((s) => s.outgoingAmtMsat <= outboundAfterSat * SAT);
    const fitFees = fitting.reduce((s, x) => s + missed(x), 0n);
    const captureShare = 0.5;
    if (amount > 0n) {
      const gain = project(env, fitFees, fitting.length, captureShare, 'missed fees of the liquidity failures that would have fit after the rebalance, half assumed to recur before it drains again');
      const breakEvenPpm = amount > 0n ? (gain.sat30d * 1_000_000n) / amount : 0n;
      evidence.push({ label: 'sources with surplus outbound', value: sources.map((s) => s.scid).join(', '), window: 'now', basis: 'context-now' });
      add(env, {
        kind: 'rebalance-in',
        category: 'liquidity',
        action:
          `Add outbound liquidity to ${ctx.scid}: rebalance IN ${fmtSat(amount)} sat, moving local balance FROM ` +
          `${sources.map((s) => `${s.scid} (${fmtSat(s.amountSat)} sat)`).join(', ')} INTO ${ctx.scid}` +
          ` (its outbound goes from ${fmtSat(ctx.outboundMsat / SAT)} to ${fmtSat(outboundAfterSat)} sat).` +
          (raiseTo !== null ? ` Or raise its fee from ${fees!.feeRatePpm} to ${raiseTo} ppm to slow the drain.` : ''),
        details: {
          kind: 'rebalance-in',
          direction: 'in',
          amountSat: amount,
          target: {
            chanId: ctx.chanId,
            scid: ctx.scid,
            alias: ctx.alias,
            amountSat: amount,
            outboundBeforeSat: ctx.outboundMsat / SAT,
            outboundAfterSat,
            capacitySat: ctx.capacitySat,
          },
          sources,
          breakEvenPpm,
          alternative: raiseTo !== null ? { kind: 'raise-fee', fromPpm: fees!.feeRatePpm, toPpm: raiseTo } : null,
        },
        evidence,
        gain,
      });
    } else if (raiseTo !== null) {
      evidence.push({ label: 'channels with surplus outbound to rebalance from', value: 0, window: 'now', basis: 'context-now' });
      add(env, {
        kind: 'raise-fee',
        category: 'liquidity',
        action: `${ctx.scid} is drained and no channel has surplus outbound to rebalance from: raise its fee from ${fees!.feeRatePpm} to ${raiseTo} ppm to slow the drain (or add outbound by other means, e.g. a loop-out elsewhere).`,
        details: { kind: 'raise-fee', fromPpm: fees!.feeRatePpm, toPpm: raiseTo },
        evidence,
        gain: project(env, fitFees, fitting.length, 0.25, 'a quarter of the missed fees of failures that fit a refilled channel (a higher fee slows the drain; it does not refill)'),
      });
    }
    return;
  }

  // Balanced: failures for HTLCs larger than what the channel can hold → more capacity.
  if (exceeded * 2 >= samples.length && samples.length > 0) {
    const suggestedMsat = ceilDiv((p90 * 1_000n) / BigInt(Math.round(o.balancedShare * 1000)), 1_000_000n * SAT) * 1_000_000n * SAT;
    const suggested = suggestedMsat / SAT;
    if (suggested > ctx.capacitySat) {
      const bigOnes = samples.filter((s) => s.outgoingAmtMsat > (s.outboundAtArrivalMsat ?? ctx.outboundMsat));
      add(env, {
        kind: 'add-capacity',
        category: 'liquidity',
        action: `${ctx.scid} is balanced but too small for the HTLCs routed to it: add capacity (splice in or open another channel to the same peer) of about ${fmtSat(suggested - ctx.capacitySat)} sat, for ${fmtSat(suggested)} sat in total.`,
        details: { kind: 'add-capacity', currentCapacitySat: ctx.capacitySat, suggestedCapacitySat: suggested, addSat: suggested - ctx.capacitySat, p90FailedAmountSat: p90 / SAT },
        evidence: [...evidence, { label: '90th percentile of failed amounts (msat)', value: p90, window: win, basis: 'events' }],
        gain: project(env, bigOnes.reduce((s, x) => s + missed(x), 0n), bigOnes.length, 0.5, 'missed fees of the failures larger than the outbound, half assumed to be won with the larger channel'),
      });
    }
    return;
  }
  // Balanced and the HTLCs fit: the limit is elsewhere (peer's max in-flight / HTLC slots).
  add(env, {
    kind: 'check-peer-limits',
    category: 'liquidity',
    action: `${ctx.scid} failed HTLCs for lack of balance although its outbound covered most of them: check in-flight limits (max_pending_amt_msat, max_accepted_htlcs) and stuck pending HTLCs on this channel.`,
    details: { kind: 'check-peer-limits', medianFailedAmountSat: median / SAT, outboundSat: ctx.outboundMsat / SAT },
    evidence,
    gain: project(env, agg.missedFeesMsat, agg.count, 0.25, 'a quarter of the missed liquidity fees (the cause is uncertain)'),
  });
}

function pickSources(env: RuleEnv, wantSat: bigint): RebalanceLeg[] {
  const { o, ctx } = env;
  if (wantSat <= 0n) return [];
  const candidates = env.open
    .filter((c) => c.chanId !== ctx.chanId && c.status === 'active' && c.capacitySat > 0n && !env.drainingIds.has(c.chanId))
    .map((c) => {
      const cap = c.capacitySat * SAT;
      const share = Number((c.outboundMsat * 10_000n) / cap) / 10_000;
      const keepMsat = (cap * BigInt(Math.round(o.balancedShare * 1000))) / 1000n;
      const surplusSat = (c.outboundMsat - keepMsat) / SAT;
      return { c, share, surplusSat };
    })
    .filter((x) => x.share > o.surplusShare && x.surplusSat > 0n)
    .sort((a, b) => cmpBig(b.surplusSat, a.surplusSat) || (a.c.chanId < b.c.chanId ? -1 : 1));
  const legs: RebalanceLeg[] = [];
  let left = wantSat;
  for (const { c, surplusSat } of candidates) {
    if (left <= 0n) break;
    const take = surplusSat < left ? surplusSat : left;
    legs.push({
      chanId: c.chanId,
      scid: c.scid,
      alias: c.alias,
      amountSat: take,
      outboundBeforeSat: c.outboundMsat / SAT,
      outboundAfterSat: c.outboundMsat / SAT - take,
      capacitySat: c.capacitySat,
    });
    left -= take;
  }
  return legs;
}

/** A step up that is large enough to matter: +25 %, at least +10 ppm. */
function raisedFee(ppmNow: bigint): bigint {
  const up = (ppmNow * 125n + 99n) / 100n;
  return up - ppmNow < 10n ? ppmNow + 10n : up;
}

function feeRule(env: RuleEnv): void {
  const { ctx, o, win, opp } = env;
  const samples = env.samples.filter((s) => s.reason === 'FEE_INSUFFICIENT' && s.outgoingAmtMsat > 0n);
  const agg = env.primary.byReason['FEE_INSUFFICIENT'];
  if (!agg || agg.count === 0) return;
  const offered = samples.map((s) => ppm(missed(s), s.outgoingAmtMsat)).sort(cmpBig);
  const fees = ctx.ourFees;
  const ours = fees?.feeRatePpm ?? null;
  const base = fees?.baseFeeMsat ?? 0n;
  // The highest rate that would have accepted each offer, given our base fee.
  const accepting = samples.map((s) => {
    const forRate = missed(s) - base;
    return forRate <= 0n ? -1n : (forRate * 1_000_000n) / s.outgoingAmtMsat;
  });
  const closeFloor = ours === null ? null : (ours * BigInt(Math.round(o.feeCloseShare * 1000))) / 1000n;
  const closeIdx = accepting.map((a, i) => [a, i] as const).filter(([a]) => closeFloor !== null && ours !== null && a >= closeFloor && a < ours);
  opp.feeOffers = {
    failures: agg.count,
    ourPpm: ours,
    ourBaseMsat: fees?.baseFeeMsat ?? null,
    offeredPpmMin: offered[0] ?? 0n,
    offeredPpmMedian: quantile(offered, 0.5),
    offeredPpmMax: offered[offered.length - 1] ?? 0n,
    closeOffers: closeIdx.length,
  };
  if (ours === null) {
    if (agg.count > 0) opp.notes.push('Fee-insufficient failures, but our fee for this channel is unknown (not in FeeReport): no fee advice.');
    return;
  }
  if (!enough(env, 'fee-insufficient', agg.count)) return;
  if (closeIdx.length < o.minFailures) {
    opp.notes.push(
      `${agg.count} fee-insufficient failure(s), but only ${closeIdx.length} offered at least ${Math.round(o.feeCloseShare * 100)} % of our ${ours} ppm: the senders are far below our rate (or use an outdated policy of ours), no fee change advised.`,
    );
    return;
  }
  // Try each candidate rate; keep the best net gain (recovered fees − fees given up on successes).
  const forwarded = env.primary.forwardedMsat;
  let best: { rate: bigint; net: bigint; recovered: number; recoveredFees: bigint } | null = null;
  const rates = [...new Set(closeIdx.map(([a]) => a))].sort(cmpBig);
  for (const r of rates) {
    let rec = 0;
    let recFees = 0n;
    for (const [a, i] of closeIdx) {
      if (a >= r) {
        rec++;
        recFees += base + (samples[i]!.outgoingAmtMsat * r) / 1_000_000n;
      }
    }
    const lost = (forwarded * (ours - r)) / 1_000_000n;
    const net = recFees - lost;
    if (!best || net > best.net) best = { rate: r, net, recovered: rec, recoveredFees: recFees };
  }
  if (!best || best.net <= 0n) {
    opp.notes.push(`Lowering the fee to win the ${closeIdx.length} close offers would cost more on successful forwards than it recovers in this window: no fee change advised.`);
    return;
  }
  const median = quantile(offered, 0.5);
  add(env, {
    kind: 'lower-fee',
    category: 'fee',
    action: `Lower the fee rate of ${ctx.scid} from ${ours} to ${best.rate} ppm: ${best.recovered} of ${agg.count} fee-insufficient forwards offered at least that (median offer ${median} ppm).`,
    details: { kind: 'lower-fee', fromPpm: ours, toPpm: best.rate, baseFeeMsat: base, recoveredFailures: best.recovered, offeredPpmMedian: median },
    evidence: [
      { label: 'fee-insufficient failures', value: agg.count, window: win, basis: 'events' },
      { label: 'our fee rate (ppm)', value: ours, window: 'now', basis: 'context-now' },
      { label: 'our base fee (msat)', value: base, window: 'now', basis: 'context-now' },
      { label: 'offered fee rate, median (ppm)', value: median, window: win, basis: 'events' },
      { label: 'offered fee rate, range (ppm)', value: `${offered[0] ?? 0n}–${offered[offered.length - 1] ?? 0n}`, window: win, basis: 'events' },
      { label: `offers within ${Math.round((1 - o.feeCloseShare) * 100)} % of our rate`, value: closeIdx.length, window: win, basis: 'events' },
      { label: 'fees recovered at the new rate (msat)', value: best.recoveredFees, window: win, basis: 'derived' },
      { label: 'fees given up on successful forwards (msat)', value: best.recoveredFees - best.net, window: win, basis: 'derived' },
      { label: 'note', value: 'if you raised this fee recently, senders may still use the old policy; such failures fade as gossip spreads', window: win, basis: 'derived' },
    ],
    gain: project(env, best.net, best.recovered, 1, 'fees recovered at the new rate minus fees given up on this window\'s successful forwards'),
  });
}

function policyRule(env: RuleEnv): void {
  const { ctx, win, primary } = env;
  const pol = ctx.ourPolicy;
  const maxAgg = primary.byReason['HTLC_EXCEEDS_MAX'];
  if (maxAgg && maxAgg.count > 0 && enough(env, 'max-HTLC', maxAgg.count)) {
    const s = env.samples.filter((x) => x.reason === 'HTLC_EXCEEDS_MAX' && x.outgoingAmtMsat > 0n);
    const maxFailed = s.reduce((m, x) => (x.outgoingAmtMsat > m ? x.outgoingAmtMsat : m), 0n);
    const ceiling = (ctx.capacitySat - ctx.localReserveSat) * SAT;
    const to = ceilDiv(maxFailed < ceiling ? maxFailed : ceiling, 1000n) * 1000n;
    if (to > (pol?.maxHtlcMsat ?? 0n)) {
      const fit = s.filter((x) => x.outgoingAmtMsat <= to);
      add(env, {
        kind: 'raise-max-htlc',
        category: 'policy',
        action: `Raise max_htlc_msat of ${ctx.scid} from ${pol ? pol.maxHtlcMsat.toString() : 'unknown'} to ${to} msat (the largest refused HTLC, within the capacity).`,
        details: { kind: 'raise-max-htlc', fromMsat: pol?.maxHtlcMsat ?? null, toMsat: to },
        evidence: [
          { label: 'HTLC_EXCEEDS_MAX failures', value: maxAgg.count, window: win, basis: 'events' },
          { label: 'largest refused amount (msat)', value: maxFailed, window: win, basis: 'events' },
          { label: 'our max_htlc_msat', value: pol ? pol.maxHtlcMsat : 'unknown', window: 'now', basis: 'context-now' },
          { label: 'outbound liquidity now (msat)', value: ctx.outboundMsat, window: 'now', basis: 'context-now' },
        ],
        gain: project(env, fit.reduce((a, x) => a + missed(x), 0n), fit.length, 0.75, 'missed fees of the refused HTLCs up to the new maximum; a quarter assumed to fail on liquidity instead'),
      });
    }
  }
  const minAgg = primary.byReason['AMOUNT_BELOW_MINIMUM'];
  if (minAgg && minAgg.count > 0 && enough(env, 'min-HTLC', minAgg.count)) {
    const s = env.samples.filter((x) => x.reason === 'AMOUNT_BELOW_MINIMUM');
    const minFailed = s.reduce((m, x) => (m === null || x.outgoingAmtMsat < m ? x.outgoingAmtMsat : m), null as bigint | null) ?? 1n;
    const to = minFailed > 0n ? minFailed : 1n;
    if (pol === null || to < pol.minHtlcMsat) {
      add(env, {
        kind: 'lower-min-htlc',
        category: 'policy',
        action: `Lower min_htlc_msat of ${ctx.scid} from ${pol ? pol.minHtlcMsat.toString() : 'unknown'} to ${to} msat (the smallest refused HTLC; the peer's own minimum still applies).`,
        details: { kind: 'lower-min-htlc', fromMsat: pol?.minHtlcMsat ?? null, toMsat: to },
        evidence: [
          { label: 'AMOUNT_BELOW_MINIMUM failures', value: minAgg.count, window: win, basis: 'events' },
          { label: 'smallest refused amount (msat)', value: to, window: win, basis: 'events' },
          { label: 'our min_htlc_msat', value: pol ? pol.minHtlcMsat : 'unknown', window: 'now', basis: 'context-now' },
        ],
        gain: project(env, minAgg.missedFeesMsat, minAgg.count, 1, 'missed fees of the refused small HTLCs'),
      });
    }
  }
  const cltv: Record<string, number> = {};
  let cltvN = 0;
  let cltvFees = 0n;
  for (const r of ['INCORRECT_CLTV_EXPIRY', 'EXPIRY_TOO_SOON', 'EXPIRY_TOO_FAR']) {
    const a = primary.byReason[r];
    if (a && a.count > 0) {
      cltv[r] = a.count;
      cltvN += a.count;
      cltvFees += a.missedFeesMsat;
    }
  }
  if (cltvN > 0 && enough(env, 'CLTV', cltvN)) {
    const cur = pol?.timeLockDelta ?? null;
    add(env, {
      kind: 'review-time-lock-delta',
      category: 'policy',
      action:
        `Review time_lock_delta of ${ctx.scid} (now ${cur ?? 'unknown'}): senders' HTLCs did not meet our CLTV policy` +
        (cltv['EXPIRY_TOO_SOON'] ? '; EXPIRY_TOO_SOON also shows when our node lags the chain, so check it is synced' : '') +
        '.',
      details: { kind: 'review-time-lock-delta', current: cur, reasons: cltv },
      evidence: [
        ...Object.entries(cltv).map(([r, n]): Evidence => ({ label: `${r} failures`, value: n, window: win, basis: 'events' })),
        { label: 'our time_lock_delta', value: cur ?? 'unknown', window: 'now', basis: 'context-now' },
        { label: 'missed fees (msat)', value: cltvFees, window: win, basis: 'events' },
      ],
      gain: project(env, cltvFees, cltvN, 0.5, 'half the missed fees of the CLTV failures (some senders are simply wrong)'),
    });
  }
}

function peerRule(env: RuleEnv): void {
  const { ctx, win, primary } = env;
  const agg = primary.byCategory.peer;
  const liquidityOnInactive = ctx.status === 'inactive' ? primary.byCategory.liquidity.count : 0;
  const n = agg.count + liquidityOnInactive;
  if (n === 0) return;
  if (!enough(env, 'peer', n)) return;
  const reasons: Record<string, number> = {};
  for (const [r, a] of Object.entries(primary.byReason)) {
    if (categoryOf(r) === 'peer' || (liquidityOnInactive && categoryOf(r) === 'liquidity')) reasons[r] = a.count;
  }
  const disabled = ctx.ourPolicy ? ctx.ourPolicy.disabled : null;
  const offline = ctx.status === 'inactive';
  const suggestClose = offline && n >= env.o.minFailures * 3 && env.observedHours >= 24;
  const fees = agg.missedFeesMsat + (liquidityOnInactive ? primary.byCategory.liquidity.missedFeesMsat : 0n);
  add(env, {
    kind: 'investigate-peer',
    category: 'peer',
    action: offline
      ? `The peer of ${ctx.scid} is offline (channel inactive): reconnect to it; ${suggestClose ? 'it has failed forwards for a day or more, so consider closing the channel' : 'close the channel if it stays offline'}.`
      : `${ctx.scid} is unusable for forwards (${Object.keys(reasons).join(', ')}): check the peer connection and the channel state; close it if it does not recover.`,
    details: { kind: 'investigate-peer', status: ctx.status, ourPolicyDisabled: disabled, reasons, suggestClose },
    evidence: [
      ...Object.entries(reasons).map(([r, c]): Evidence => ({ label: `${r} failures`, value: c, window: win, basis: 'events' })),
      { label: 'channel status', value: ctx.status, window: 'now', basis: 'context-now' },
      { label: 'our policy disabled', value: disabled === null ? 'unknown' : String(disabled), window: 'now', basis: 'context-now' },
      { label: 'missed fees (msat)', value: fees, window: win, basis: 'events' },
    ],
    gain: project(env, fees, n, 0.5, 'half the missed fees of these failures, if the channel works again'),
  });
}

interface Draft {
  kind: RecommendationKind;
  category: Category;
  action: string;
  details: RecommendationDetails;
  evidence: Evidence[];
  gain: ExpectedGain;
}

function add(env: RuleEnv, d: Draft): void {
  const { ctx, win, primary } = env;
  const lastFailureMs = primary.failures > 0 ? Math.max(0, ...env.samples.map((s) => s.timestampMs)) : 0;
  const urgency = urgencyOf(d.gain, primary.failures, env.observedHours, lastFailureMs ? env.nowMs - lastFailureMs : null);
  env.opp.recommendations.push({
    id: `${ctx.chanId}:${d.kind}`,
    kind: d.kind,
    chanId: ctx.chanId,
    scid: ctx.scid,
    alias: ctx.alias,
    category: d.category,
    action: d.action,
    details: d.details,
    evidence: d.evidence,
    expectedGain: d.gain,
    urgency,
    window: win,
  });
}

/** Projects a window's amount (msat) to sat per 30 days, scaled by the share assumed won back. */
function project(env: RuleEnv, windowMsat: bigint, n: number, captureShare: number, basis: string): ExpectedGain {
  const observedMs = Math.max(1, env.coverage.observedMs);
  const share = BigInt(Math.round(captureShare * 1000));
  const v = windowMsat > 0n ? windowMsat : 0n;
  const sat = (v * BigInt(MONTH_MS) * share) / (BigInt(Math.round(observedMs)) * 1000n * SAT);
  const spread = n > 0 ? 2 * Math.sqrt(n) : 0;
  const lowF = n > 0 ? Math.max(0, (n - spread) / n) : 0;
  const highF = n > 0 ? (n + spread) / n : 0;
  const h = env.observedHours;
  const confidence: Confidence = n >= 30 && h >= 72 ? 'high' : n >= 10 && h >= 12 ? 'medium' : 'low';
  return {
    sat30d: sat,
    lowSat30d: (sat * BigInt(Math.round(lowF * 1000))) / 1000n,
    highSat30d: (sat * BigInt(Math.round(highF * 1000))) / 1000n,
    confidence,
    failures: n,
    observedHours: Math.round(h * 100) / 100,
    captureShare,
    basis: `${basis}; ${fmtHours(h)} observed in the ${env.win} window, scaled to 30 days`,
  };
}

export function urgencyOf(gain: ExpectedGain, failures: number, observedHours: number, sinceLastFailureMs: number | null): Urgency {
  const g = Number(gain.sat30d);
  const gainPts = Math.min(40, Math.round(10 * Math.log10(1 + Math.max(0, g))));
  const perHour = observedHours > 0 ? failures / observedHours : 0;
  const freqPts = Math.min(20, Math.round(10 * Math.log10(1 + 10 * perHour)));
  const h = sinceLastFailureMs === null ? Infinity : sinceLastFailureMs / HOUR_MS;
  const recPts = h <= 1 ? 20 : h <= 6 ? 15 : h <= 24 ? 10 : h <= 168 ? 5 : 0;
  const confPts = gain.confidence === 'high' ? 20 : gain.confidence === 'medium' ? 12 : 5;
  const parts: UrgencyPart[] = [
    { name: 'gain', points: gainPts, max: 40, why: `${gain.sat30d} sat per 30 days expected (10 × log10(1 + sat), at most 40)` },
    { name: 'frequency', points: freqPts, max: 20, why: `${perHour.toFixed(2)} failures per observed hour` },
    { name: 'recency', points: recPts, max: 20, why: h === Infinity ? 'no failure time known' : `last failure ${h.toFixed(1)} h ago` },
    { name: 'confidence', points: confPts, max: 20, why: `${gain.confidence} confidence (${gain.failures} failures, ${gain.observedHours} h)` },
  ];
  return { score: Math.min(100, parts.reduce((s, p) => s + p.points, 0)), parts };
}

// ---------------------------------------------------------------------------------------------

function windowMetrics(w: WindowKey, cov: WindowCoverage, row: { failures: number; successes: number; missedFeesMsat: bigint; missedAmountMsat: bigint; earnedFeesMsat: bigint; forwardedMsat: bigint; byReason: Map<string, ReasonAgg> }): WindowMetrics {
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n }])) as Record<Category, CategoryAgg>;
  const byReason: Record<string, ReasonAgg> = {};
  for (const [r, a] of row.byReason) {
    const c = byCategory[categoryOf(r)];
    c.count += a.count;
    c.missedFeesMsat += a.missedFeesMsat;
    c.missedAmountMsat += a.missedAmountMsat;
    byReason[r] = { ...a };
  }
  const total = row.failures + row.successes;
  return {
    window: w,
    observedHours: Math.round((cov.observedMs / HOUR_MS) * 100) / 100,
    failures: row.failures,
    successes: row.successes,
    successRate: total > 0 ? row.successes / total : null,
    missedFeesMsat: row.missedFeesMsat,
    missedAmountMsat: row.missedAmountMsat,
    earnedFeesMsat: row.earnedFeesMsat,
    forwardedMsat: row.forwardedMsat,
    byCategory,
    byReason,
  };
}

function fillWindows(m: Partial<Record<WindowKey, WindowMetrics>>, cov: (w: WindowKey) => WindowCoverage): Record<WindowKey, WindowMetrics> {
  const out = {} as Record<WindowKey, WindowMetrics>;
  for (const w of WINDOW_KEYS)
    out[w] = m[w] ?? windowMetrics(w, cov(w), { failures: 0, successes: 0, missedFeesMsat: 0n, missedAmountMsat: 0n, earnedFeesMsat: 0n, forwardedMsat: 0n, byReason: new Map() });
  return out;
}

function missed(s: FailureSample): bigint {
  return forwardFeeMsat(s.incomingAmtMsat, s.outgoingAmtMsat);
}

function quantile(sorted: bigint[], q: number): bigint {
  if (sorted.length === 0) return 0n;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function pct(v: number | null): string {
  return v === null ? 'unknown' : `${(v * 100).toFixed(1)} %`;
}

function fmtSat(sat: bigint): string {
  return sat.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fmtHours(h: number): string {
  return h < 1 ? `${Math.round(h * 60)} min` : `${h.toFixed(1)} h`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

