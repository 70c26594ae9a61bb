import * as vscode from 'vscode';
import { formatCount, formatSat, msatToSatString } from '../../core/format';
import { categoryOf, Category, reasonLabel } from '../../core/reasons';
import type { RecentFailure } from '../../core/ring';
import { formatLocalIso, formatLocalShort } from '../../core/time';
import { WINDOW_LABELS, type Urgency } from '../../shared/protocol';
import { Disposable, Throttle } from '../common/lifecycle';
import { escapeMarkdown, sanitizeText } from '../common/markdown';
import type { ConnectionManager } from '../connection/connectionManager';
import type { ChannelContext, ChannelContextSource, ChannelWindowStats, Opportunity, OpportunitySource, ReasonWindowStats, WindowSource } from '../data/types';
import type { ViewState } from '../viewState';
import { setContext } from '../common/contextKeys';

export const VIEW_ID = 'htlcMonitor.failingChannels';
const RECENT_IN_TREE = 10;
/** At most this often (ms) the tree refreshes on live data. */
export const TREE_REFRESH_MS = 400;

export interface ChannelNode {
  kind: 'channel';
  id: string;
  channelId: string;
  opportunity: Opportunity;
  fingerprint: string;
}
export interface ReasonNode {
  kind: 'reason';
  id: string;
  channelId: string;
  reason: ReasonWindowStats;
}
export interface FailureNode {
  kind: 'failure';
  id: string;
  channelId: string;
  failure: RecentFailure;
}
export type TreeNode = ChannelNode | ReasonNode | FailureNode;

export const SEVERITY_COLOR: Readonly<Record<Urgency, string>> = { high: 'charts.red', medium: 'charts.orange', low: 'charts.yellow' };

const CATEGORY_ICON: Readonly<Record<Category, string>> = {
  liquidity: 'arrow-swap',
  fee: 'tag',
  policy: 'law',
  peer: 'debug-disconnect',
  downstream: 'arrow-right',
  other: 'question',
};

/** The name shown for a channel: the peer's alias (sanitised) or its SCID. */
export function channelLabel(scid: string, ctx: ChannelContext | undefined): string {
  const alias = ctx?.alias ? sanitizeText(ctx.alias, 40) : '';
  return alias || scid;
}

export function channelDescription(s: ChannelWindowStats): string {
  return `${formatCount(s.failures)} ${s.failures === 1 ? 'fail' : 'fails'} · ${formatSat(s.missedFeesMsat)} sat missed`;
}

/**
 * "Failing Channels": channels ranked by missed fees in the chosen window; under each, its
 * failure reasons and recent failures. Live data is coalesced (one refresh per TREE_REFRESH_MS at
 * most) and only changed channel nodes are refreshed while the set and order stay the same.
 */
