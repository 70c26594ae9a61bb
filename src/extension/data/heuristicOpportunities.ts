import { formatCount, formatSat } from '../../core/format';
import { categoryOf, Category, reasonLabel } from '../../core/reasons';
import type { Urgency, WindowId } from '../../shared/protocol';
import type { ChannelContext, ChannelContextSource, ChannelWindowStats, Opportunity, OpportunitySource, WindowSource } from './types';

interface Advice {
  action: string;
  recommendation: string;
  actionable: boolean;
}

function pct(part: bigint, whole: bigint): string {
  if (whole <= 0n) return '?';
  return `${Number((part * 1000n) / whole) / 10}%`;
}

function adviceFor(category: Category, topReason: string, s: ChannelWindowStats, ctx: ChannelContext | undefined): Advice {
  const maxAmt = s.reasons.filter((r) => r.reason === topReason).reduce((m, r) => (r.maxAmountMsat > m ? r.maxAmountMsat : m), 0n);
  switch (category) {
    case 'liquidity':
      return {
        action: 'rebalance',
        recommendation: `Add outbound liquidity to this channel (rebalance into it or loop out elsewhere)${maxAmt > 0n ? `: forwards of up to ${formatSat(maxAmt)} sat failed for lack of balance` : ''}.`,
        actionable: true,
      };
    case 'fee':
      return {
        action: 'review-fees',
        recommendation: 'Senders paid less than this channel asks: they likely used an older, lower fee. Change fees less often, or in smaller steps.',
        actionable: true,
      };
    case 'policy':
      if (topReason === 'HTLC_EXCEEDS_MAX') {
        return { action: 'raise-max-htlc', recommendation: `Raise max_htlc on this channel${maxAmt > 0n ? ` above ${formatSat(maxAmt)} sat` : ''} if its balance allows.`, actionable: true };
      }
      if (topReason === 'AMOUNT_BELOW_MINIMUM') {
        return { action: 'lower-min-htlc', recommendation: 'Lower min_htlc on this channel: small forwards are refused.', actionable: true };
      }
      return { action: 'review-timelock', recommendation: 'Review time_lock_delta and CLTV settings of this channel: forwards were refused by its expiry policy.', actionable: true };
    case 'peer':
      return {
        action: 'check-peer',
        recommendation: `The peer${ctx?.active === false ? ' is offline and' : ' was'} unable to take forwards: check the connection to it; consider closing the channel if this persists.`,
        actionable: true,
      };
    case 'downstream':
      return { action: 'none', recommendation: 'These forwards failed further along the route: nothing to change on this channel.', actionable: false };
    default:
      return { action: 'investigate', recommendation: `Unclassified failures (${reasonLabel(topReason)}): see the log and the failure strings.`, actionable: false };
  }
}

/**
 * Ranked opportunities from the window statistics with simple, explainable rules (the analysis
 * module replaces it when present): the dominant failure category picks the recommendation, the
 * channel's share of the node's missed fees the urgency.
 */
export class HeuristicOpportunitySource implements OpportunitySource {
  readonly kind = 'in-memory heuristics';

  constructor(private readonly windows: WindowSource, private readonly context: ChannelContextSource | undefined) {}

  opportunities(window: WindowId, nowMs?: number): Opportunity[] {
    const channels = this.windows.channels(window, nowMs);
    const totalFees = channels.reduce((sum, c) => sum + c.missedFeesMsat, 0n);
    return channels.map((s) => this.evaluate(s, totalFees));
  }

  private evaluate(s: ChannelWindowStats, totalFees: bigint): Opportunity {
    const ctx = this.context?.get(s.channelId);
    const byCategory = new Map<Category, { count: number; fees: bigint }>();
    for (const r of s.reasons) {
      const c = categoryOf(r.reason);
      const e = byCategory.get(c) ?? { count: 0, fees: 0n };
      e.count += r.count;
      e.fees += r.missedFeesMsat;
      byCategory.set(c, e);
    }
    let category: Category = 'other';
    let best = { count: -1, fees: -1n };
    for (const [c, e] of byCategory) {
      if (e.count > best.count || (e.count === best.count && e.fees > best.fees)) {
        category = c;
        best = e;
      }
    }
    const topReason = s.reasons.find((r) => categoryOf(r.reason) === category)?.reason ?? s.reasons[0]?.reason ?? 'UNKNOWN';
    const advice = adviceFor(category, topReason, s, ctx);

    const evidence: string[] = [];
    evidence.push(`${formatCount(best.count)} of ${formatCount(s.failures)} failures: ${category} (${s.reasons.filter((r) => categoryOf(r.reason) === category).map((r) => `${reasonLabel(r.reason)} ×${formatCount(r.count)}`).join(', ')})`);
    evidence.push(`${formatSat(s.missedFeesMsat)} sat of fees missed on ${formatSat(s.missedAmountMsat)} sat of failed forwards${totalFees > 0n ? ` (${pct(s.missedFeesMsat, totalFees)} of the node's)` : ''}`);
    if (s.successes > 0 || s.failures > 0) {
      evidence.push(`success rate ${pct(BigInt(s.successes), BigInt(s.successes + s.failures))} (${formatCount(s.successes)} settled, ${formatCount(s.failures)} failed)`);
    }
    if (ctx?.capacitySat !== undefined && ctx.localBalanceSat !== undefined) {
      evidence.push(`local balance ${formatSat(ctx.localBalanceSat * 1000n)} sat of ${formatSat(ctx.capacitySat * 1000n)} sat capacity (${pct(ctx.localBalanceSat, ctx.capacitySat)})`);
    }
    if (ctx?.feePpm !== undefined) evidence.push(`fee policy ${ctx.baseFeeMsat ?? 0n} msat + ${ctx.feePpm} ppm`);

    let urgency: Urgency = 'low';
    if (advice.actionable) {
      const share = totalFees > 0n ? Number((s.missedFeesMsat * 1000n) / totalFees) / 1000 : 0;
      const lowBalance = category === 'liquidity' && ctx?.capacitySat && ctx.localBalanceSat !== undefined && ctx.localBalanceSat * 10n < ctx.capacitySat;
      if (share >= 0.2) urgency = 'high';
      else if (share >= 0.05 || lowBalance || s.failures >= 10) urgency = 'medium';
    }
    return {
      channelId: s.channelId,
      scid: s.scid,
      alias: ctx?.alias,
      stats: s,
      action: advice.action,
      recommendation: advice.recommendation,
      urgency,
      actionable: advice.actionable,
      evidence,
    };
  }
}
