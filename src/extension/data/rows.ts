import { formatScid } from '../../core/scid';
import type { ChannelFeesPoint, OpportunityRow } from '../../shared/protocol';
import { sanitizeText } from '../common/markdown';
import type { Opportunity } from './types';

/** An opportunity as the webview and the exports see it: plain data, amounts as msat strings. */
export function toRow(o: Opportunity, rank: number): OpportunityRow {
  const s = o.stats;
  return {
    channelId: o.channelId,
    scid: o.scid,
    alias: o.alias ? sanitizeText(o.alias, 64) : null,
    rank,
    failures: s.failures,
    successes: s.successes,
    missedFeesMsat: s.missedFeesMsat.toString(),
    missedAmountMsat: s.missedAmountMsat.toString(),
    topReason: s.reasons[0]?.reason ?? null,
    action: o.action,
    recommendation: o.recommendation,
    urgency: o.urgency,
    actionable: o.actionable,
    evidence: o.evidence,
  };
}

export function feesByChannel(rows: readonly OpportunityRow[], limit = 15): ChannelFeesPoint[] {
  return [...rows]
    .sort((a, b) => (BigInt(b.missedFeesMsat) > BigInt(a.missedFeesMsat) ? 1 : BigInt(b.missedFeesMsat) < BigInt(a.missedFeesMsat) ? -1 : 0))
    .slice(0, limit)
    .map((r) => ({ channelId: r.channelId, label: r.alias || r.scid || safeScid(r.channelId), missedFeesMsat: r.missedFeesMsat }));
}

function safeScid(id: string): string {
  try {
    return formatScid(id);
  } catch {
    return id;
  }
}