export class FailingChannelsTree extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly view: vscode.TreeView<TreeNode>;
  private roots: ChannelNode[] = [];
  private readonly byId = new Map<string, ChannelNode>();
  private readonly throttle: Throttle;
  private dirty = true;
  private fullRefresh = true;
  /** Counters for tests and the log: how often and how the tree refreshed. */
  readonly refreshStats = { full: 0, partial: 0, skipped: 0 };

  constructor(
    private readonly manager: ConnectionManager,
    private readonly windows: WindowSource,
    private readonly opportunities: OpportunitySource,
    private readonly context: ChannelContextSource,
    private readonly viewState: ViewState,
  ) {
    super();
    this.throttle = this._register(new Throttle(TREE_REFRESH_MS, () => this.recompute()));
    this.view = this._register(vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true }));
    this._register(new vscode.Disposable(windows.onDidChange(() => this.invalidate()).dispose));
    this._register(new vscode.Disposable(context.onDidChange(() => this.invalidate()).dispose));
    this._register(manager.onDidReset(() => this.invalidate(true)));
    this._register(manager.onDidChangeState(() => {
      this.updateMessage();
      this.invalidate();
    }));
    this._register(viewState.onDidChange(() => {
      this.updateDescription();
      this.invalidate(true);
    }));
    this._register(this.view.onDidChangeVisibility((e) => e.visible && this.dirty && this.throttle.schedule()));
    // windows slide: re-rank now and then even without new events
    const tick = setInterval(() => this.invalidate(), 30_000);
    this._register(new vscode.Disposable(() => clearInterval(tick)));
    this.updateDescription();
    this.updateMessage();
    this.recompute();
  }

  /** Marks the data changed; refreshes soon (coalesced), or when the view becomes visible. */
  invalidate(full = false): void {
    this.dirty = true;
    if (full) this.fullRefresh = true;
    if (this.view.visible || this.roots.length === 0 || full) this.throttle.schedule();
  }

  /** Refreshes now (commands, tests). */
  refreshNow(): void {
    this.fullRefresh = true;
    this.throttle.dispose();
    this.recompute();
  }

  get channels(): readonly ChannelNode[] {
    return this.roots;
  }

  node(channelId: string): ChannelNode | undefined {
    return this.byId.get(channelNodeId(channelId));
  }

  async reveal(channelId: string): Promise<boolean> {
    const n = this.node(channelId);
    if (!n) return false;
    await this.view.reveal(n, { select: true, focus: true, expand: true });
    return true;
  }

  private recompute(): void {
    this.dirty = false;
    const opps = this.opportunities.opportunities(this.viewState.window).filter((o) => !this.viewState.actionableOnly || o.actionable);
    const next: ChannelNode[] = [];
    const changed: ChannelNode[] = [];
    for (const o of opps) {
      const id = channelNodeId(o.channelId);
      const fp = channelItemInputs(o, this.context.get(o.channelId));
      let n = this.byId.get(id);
      if (!n) {
        n = { kind: 'channel', id, channelId: o.channelId, opportunity: o, fingerprint: fp };
      } else if (n.fingerprint !== fp) {
        n.opportunity = o;
        n.fingerprint = fp;
        changed.push(n);
      } else {
        n.opportunity = o;
      }
      next.push(n);
    }
    const sameShape = !this.fullRefresh && next.length === this.roots.length && next.every((n, i) => n === this.roots[i]);
    this.fullRefresh = false;
    const wasEmpty = this.roots.length === 0;
    this.roots = next;
    if (wasEmpty !== (next.length === 0)) this.updateMessage();
    this.byId.clear();
    for (const n of next) this.byId.set(n.id, n);
    void setContext('htlcMonitor.hasFailures', next.length > 0);
    if (!sameShape) {
      this.refreshStats.full++;
      this._onDidChangeTreeData.fire(undefined);
    } else if (changed.length) {
      this.refreshStats.partial++;
      this._onDidChangeTreeData.fire(changed);
    } else {
      this.refreshStats.skipped++;
    }
  }

  private updateDescription(): void {
    this.view.description = `${WINDOW_LABELS[this.viewState.window]}${this.viewState.actionableOnly ? ' · actionable only' : ''}`;
  }

  private updateMessage(): void {
    const s = this.manager.summary;
    // VS Code hides the welcome content while a view has a message: with no channel to show, the
    // welcome view states the connection (the reason is in the status bar's tooltip and the log)
    if (s.state === 'connected' && s.historyOnly !== undefined && this.roots.length > 0) {
      // the channels shown come from the stored history: say that no new failure can appear
      this.view.message = `History-only mode: new failed forwards are NOT visible (${sanitizeText(s.historyOnly, 200)}). These channels are from the stored history. Use a macaroon with offchain:read to see failures.`;
    } else if ((s.state === 'failed' || s.state === 'stopped' || s.state === 'reconnecting') && s.reason && this.roots.length > 0) {
      this.view.message = `${s.state === 'reconnecting' ? 'Reconnecting' : 'Disconnected'}: ${sanitizeText(s.reason, 300)}`;
    } else {
      this.view.message = undefined;
    }
  }

  getChildren(element?: TreeNode): TreeNode[] {
    if (!element) return this.roots;
    if (element.kind !== 'channel') return [];
    const window = this.viewState.window;
    const stats = element.opportunity.stats;
    const out: TreeNode[] = stats.reasons.map((r) => ({ kind: 'reason', id: `${element.id}/reason/${r.reason}`, channelId: element.channelId, reason: r }));
    const seen = new Map<string, number>();
    for (const f of this.windows.recentFailures(element.channelId, window, RECENT_IN_TREE)) {
      const base = `${element.id}/failure/${f.timestampMs}/${f.incomingChanId}/${f.outgoingAmtMsat}/${f.reason}`;
      const k = seen.get(base) ?? 0;
      seen.set(base, k + 1);
      out.push({ kind: 'failure', id: k ? `${base}/${k}` : base, channelId: element.channelId, failure: f });
    }
    return out;
  }

  getParent(element: TreeNode): TreeNode | undefined {
    return element.kind === 'channel' ? undefined : this.byId.get(channelNodeId(element.channelId));
  }

  getTreeItem(element: TreeNode): vscode.TreeItem {
    switch (element.kind) {
      case 'channel':
        return this.channelItem(element);
      case 'reason':
        return reasonItem(element);
      case 'failure':
        return failureItem(element);
    }
  }

  private channelItem(n: ChannelNode): vscode.TreeItem {
    const o = n.opportunity;
    const s = o.stats;
    const ctx = this.context.get(n.channelId);
    const label = channelLabel(s.scid, ctx);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = n.id;
    item.description = channelDescription(s);
    item.iconPath = new vscode.ThemeIcon(o.urgency === 'low' ? 'circle-outline' : 'circle-filled', new vscode.ThemeColor(SEVERITY_COLOR[o.urgency]));
    item.contextValue = 'channel';
    item.tooltip = channelTooltip(label, o, ctx);
    item.accessibilityInformation = { label: `${label}: ${item.description}, urgency ${o.urgency}`, role: 'treeitem' };
    return item;
  }
}

export function channelNodeId(channelId: string): string {
  return `channel/${channelId}`;
}

