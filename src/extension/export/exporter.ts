import { msatToSatString } from '../../core/format';
import type { OpportunityRow, WindowId } from '../../shared/protocol';

const CSV_COLUMNS = [
  'rank', 'channel_id', 'scid', 'alias', 'failed_forwards', 'settled_forwards', 'missed_fees_sat', 'missed_amount_sat',
  'top_reason', 'urgency', 'actionable', 'action', 'recommendation', 'evidence',
] as const;

/**
 * One CSV field (RFC 4180). Text starting with = + - @ (or a tab/CR) is prefixed with ' so a
 * spreadsheet never evaluates an attacker's alias as a formula.
 */
export function csvField(value: string | number | boolean | null): string {
  let s = value === null ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function opportunitiesToCsv(rows: readonly OpportunityRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.rank, r.channelId, r.scid, r.alias, r.failures, r.successes, msatToSatString(BigInt(r.missedFeesMsat)),
        msatToSatString(BigInt(r.missedAmountMsat)), r.topReason, r.urgency, r.actionable, r.action, r.recommendation, r.evidence.join(' | '),
      ].map(csvField).join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

export function opportunitiesToJson(rows: readonly OpportunityRow[], meta: { window: WindowId; generatedAt: string; node: string | null; source: string }): string {
  return JSON.stringify({ ...meta, unit: 'msat (decimal strings)', opportunities: rows }, null, 2) + '\n';
}
