import { formatScid } from '../../core/scid';
import { CHANNEL_COLUMNS, channelCsvRows, exportDocument, FAILURE_COLUMNS, failureCsvRows, PAIR_COLUMNS, pairCsvRows, toCsv } from '../../core/store/export';
import type { HtlcStore } from '../../core/store/store';
import type { ExportFormat, WindowId } from '../../shared/protocol';

/** What "Export…" can write from the node's stored history (besides the opportunities table). */
export const HISTORY_EXPORTS = {
  'history-channels-csv': { format: 'csv', label: 'History: channels (CSV)', description: 'per-channel failures, missed fees, successes in the window' },
  'history-pairs-csv': { format: 'csv', label: 'History: route pairs (CSV)', description: 'per incoming → outgoing pair in the window' },
  'history-failures-csv': { format: 'csv', label: 'History: failures (CSV)', description: 'every stored failed forward in the window, newest first' },
  'history-json': { format: 'json', label: 'History: everything (JSON)', description: 'channels, route pairs and failures; msat as decimal strings' },
} as const satisfies Record<string, { format: ExportFormat; label: string; description: string }>;
export type HistoryExportKind = keyof typeof HISTORY_EXPORTS;

export function isHistoryExport(v: unknown): v is HistoryExportKind {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(HISTORY_EXPORTS, v);
}

export interface HistoryExport {
  text: string;
  format: ExportFormat;
  rows: number;
  /** False when retention already dropped part of the window. */
  complete: boolean;
}

/**
 * Renders an export of the stored history for a window. CSV cells go through csvCell (via toCsv):
 * aliases and failure strings come from peers, so formula-looking text is neutralised.
 */
export function renderHistoryExport(store: HtlcStore, kind: HistoryExportKind, window: WindowId, opts: { limit?: number; nowMs?: number } = {}): HistoryExport {
  const nowMs = opts.nowMs ?? Date.now();
  const limit = opts.limit ?? 100_000;
  const scid = (id: bigint) => formatScid(id);
  switch (kind) {
    case 'history-channels-csv': {
      const r = store.windows(window, nowMs);
      return { text: toCsv(channelCsvRows(r.rows), CHANNEL_COLUMNS), format: 'csv', rows: r.rows.length, complete: r.complete };
    }
    case 'history-pairs-csv': {
      const r = store.routePairs(window, nowMs);
      return { text: toCsv(pairCsvRows(r.rows), PAIR_COLUMNS), format: 'csv', rows: r.rows.length, complete: r.complete };
    }
    case 'history-failures-csv': {
      const f = store.failures({ window, limit, nowMs });
      return { text: toCsv(failureCsvRows(f, scid), FAILURE_COLUMNS), format: 'csv', rows: f.length, complete: true };
    }
    case 'history-json': {
      const channels = store.windows(window, nowMs);
      const pairs = store.routePairs(window, nowMs);
      const f = store.failures({ window, limit, nowMs });
      const doc = exportDocument(channels, pairs, f, scid, { nodePubkey: store.nodePubkey, failuresTruncated: f.length >= limit });
      return { text: JSON.stringify(doc, null, 2) + '\n', format: 'json', rows: channels.rows.length, complete: channels.complete && pairs.complete };
    }
  }
}
