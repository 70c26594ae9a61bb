/**
 * Exports of the stored history: CSV (spreadsheet-safe) and JSON (uint64 as decimal strings).
 * Pure functions; the CLI's `export` command wires them to a store. No credential is ever part of
 * the store, so none can end up in an export.
 */
import { formatLocalIso } from '../time';
import type { StoredFailure } from './store';
import { ChannelWindow, RoutePairWindow, topReasonOf, WindowReport, WindowTotals } from './windows';

export type CsvValue = string | number | bigint | boolean | null | undefined;
export type CsvRow = Record<string, CsvValue>;

/** Cells starting with one of these are read as formulas by spreadsheets (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180). Strings that a spreadsheet would run as a formula — starting with
 * = + - @, tab or carriage return — are prefixed with a single quote and quoted, per OWASP; aliases
 * and failure strings come from peers, so every string goes through this. Numbers and bigints are
 * our own values and are written as they are.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  let s = value;
  let quote = false;
  if (FORMULA_START.test(s)) {
    s = `'${s}`;
    quote = true;
  }
  if (quote || /[",\r\n]/.test(s) || s !== s.trim()) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** CSV text with a header line; columns default to the first row's keys. Lines end with CRLF. */
export function toCsv(rows: readonly CsvRow[], columns?: readonly string[]): string {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const lines = [cols.map((c) => csvCell(c)).join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

function reasonsText(t: WindowTotals): string {
  return [...t.failuresByReason]
    .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
    .map(([r, s]) => `${r}:${s.count}`)
    .join(';');
}

function totalsRow(t: WindowTotals): CsvRow {
  return {
    failures: t.failures,
    missed_fees_msat: t.missedFeesMsat,
    missed_amount_msat: t.missedAmountMsat,
    successes: t.successes,
    earned_fees_msat: t.earnedFeesMsat,
    forwarded_amount_msat: t.forwardedAmountMsat,
    top_reason: topReasonOf(t) ?? '',
    failures_by_reason: reasonsText(t),
  };
}

export const CHANNEL_COLUMNS = ['channel_id', 'scid', 'alias', 'failures', 'missed_fees_msat', 'missed_amount_msat', 'successes', 'earned_fees_msat', 'forwarded_amount_msat', 'top_reason', 'failures_by_reason'];

export function channelCsvRows(rows: readonly ChannelWindow[]): CsvRow[] {
  return rows.map((r) => ({ channel_id: r.chanId, scid: r.scid, alias: r.alias ?? '', ...totalsRow(r) }));
}

export const PAIR_COLUMNS = [
  'incoming_channel_id', 'incoming_scid', 'incoming_alias', 'outgoing_channel_id', 'outgoing_scid', 'outgoing_alias',
  'failures', 'missed_fees_msat', 'missed_amount_msat', 'successes', 'earned_fees_msat', 'forwarded_amount_msat', 'top_reason', 'failures_by_reason',
];

export function pairCsvRows(rows: readonly RoutePairWindow[]): CsvRow[] {
  return rows.map((r) => ({
    incoming_channel_id: r.incomingChanId,
    incoming_scid: r.incomingScid,
    incoming_alias: r.incomingAlias ?? '',
    outgoing_channel_id: r.outgoingChanId,
    outgoing_scid: r.outgoingScid,
    outgoing_alias: r.outgoingAlias ?? '',
    ...totalsRow(r),
  }));
}

export const FAILURE_COLUMNS = [
  'time', 'timestamp_ms', 'incoming_channel_id', 'incoming_scid', 'outgoing_channel_id', 'outgoing_scid', 'incoming_htlc_id', 'outgoing_htlc_id',
  'incoming_amt_msat', 'outgoing_amt_msat', 'missed_fee_msat', 'reason', 'category', 'source', 'wire_failure', 'failure_detail', 'failure_string', 'amounts_known',
];

export function failureCsvRows(rows: readonly StoredFailure[], scid: (id: bigint) => string): CsvRow[] {
  return rows.map((f) => ({
    time: formatLocalIso(f.timestampMs),
    timestamp_ms: f.timestampMs,
    incoming_channel_id: f.incomingChanId,
    incoming_scid: scid(f.incomingChanId),
    outgoing_channel_id: f.outgoingChanId,
    outgoing_scid: scid(f.outgoingChanId),
    incoming_htlc_id: f.incomingHtlcId,
    outgoing_htlc_id: f.outgoingHtlcId,
    incoming_amt_msat: f.incomingAmtMsat,
    outgoing_amt_msat: f.outgoingAmtMsat,
    missed_fee_msat: f.missedFeeMsat,
    reason: f.reason,
    category: f.category,
    source: f.source,
    wire_failure: f.wireFailure,
    failure_detail: f.failureDetail,
    failure_string: f.failureString,
    amounts_known: f.amountsKnown,
  }));
}

/** JSON form of window totals: uint64 as decimal strings. */
export function totalsJson(t: WindowTotals) {
  return {
    failures: t.failures,
    missedFeesMsat: t.missedFeesMsat.toString(),
    missedAmountMsat: t.missedAmountMsat.toString(),
    successes: t.successes,
    earnedFeesMsat: t.earnedFeesMsat.toString(),
    forwardedAmountMsat: t.forwardedAmountMsat.toString(),
    failuresByReason: Object.fromEntries(
      [...t.failuresByReason].map(([r, s]) => [r, { count: s.count, missedFeesMsat: s.missedFeesMsat.toString(), missedAmountMsat: s.missedAmountMsat.toString() }]),
    ),
  };
}

export function failureJson(f: StoredFailure, scid: (id: bigint) => string) {
  return {
    time: formatLocalIso(f.timestampMs),
    timestampMs: f.timestampMs,
    incomingChannelId: f.incomingChanId.toString(),
    incomingScid: scid(f.incomingChanId),
    outgoingChannelId: f.outgoingChanId.toString(),
    outgoingScid: scid(f.outgoingChanId),
    incomingHtlcId: f.incomingHtlcId.toString(),
    outgoingHtlcId: f.outgoingHtlcId.toString(),
    incomingAmtMsat: f.incomingAmtMsat.toString(),
    outgoingAmtMsat: f.outgoingAmtMsat.toString(),
    missedFeeMsat: f.missedFeeMsat.toString(),
    reason: f.reason,
    category: f.category,
    source: f.source,
    wireFailure: f.wireFailure,
    failureDetail: f.failureDetail,
    failureString: f.failureString,
    amountsKnown: f.amountsKnown,
  };
}

/** The `export --format json` document. */
export function exportDocument(
  channels: WindowReport<ChannelWindow>,
  pairs: WindowReport<RoutePairWindow>,
  failures: readonly StoredFailure[],
  scid: (id: bigint) => string,
  meta: { nodePubkey?: string; failuresTruncated: boolean },
) {
  return {
    generatedAt: formatLocalIso(channels.nowMs),
    window: channels.window,
    since: channels.sinceMs === null ? null : formatLocalIso(channels.sinceMs),
    complete: channels.complete && pairs.complete,
    nodePubkey: meta.nodePubkey ?? null,
    node: totalsJson(channels.node),
    channels: channels.rows.map((r) => ({ channelId: r.key, scid: r.scid, alias: r.alias ?? null, ...totalsJson(r) })),
    routePairs: pairs.rows.map((r) => ({
      incomingChannelId: r.incomingChanId.toString(),
      incomingScid: r.incomingScid,
      incomingAlias: r.incomingAlias ?? null,
      outgoingChannelId: r.outgoingChanId.toString(),
      outgoingScid: r.outgoingScid,
      outgoingAlias: r.outgoingAlias ?? null,
      ...totalsJson(r),
    })),
    failures: failures.map((f) => failureJson(f, scid)),
    failuresTruncated: meta.failuresTruncated,
  };
}
