import type { HtlcMonitor } from '../core/monitor';
import { formatCount, formatSat } from '../core/format';
import { formatLocalShort } from '../core/time';
import type { ChannelStats } from '../core/stats';

export interface AliasLookup {
  (chanId: string): string | undefined;
}

function sanitize(text: string): string {
  // Peer aliases are attacker-controlled: no terminal escape sequences or control characters.
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

function fit(text: string, width: number): string {
  const t = [...text];
  return t.length > width ? t.slice(0, width - 1).join('') + '…' : text + ' '.repeat(width - t.length);
}

function right(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/** The live table: one line per failing channel, ranked by missed fees. */
export function renderTable(monitor: HtlcMonitor, aliasOf: AliasLookup, maxRows = 20): string {
  const lines: string[] = [];
  const node = monitor.nodeInfo;
  const c = monitor.counters;
  const n = monitor.stats.node;
  const fails1h = n.failuresSince(Date.now(), 3_600_000);
  const stateText = monitor.state + (monitor.lastError && monitor.state !== 'connected' ? ` (${monitor.lastError.message})` : '');
  lines.push(`Lightning HTLC Monitor — ${node ? sanitize(node.alias || node.identity_pubkey.slice(0, 16)) : 'node'} — ${stateText}`);
  lines.push(
    `failed ${formatCount(n.failedForwards)} (${formatCount(fails1h)} in the last hour) · succeeded ${formatCount(n.successfulForwards)} · missed fees ${formatSat(n.missedFeesMsat)} sat` +
      ` · events ${formatCount(c.received)} · duplicates ${formatCount(c.duplicates)} · dropped ${formatCount(c.dropped)} · reconnects ${formatCount(c.reconnects)}`,
  );
  if (monitor.mode === 'history-only') {
    lines.push(`HISTORY-ONLY: failed forwards are NOT visible — LND refused the HTLC event stream (${monitor.modeReason?.message ?? ''}); successes are polled from ForwardingHistory.`);
  }
  if (n.incomingLinkFailures > 0) lines.push(`failed on their incoming link (no outgoing channel): ${formatCount(n.incomingLinkFailures)}`);
  lines.push('');
  const header = `${right('#', 3)}  ${fit('Peer', 24)} ${fit('Channel', 16)} ${right('Fails', 7)} ${right('OK', 7)} ${right('Missed sat', 12)} ${right('Volume sat', 14)}  ${fit('Top reason', 22)} Last failure`;
  lines.push(header);
  lines.push('-'.repeat(header.length + 10));
  const rows: ChannelStats[] = monitor.stats.failing().slice(0, maxRows);
  rows.forEach((ch, i) => {
    lines.push(
      `${right(String(i + 1), 3)}  ${fit(sanitize(aliasOf(ch.key) ?? ''), 24)} ${fit(ch.scid, 16)} ${right(formatCount(ch.failedForwards), 7)} ${right(formatCount(ch.successfulForwards), 7)} ${right(formatSat(ch.missedFeesMsat), 12)} ${right(formatSat(ch.missedAmountMsat), 14)}  ${fit(ch.topReason ?? '', 22)} ${ch.lastFailureAtMs ? formatLocalShort(ch.lastFailureAtMs) : ''}`,
    );
  });
  if (rows.length === 0) lines.push('  no failed forwards yet');
  return lines.join('\n');
}