/**
 * Everything a channel's item shows (label, description, icon, tooltip): a node is refreshed when
 * this changes, so nothing it shows may be left out or the change stays unshown.
 */
export function channelItemInputs(o: Opportunity, ctx: ChannelContext | undefined): string {
  const s = o.stats;
  const top = s.reasons[0];
  return [
    s.failures, s.successes, s.missedFeesMsat, s.missedAmountMsat, s.lastFailureAtMs, top?.reason ?? '', top?.count ?? '',
    o.urgency, o.action, o.recommendation,
    ctx?.alias ?? '', ctx?.capacitySat ?? '', ctx?.localBalanceSat ?? '', ctx?.remoteBalanceSat ?? '', ctx?.baseFeeMsat ?? '', ctx?.feePpm ?? '', ctx?.active ?? '',
  ].join('|');
}

function md(): vscode.MarkdownString {
  const m = new vscode.MarkdownString('', false);
  m.isTrusted = false;
  m.supportHtml = false;
  return m;
}

function sat(msat: bigint): string {
  return `${formatSat(msat)} sat`;
}

/** Every value from the network goes through escapeMarkdown: aliases are attacker-controlled. */
export function channelTooltip(label: string, o: Opportunity, ctx: ChannelContext | undefined): vscode.MarkdownString {
  const s = o.stats;
  const e = escapeMarkdown;
  const rows: [string, string][] = [
    ['Channel', `${s.scid} (${s.channelId})`],
    ['Failed forwards', `${formatCount(s.failures)} (${formatCount(s.successes)} settled)`],
    ['Missed fees', `${sat(s.missedFeesMsat)} on ${sat(s.missedAmountMsat)}`],
    ['Top reason', s.reasons[0] ? `${reasonLabel(s.reasons[0].reason)} ×${formatCount(s.reasons[0].count)}` : '—'],
  ];
  if (ctx?.capacitySat !== undefined) rows.push(['Capacity', sat(ctx.capacitySat * 1000n)]);
  if (ctx?.localBalanceSat !== undefined && ctx.remoteBalanceSat !== undefined) rows.push(['Local / remote', `${sat(ctx.localBalanceSat * 1000n)} / ${sat(ctx.remoteBalanceSat * 1000n)}`]);
  if (ctx?.feePpm !== undefined) rows.push(['Fees', `${ctx.baseFeeMsat ?? 0n} msat + ${ctx.feePpm} ppm`]);
  if (ctx?.active === false) rows.push(['Peer', 'offline']);
  rows.push(['Urgency', o.urgency]);
  const m = md();
  m.appendMarkdown(`**${e(label)}**\n\n| | |\n|---|---|\n`);
  for (const [k, v] of rows) m.appendMarkdown(`| ${e(k)} | ${e(v)} |\n`);
  m.appendMarkdown(`\n${e(o.recommendation)}\n`);
  return m;
}

function reasonItem(n: ReasonNode): vscode.TreeItem {
  const r = n.reason;
  const item = new vscode.TreeItem(reasonLabel(r.reason), vscode.TreeItemCollapsibleState.None);
  item.id = n.id;
  item.description = `${formatCount(r.count)} × · ${sat(r.missedFeesMsat)} missed`;
  const category = categoryOf(r.reason);
  item.iconPath = new vscode.ThemeIcon(CATEGORY_ICON[category]);
  item.contextValue = 'reason';
  const m = md();
  m.appendMarkdown(`**${escapeMarkdown(r.reason)}** (${escapeMarkdown(category)})\n\n`);
  m.appendMarkdown(`${escapeMarkdown(`${formatCount(r.count)} failed forwards, ${msatToSatString(r.missedFeesMsat)} sat of fees missed on ${msatToSatString(r.missedAmountMsat)} sat`)}`);
  item.tooltip = m;
  return item;
}

function failureItem(n: FailureNode): vscode.TreeItem {
  const f = n.failure;
  const item = new vscode.TreeItem(formatLocalShort(f.timestampMs), vscode.TreeItemCollapsibleState.None);
  item.id = n.id;
  item.description = `${sat(f.outgoingAmtMsat)} · fee ${sat(f.missedFeeMsat)} · ${reasonLabel(f.reason)}`;
  item.iconPath = new vscode.ThemeIcon('history');
  item.contextValue = 'failure';
  const m = md();
  const lines = [
    `Time: ${formatLocalIso(f.timestampMs)}`,
    `Amount: ${msatToSatString(f.outgoingAmtMsat)} sat out, ${msatToSatString(f.incomingAmtMsat)} sat in`,
    `Missed fee: ${msatToSatString(f.missedFeeMsat)} sat`,
    `Reason: ${f.reason} (${f.category})`,
    `Incoming channel: ${f.incomingChanId}`,
  ];
  if (f.failureString) lines.push(`LND says: ${f.failureString}`);
  m.appendMarkdown(lines.map((l) => escapeMarkdown(l)).join('  \n'));
  item.tooltip = m;
  return item;
}
