/**
 * `htlc-monitor export --db FILE [--window 7d] [--format csv|json] [--table channels|pairs|failures]
 *  [--limit N] [--channel REF] [--out FILE]`: the stored history, read-only (the file is never
 * changed, moved or locked, so it can run beside a `watch` that writes it).
 */
import * as fs from 'node:fs';
import { parseChannelRef, formatScid } from '../core/scid';
import { HtlcStore, StoreOpenError } from '../core/store/store';
import { CHANNEL_COLUMNS, channelCsvRows, exportDocument, FAILURE_COLUMNS, failureCsvRows, PAIR_COLUMNS, pairCsvRows, toCsv } from '../core/store/export';
import { isWindowName, WINDOWS } from '../core/store/windows';
import { parseCommandArgs, UsageError } from './args';
import type { CommandUsage } from './usage';

export const EXPORT_USAGE = {
  name: 'export',
  flags: {
    db: { type: 'string' },
    window: { type: 'string' },
    format: { type: 'string' },
    table: { type: 'string' },
    limit: { type: 'string' },
    channel: { type: 'string' },
    out: { type: 'string' },
  },
  summary: `  export  --db FILE [--window 1h|24h|7d|30d|all] [--format csv|json] [--table channels|pairs|failures]
          [--limit N] [--channel REF] [--out FILE]
          Export the history kept by watch/demo --db: per-channel and per-route-pair windows and raw
          failures (JSON: everything in one document; CSV: one --table, default channels).`,
  options: `  --db FILE           the history file written by watch/demo --db (required; opened read-only,
                      so it can run beside the watch that writes it)
  --window W          1h, 24h, 7d, 30d or all (default 7d)
  --format F          json: every table in one document; csv: one --table (default json)
  --table T           channels, pairs or failures: the table of --format csv (default channels)
  --limit N           at most N raw failures, the newest (default 100000)
  --channel REF       only this channel: its id or BLOCKxTXxOUT (default: every channel)
  --out FILE          write FILE (mode 600) instead of stdout`,
  example: `htlc-monitor export --db /var/lib/htlc-monitor/history.sqlite --window 30d \\
  --format csv --table pairs --out pairs.csv`,
} satisfies CommandUsage;

const TABLES = ['channels', 'pairs', 'failures'] as const;

export interface ExportIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function exportCommand(argv: string[], io: ExportIO): Promise<number> {
  const { values } = parseCommandArgs(EXPORT_USAGE, argv);
  const db = values.db;
  if (!db) throw new UsageError('export: --db FILE is required');
  const window = values.window ?? '7d';
  if (!isWindowName(window)) throw new UsageError(`export: --window must be one of ${WINDOWS.join(', ')}, got "${window}"`);
  const format = values.format ?? 'json';
  if (format !== 'csv' && format !== 'json') throw new UsageError(`export: --format must be csv or json, got "${format}"`);
  const table = values.table ?? 'channels';
  if (!(TABLES as readonly string[]).includes(table)) throw new UsageError(`export: --table must be one of ${TABLES.join(', ')}, got "${table}"`);
  if (values.table && format === 'json') throw new UsageError('export: --table applies to --format csv (JSON holds every table)');
  const limit = values.limit === undefined ? 100_000 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`export: --limit must be a positive integer, got "${values.limit}"`);
  let channel: bigint | undefined;
  if (values.channel !== undefined) {
    try {
      channel = parseChannelRef(values.channel);
    } catch {
      throw new UsageError(`export: --channel must be a channel id or BLOCKxTXxOUT, got "${values.channel}"`);
    }
  }

  let store: HtlcStore;
  try {
    store = await HtlcStore.open(db, { readOnly: true, flushIntervalMs: 0 });
  } catch (err) {
    if (err instanceof StoreOpenError) {
      io.stderr.write(`htlc-monitor: error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let text: string;
  let complete = true;
  try {
    const nowMs = Date.now();
    const scid = (id: bigint) => formatScid(id);
    const needFailures = format === 'json' || table === 'failures';
    const failures = needFailures ? store.failures({ window, limit, channel, nowMs }) : [];
    if (format === 'json') {
      const channels = store.windows(window, nowMs);
      const pairs = store.routePairs(window, nowMs);
      if (channel !== undefined) {
        channels.rows = channels.rows.filter((r) => r.chanId === channel);
        pairs.rows = pairs.rows.filter((r) => r.outgoingChanId === channel || r.incomingChanId === channel);
      }
      complete = channels.complete && pairs.complete;
      const doc = exportDocument(channels, pairs, failures, scid, { nodePubkey: store.nodePubkey, failuresTruncated: failures.length >= limit });
      text = JSON.stringify(doc, null, 2) + '\n';
    } else if (table === 'channels') {
      const report = store.windows(window, nowMs);
      complete = report.complete;
      const rows = report.rows.filter((r) => channel === undefined || r.chanId === channel);
      text = toCsv(channelCsvRows(rows), CHANNEL_COLUMNS);
    } else if (table === 'pairs') {
      const report = store.routePairs(window, nowMs);
      complete = report.complete;
      const rows = report.rows.filter((r) => channel === undefined || r.outgoingChanId === channel || r.incomingChanId === channel);
      text = toCsv(pairCsvRows(rows), PAIR_COLUMNS);
    } else {
      text = toCsv(failureCsvRows(failures, scid), FAILURE_COLUMNS);
    }
  } finally {
    await store.close();
  }
  if (!complete) io.stderr.write(`htlc-monitor: note: retention already dropped part of the ${window} window; the export covers what is kept\n`);
  if (values.out) {
    fs.writeFileSync(values.out, text, { mode: 0o600 });
    io.stderr.write(`htlc-monitor: wrote ${values.out}\n`);
  } else {
    io.stdout.write(text); // the CLI ends only once stdout is flushed (see the end of cli.ts)
  }
  return 0;
}
