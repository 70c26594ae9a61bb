import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { ExtensionToWebview, OpportunitiesState, WebviewPersistedState, WindowId } from '../../shared/protocol';
import { isWindowId, parseWebviewMessage, WINDOW_LABELS, WINDOWS } from '../../shared/protocol';
import { Disposable, Throttle } from '../common/lifecycle';
import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';
import { feesByChannel, toRow } from '../data/rows';
import type { OpportunitySource, WindowSource } from '../data/types';
import type { ExportService } from '../export/exportService';

export const PANEL_VIEW_TYPE = 'htlcMonitor.opportunities';
export const PANEL_TITLE = 'Top Opportunities';
/** Live updates reach the webview at most this often (ms). */
export const PANEL_UPDATE_MS = 750;

export interface PanelDeps {
  extensionUri: vscode.Uri;
  manager: ConnectionManager;
  windows: WindowSource;
  opportunities: () => OpportunitySource;
  exporter: ExportService;
  log: Log;
  revealChannel: (channelId: string) => Promise<boolean>;
  defaultWindow: () => WindowId;
}

/** What the integration tests can observe of the webview. */
export interface PanelProbe {
  readyCount: number;
  posted: number;
  lastRendered?: { rows: number; charts: number; window: WindowId };
  cspViolations: string[];
  window: WindowId;
  actionableOnly: boolean;
}

export function buildState(deps: Pick<PanelDeps, 'manager' | 'windows' | 'opportunities'>, window: WindowId, actionableOnly: boolean, nowMs = Date.now()): OpportunitiesState {
  const source = deps.opportunities();
  const all = source.opportunities(window, nowMs).map((o, i) => toRow(o, i + 1));
  const rows = actionableOnly ? all.filter((r) => r.actionable) : all;
  const totals = deps.windows.totals(window, nowMs);
  return {
    window,
    actionableOnly,
    connection: deps.manager.summary,
    generatedAtMs: nowMs,
    source: `${source.kind} · ${deps.windows.kind}`,
    totals: { failures: totals.failures, missedFeesMsat: totals.missedFeesMsat.toString(), channels: totals.channels },
    rows,
    failureSeries: deps.windows.failureSeries(window, nowMs),
    feesByChannel: feesByChannel(rows),
  };
}

