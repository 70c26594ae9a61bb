import * as vscode from 'vscode';
import { formatCount, formatSat } from '../../core/format';
import type { WindowId } from '../../shared/protocol';
import { WINDOW_LABELS } from '../../shared/protocol';
import { Disposable, Throttle } from '../common/lifecycle';
import { escapeMarkdown, sanitizeText } from '../common/markdown';
import type { ConnectionManager } from '../connection/connectionManager';
import type { NodeHistory } from '../data/nodeHistory';
import type { WindowSource } from '../data/types';

export const STATUS_ITEM_ID = 'htlcMonitor.status';
export const STATUS_REFRESH_MS = 500;

/**
 * One item on the left: "$(zap) 37 fails/1h", live. Spins while (re)connecting, turns to a
 * warning with the reason when disconnected; click → Show Top Opportunities.
 */
export class StatusBar extends Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly throttle: Throttle;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly windows: WindowSource,
    private window: WindowId,
    private readonly history?: NodeHistory,
  ) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem(STATUS_ITEM_ID, vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'HTLC Monitor';
    this.item.command = { command: 'htlcMonitor.showTopOpportunities', title: 'Show Top Opportunities' };
    this.throttle = this._register(new Throttle(STATUS_REFRESH_MS, () => this.render()));
    this._register(manager.onDidChangeState(() => this.render()));
    this._register(manager.onDidReset(() => this.render()));
    this._register(new vscode.Disposable(windows.onDidChange(() => this.throttle.schedule()).dispose));
    if (history) this._register(new vscode.Disposable(history.onDidChange(() => this.throttle.schedule()).dispose));
    // the window slides: recount every 30 s even when nothing arrives
    const tick = setInterval(() => this.render(), 30_000);
    this._register(new vscode.Disposable(() => clearInterval(tick)));
    this.render();
    this.item.show();
  }

  setWindow(w: WindowId): void {
    this.window = w;
    this.render();
  }

  render(): void {
    const s = this.manager.summary;
    const w = this.window;
    const totals = this.windows.totals(w);
    const count = `${formatCount(totals.failures)} fails/${w}`;
    const where = s.demo ? 'the demo node' : sanitizeText(s.nodeAlias || s.target || 'LND', 40);
    let text: string;
    let state: string;
    let background: vscode.ThemeColor | undefined;
    switch (s.state) {
      case 'connected':
        if (s.historyOnly !== undefined) {
          // successes only: a failure count of 0 would be a lie
          text = '$(history) HTLC: failures not visible';
          state = `Connected to ${where} in history-only mode: failed forwards are NOT visible`;
          background = new vscode.ThemeColor('statusBarItem.warningBackground');
          break;
        }
        text = `$(zap) ${count}`;
        state = `Connected to ${where}`;
        break;
      case 'connecting':
        text = `$(sync~spin) ${count}`;
        state = `Connecting to ${where}…`;
        break;
      case 'reconnecting':
        text = `$(sync~spin) ${count}`;
        state = `Reconnecting to ${where}`;
        break;
      case 'failed':
      case 'stopped':
        text = `$(debug-disconnect) ${count}`;
        state = s.state === 'failed' ? 'Disconnected' : 'Monitoring stopped';
        background = s.state === 'failed' || s.reason ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
        break;
      case 'idle':
        text = `$(zap) ${count}`;
        state = 'Not monitoring';
        break;
      case 'notConfigured':
      default:
        text = '$(zap) HTLC: not connected';
        state = 'No LND node configured';
        background = undefined;
        break;
    }
    this.item.text = text;
    this.item.backgroundColor = background;
    const tip = new vscode.MarkdownString('', false);
    tip.isTrusted = false;
    tip.supportHtml = false;
    tip.appendMarkdown(`**HTLC Monitor** — ${escapeMarkdown(state)}\n\n`);
    if (s.reason) tip.appendMarkdown(`${escapeMarkdown(s.reason)}\n\n`);
    const historyOnly = s.state === 'connected' && s.historyOnly !== undefined;
    if (historyOnly) {
      // why, on its own (not cut short inside the state line), and what is still counted
      tip.appendMarkdown(`${escapeMarkdown(s.historyOnly!)}\n\n`);
      tip.appendMarkdown(`${escapeMarkdown('Only successful forwards are read, from ForwardingHistory every 30 s.')}\n\n`);
      tip.appendMarkdown(escapeMarkdown(`${WINDOW_LABELS[w]}: ${formatCount(totals.failures)} failed forwards from the stored history; new failures are not counted.`));
    } else {
      tip.appendMarkdown(escapeMarkdown(`${WINDOW_LABELS[w]}: ${formatCount(totals.failures)} failed forwards, ${formatSat(totals.missedFeesMsat)} sat of fees missed, ${formatCount(totals.channels)} failing channels.`));
    }
    const h = this.history?.status;
    if (h?.error) tip.appendMarkdown(`\n\n⚠ ${escapeMarkdown(`History not saved to ${h.file}: ${h.error}. Statistics keep counting in memory; saving is retried.`)}`);
    else if (h?.readOnly) tip.appendMarkdown(`\n\n${escapeMarkdown(`History ${h.file} is in use by another window: new forwards are not saved here.`)}`);
    tip.appendMarkdown(`\n\n${escapeMarkdown('Click to show the top opportunities.')}`);
    this.item.tooltip = tip;
    this.item.accessibilityInformation = {
      label: historyOnly
        ? `HTLC Monitor: ${state} (${sanitizeText(s.historyOnly!, 200)}).`
        : `HTLC Monitor: ${state}${s.reason ? ` (${sanitizeText(s.reason, 200)})` : ''}. ${formatCount(totals.failures)} failed forwards in the ${WINDOW_LABELS[w].toLowerCase()}.`,
      role: 'button',
    };
  }
}
