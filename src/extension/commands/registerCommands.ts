import * as vscode from 'vscode';
import { msatToSatString } from '../../core/format';
import { formatLocalIso } from '../../core/time';
import type { ExportFormat, WindowId } from '../../shared/protocol';
import { WINDOW_LABELS, WINDOWS } from '../../shared/protocol';
import type { Log } from '../common/log';
import { ConnectFlow } from '../connection/connectFlow';
import { ConnectionManager, describeError } from '../connection/connectionManager';
import type { MacaroonStore } from '../connection/secrets';
import type { DemoNode } from '../demo/demoNode';
import type { ExportService } from '../export/exportService';
import { HISTORY_EXPORTS, isHistoryExport, renderHistoryExport, type HistoryExportKind } from '../export/historyExport';
import type { FailingChannelsTree, TreeNode } from '../tree/failingChannelsTree';
import type { ViewState } from '../viewState';
import { buildState, OpportunitiesPanel, PanelDeps } from '../webview/opportunitiesPanel';
import { COMMANDS } from './commandIds';

export interface CommandDeps {
  manager: ConnectionManager;
  macaroons: MacaroonStore;
  log: Log;
  tree: FailingChannelsTree;
  viewState: ViewState;
  demo: DemoNode;
  exporter: ExportService;
  panelDeps: () => PanelDeps;
  refreshContext: () => Promise<void>;
}