function nonce(): string {
  return crypto.randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * "Top Opportunities": one webview panel (restored after a reload by the serializer). The webview
 * asks for data with `ready`; live updates are coalesced and posted only while it is visible.
 */
export class OpportunitiesPanel extends Disposable {
  private static current: OpportunitiesPanel | undefined;
  private ready = false;
  private dirty = false;
  private pendingFocus: string | undefined;
  private readonly throttle: Throttle;
  readonly probe: PanelProbe;

  static get instance(): OpportunitiesPanel | undefined {
    return OpportunitiesPanel.current;
  }

  static show(deps: PanelDeps): OpportunitiesPanel {
    const existing = OpportunitiesPanel.current;
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, PANEL_TITLE, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, OpportunitiesPanel.options(deps.extensionUri));
    return new OpportunitiesPanel(panel, deps, undefined);
  }

  /** For registerWebviewPanelSerializer: adopts a panel VS Code restored after a reload. */
  static revive(panel: vscode.WebviewPanel, deps: PanelDeps, state: unknown): OpportunitiesPanel {
    OpportunitiesPanel.current?.dispose();
    return new OpportunitiesPanel(panel, deps, state);
  }

  static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableFindWidget: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly deps: PanelDeps, restored: unknown) {
    super();
    OpportunitiesPanel.current = this;
    const r = (restored ?? {}) as Partial<WebviewPersistedState>;
    this.probe = {
      readyCount: 0,
      posted: 0,
      cspViolations: [],
      window: isWindowId(r.window) ? r.window : deps.defaultWindow(),
      actionableOnly: r.actionableOnly === true,
    };
    this.throttle = this._register(new Throttle(PANEL_UPDATE_MS, () => this.post()));
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'htlc-monitor.svg');
    panel.webview.options = OpportunitiesPanel.options(deps.extensionUri);
    panel.webview.html = this.html(panel.webview);
    this._register(panel.webview.onDidReceiveMessage((m) => this.onMessage(m)));
    this._register(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.ready = false; // the webview's document is dropped when hidden
    }));
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(new vscode.Disposable(deps.windows.onDidChange(() => this.invalidate()).dispose));
    const ranked = deps.opportunities().onDidChange?.(() => this.invalidate());
    if (ranked) this._register(new vscode.Disposable(ranked.dispose));
    this._register(deps.manager.onDidChangeState(() => this.invalidate()));
    this._register(deps.manager.onDidReset(() => this.invalidate()));
  }

  override dispose(): void {
    if (OpportunitiesPanel.current === this) OpportunitiesPanel.current = undefined;
    super.dispose();
    this.panel.dispose();
  }

  invalidate(): void {
    this.dirty = true;
    if (this.ready && this.panel.visible) this.throttle.schedule();
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (!m) {
      this.deps.log.warn('ignored a malformed message from the Top Opportunities webview');
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.probe.readyCount++;
        if (m.window) this.probe.window = m.window;
        if (m.actionableOnly !== undefined) this.probe.actionableOnly = m.actionableOnly;
        this.post();
        break;
      case 'setWindow':
        this.probe.window = m.window;
        this.post();
        break;
      case 'setActionableOnly':
        this.probe.actionableOnly = m.value;
        this.post();
        break;
      case 'export': {
        const state = buildState(this.deps, this.probe.window, this.probe.actionableOnly);
        try {
          const uri = await this.deps.exporter.export({
            format: m.format,
            window: state.window,
            rows: state.rows,
            node: state.connection.nodeAlias ?? null,
            source: state.source,
          });
          this.send({ type: 'exportResult', ok: Boolean(uri), message: uri ? `Exported to ${uri.fsPath || uri.toString(true)}` : 'Export cancelled' });
        } catch (err) {
          const message = `Export failed: ${(err as Error).message}`;
          this.deps.log.error(message);
          this.send({ type: 'exportResult', ok: false, message });
        }
        break;
      }
      case 'revealChannel':
        if (!(await this.deps.revealChannel(m.channelId))) {
          void vscode.window.showInformationMessage('That channel is not in the Failing Channels view (check its window and filter).');
        }
        break;
      case 'rendered':
        this.probe.lastRendered = { rows: m.rows, charts: m.charts, window: m.window };
        break;
      case 'cspViolation':
        this.probe.cspViolations.push(`${m.directive} ${m.blockedURI}`);
        this.deps.log.error(`webview CSP violation: ${m.directive} blocked ${m.blockedURI}`);
        break;
    }
  }

  /** Scrolls the webview to a channel's row (after the next state when it is not ready yet). */
  focusChannel(channelId: string): void {
    this.pendingFocus = channelId;
    if (this.ready) this.post();
  }

  /** Posts the current state now (when the webview is ready). */
  post(): void {
    if (!this.ready) return;
    this.dirty = false;
    this.send({ type: 'state', state: buildState(this.deps, this.probe.window, this.probe.actionableOnly) });
    if (this.pendingFocus) {
      this.send({ type: 'focusChannel', channelId: this.pendingFocus });
      this.pendingFocus = undefined;
    }
  }

  private send(msg: ExtensionToWebview): void {
    this.probe.posted++;
    void this.panel.webview.postMessage(msg);
  }

  private html(webview: vscode.Webview): string {
    const n = nonce();
    const media = vscode.Uri.joinPath(this.deps.extensionUri, 'media');
    const css = webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css'));
    const js = webview.asWebviewUri(vscode.Uri.joinPath(media, 'dist', 'webview.js'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${n}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    // the page opens on the panel's window (a fresh webview has none of its own until it is told)
    const initial = this.probe?.window;
    const options = WINDOWS.map((w) => `<option value="${w}"${w === initial ? ' selected' : ''}>${WINDOW_LABELS[w]}</option>`).join('');
    const actionable = this.probe?.actionableOnly ? ' checked' : '';
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>${PANEL_TITLE}</title>
</head>
<body>
<header class="toolbar">
  <h1>Top Opportunities</h1>
  <label>Window <select id="window" aria-label="Window">${options}</select></label>
  <label class="toggle"><input type="checkbox" id="actionable"${actionable}> Actionable only</label>
  <span class="spacer"></span>
  <button id="export-csv" type="button" class="secondary" title="Export the table as CSV">Export CSV</button>
  <button id="export-json" type="button" class="secondary" title="Export the table as JSON">Export JSON</button>
</header>
<p id="status" class="status" role="status" aria-live="polite"></p>
<section id="summary" class="summary" aria-label="Summary"></section>
<section class="charts">
  <figure>
    <figcaption>Failures over time by reason</figcaption>
    <div class="chart-box"><canvas id="chart-failures" role="img" aria-label="Failures over time by reason"></canvas></div>
  </figure>
  <figure>
    <figcaption>Missed fees by channel (sat)</figcaption>
    <div class="chart-box"><canvas id="chart-fees" role="img" aria-label="Missed fees by channel"></canvas></div>
  </figure>
</section>
<table id="opportunities" aria-label="Ranked opportunities">
  <thead><tr><th scope="col">#</th><th scope="col">Channel</th><th scope="col" class="num">Failures</th><th scope="col" class="num">Missed fees</th><th scope="col">Top reason</th><th scope="col">Urgency</th><th scope="col">Recommendation and evidence</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p id="empty" class="empty" hidden></p>
<script nonce="${n}" src="${js}"></script>
</body>
</html>`;
  }
}

/** Restores the panel after a window reload (activation event onWebviewPanel:htlcMonitor.opportunities). */
export class OpportunitiesSerializer implements vscode.WebviewPanelSerializer {
  constructor(private readonly deps: () => PanelDeps) {}
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    OpportunitiesPanel.revive(panel, this.deps(), state);
  }
}