/** Tree item commands get the node; from elsewhere a channel id string is accepted too. */
function channelIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && /^\d{1,20}$/.test(arg)) return arg;
  if (arg && typeof arg === 'object' && 'channelId' in arg && typeof (arg as { channelId: unknown }).channelId === 'string') return (arg as { channelId: string }).channelId;
  return undefined;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { manager, log, tree, viewState } = d;
  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        const message = describeError(err);
        log.error(`${id} failed: ${message}`);
        void vscode.window.showErrorMessage(message);
        return undefined;
      }
    });

  const startMonitoring = async () => {
    const resolved = await manager.resolveFromSettings();
    if (!resolved.ok) {
      const pick = await vscode.window.showWarningMessage(`HTLC Monitor is not configured: missing ${resolved.missing}.`, 'Connect to LND…', 'Start Demo Node');
      if (pick === 'Connect to LND…') await vscode.commands.executeCommand(COMMANDS.connect);
      if (pick === 'Start Demo Node') await vscode.commands.executeCommand(COMMANDS.startDemoNode);
      return manager.summary;
    }
    const summary = await manager.start(resolved.config);
    if (summary.state === 'failed' && summary.reason) {
      const pick = await vscode.window.showErrorMessage(`Cannot monitor LND: ${summary.reason}`, 'Connect to LND…', 'Show Log');
      if (pick === 'Connect to LND…') await vscode.commands.executeCommand(COMMANDS.connect);
      if (pick === 'Show Log') log.show();
    }
    return summary;
  };

  /** The node's stored history for the view's window: channels, route pairs or failures. */
  const exportHistory = async (kind: HistoryExportKind) => {
    const window = viewState.window;
    const history = manager.history;
    const rendered = history ? await history.read((store) => renderHistoryExport(store, kind, window)) : undefined;
    if (!rendered) {
      void vscode.window.showInformationMessage('No stored history yet: it starts with the first connection to a node.');
      return undefined;
    }
    const uri = await d.exporter.save({ name: `htlc-${kind}-${window}`, format: rendered.format, title: `Export ${HISTORY_EXPORTS[kind].label}`, text: () => rendered.text });
    if (!uri) return undefined;
    log.info(`exported ${HISTORY_EXPORTS[kind].label}, ${rendered.rows} rows (${window}) to ${uri.toString(true)}`);
    const note = rendered.complete ? '' : ' Retention already dropped part of this window: the export covers what is kept.';
    void vscode.window.showInformationMessage(`Exported ${rendered.rows} rows to ${uri.fsPath || uri.toString(true)}.${note}`);
    return uri;
  };

  const exportNow = async (format?: ExportFormat | HistoryExportKind) => {
    if (isHistoryExport(format)) return exportHistory(format);
    let f = format;
    if (f !== 'csv' && f !== 'json') {
      const history = manager.history ? Object.entries(HISTORY_EXPORTS).map(([kind, h]) => ({ label: h.label, description: h.description, format: kind as HistoryExportKind })) : [];
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'CSV', description: 'top opportunities: one row per channel, for spreadsheets', format: 'csv' as const },
          { label: 'JSON', description: 'top opportunities: amounts in msat as exact decimal strings', format: 'json' as const },
          ...history,
        ],
        { title: `Export (${WINDOW_LABELS[viewState.window]})`, placeHolder: 'What to export' },
      );
      if (!pick) return undefined;
      if (isHistoryExport(pick.format)) return exportHistory(pick.format);
      f = pick.format;
    }
    const state = buildState(d.panelDeps(), viewState.window, viewState.actionableOnly);
    const uri = await d.exporter.export({ format: f, window: state.window, rows: state.rows, node: state.connection.nodeAlias ?? null, source: state.source });
    if (uri) void vscode.window.showInformationMessage(`Exported ${state.rows.length} channels to ${uri.fsPath || uri.toString(true)}.`);
    return uri;
  };

  return [
    reg(COMMANDS.connect, () => new ConnectFlow(manager, d.macaroons, log).run()),
    reg(COMMANDS.startMonitoring, startMonitoring),
    reg(COMMANDS.stopMonitoring, async () => {
      await manager.stop();
      return manager.summary;
    }),
    reg(COMMANDS.showTopOpportunities, () => {
      OpportunitiesPanel.show(d.panelDeps());
      return true;
    }),
    reg(COMMANDS.startDemoNode, async (opts?: unknown) => {
      const o = (opts && typeof opts === 'object' ? opts : {}) as { seed?: number; eventsPerSecond?: number };
      const address = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Starting the HTLC demo node…' }, () =>
        d.demo.start({ seed: typeof o.seed === 'number' ? o.seed : undefined, eventsPerSecond: typeof o.eventsPerSecond === 'number' ? o.eventsPerSecond : undefined }),
      );
      return address;
    }),
    reg(COMMANDS.export, (format?: unknown) => exportNow(format as ExportFormat | HistoryExportKind | undefined)),
    reg(COMMANDS.resetStatistics, async (opts?: unknown) => {
      const skipConfirm = !!opts && typeof opts === 'object' && (opts as { confirm?: boolean }).confirm === false;
      if (!skipConfirm) {
        const ok = await vscode.window.showWarningMessage('Reset all HTLC statistics? Failures counted so far are forgotten, also in the saved history of this node.', { modal: true }, 'Reset');
        if (ok !== 'Reset') return false;
      }
      await manager.resetStatistics();
      log.info('statistics reset');
      return true;
    }),
    reg(COMMANDS.showLog, () => log.show()),
    reg(COMMANDS.forgetMacaroon, async () => {
      await d.macaroons.clear();
      await manager.resolveFromSettings();
      void vscode.window.showInformationMessage('The stored macaroon was removed from secret storage.');
      return true;
    }),
    reg(COMMANDS.refresh, () => {
      tree.refreshNow();
      void d.refreshContext();
      return true;
    }),
    reg(COMMANDS.selectWindow, async (arg?: unknown) => {
      let w = (WINDOWS as readonly unknown[]).includes(arg) ? (arg as WindowId) : undefined;
      if (!w) {
        const pick = await vscode.window.showQuickPick(
          WINDOWS.map((id) => ({ label: WINDOW_LABELS[id], description: id === viewState.window ? 'current' : undefined, id })),
          { title: 'Failing Channels: window', placeHolder: 'Rank channels by missed fees within…' },
        );
        w = pick?.id;
      }
      if (w) await viewState.setWindow(w);
      return viewState.window;
    }),
    reg(COMMANDS.showActionableOnly, () => viewState.setActionableOnly(true)),
    reg(COMMANDS.showAllChannels, () => viewState.setActionableOnly(false)),
    reg(COMMANDS.copyChannelId, async (arg?: unknown) => {
      const id = channelIdOf(arg);
      if (!id) return undefined;
      await vscode.env.clipboard.writeText(id);
      return id;
    }),
    reg(COMMANDS.copyScid, async (arg?: unknown) => {
      const id = channelIdOf(arg);
      const n = id ? tree.node(id) : undefined;
      if (!n) return undefined;
      await vscode.env.clipboard.writeText(n.opportunity.scid);
      return n.opportunity.scid;
    }),
    reg(COMMANDS.copyDetails, async (arg?: unknown) => {
      const node = arg as TreeNode | undefined;
      let text: string | undefined;
      if (node?.kind === 'reason') {
        text = `${node.reason.reason}\t${node.reason.count}\t${msatToSatString(node.reason.missedFeesMsat)} sat missed`;
      } else if (node?.kind === 'failure') {
        const f = node.failure;
        text = `${formatLocalIso(f.timestampMs)}\t${f.reason}\t${msatToSatString(f.outgoingAmtMsat)} sat\tfee ${msatToSatString(f.missedFeeMsat)} sat${f.failureString ? `\t${f.failureString}` : ''}`;
      }
      if (text) await vscode.env.clipboard.writeText(text);
      return text;
    }),
    reg(COMMANDS.showInAnalysis, (arg?: unknown) => {
      const id = channelIdOf(arg);
      const panel = OpportunitiesPanel.show(d.panelDeps());
      if (id) panel.focusChannel(id);
      return true;
    }),
  ];
}
