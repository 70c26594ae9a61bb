import * as vscode from 'vscode';
import { Disposable } from './common/lifecycle';
import { contextValue } from './common/contextKeys';
import { AlertsController } from './alerts/alertsController';
import { MetricsController } from './metrics/metricsController';
import { Log } from './common/log';
import { registerCommands } from './commands/registerCommands';
import { affects, readSettings } from './config';
import { ConnectionManager } from './connection/connectionManager';
import { MacaroonStore } from './connection/secrets';
import { AnalysisBackend } from './data/analysisBackend';
import type { ChannelContextSource, OpportunitySource, WindowSource } from './data/types';
import { DemoNode } from './demo/demoNode';
import { ExportService } from './export/exportService';
import { StatusBar } from './statusBar/statusBar';
import type { HtlcMonitorTestApi, TreeItemSnapshot } from './testApi';
import { FailingChannelsTree } from './tree/failingChannelsTree';
import { ViewState } from './viewState';
import { buildState, OpportunitiesPanel, OpportunitiesSerializer, PANEL_VIEW_TYPE, PanelDeps } from './webview/opportunitiesPanel';

/** Wires the feature folders together; every registration is disposed with the extension. */
export class HtlcMonitorExtension extends Disposable {
  readonly log: Log;
  readonly macaroons: MacaroonStore;
  readonly manager: ConnectionManager;
  readonly windows: WindowSource;
  readonly opportunities: OpportunitySource;
  readonly channelContext: ChannelContextSource;
  readonly viewState: ViewState;
  readonly tree: FailingChannelsTree;
  readonly statusBar: StatusBar;
  readonly demo: DemoNode;
  readonly exporter: ExportService;
  readonly alerts: AlertsController;
  readonly metrics: MetricsController;

  constructor(private readonly context: vscode.ExtensionContext) {
    super();
    const settings = readSettings();
    this.log = this._register(new Log());
    this.macaroons = this._register(new MacaroonStore(context.secrets));
    // one history file per node (keyed by its pubkey) in the extension's global storage
    const historyDir = context.globalStorageUri.fsPath;
    void Promise.resolve(vscode.workspace.fs.createDirectory(context.globalStorageUri)).catch((err: unknown) => this.log.warn(`cannot create ${historyDir}: ${(err as Error)?.message ?? err}`));
    this.manager = this._register(
      new ConnectionManager(this.log, this.macaroons, settings, false, {
        historyDir,
        notify: (m) => void vscode.window.showWarningMessage(m, 'Show Log').then((pick) => pick && this.log.show()),
      }),
    );
    this.windows = this.manager.windows;
    // the opportunity analysis and channel context from src/core (heuristics as its fallback)
    const analysis = this._register(new AnalysisBackend(this.manager, this.windows, this.log));
    this.opportunities = analysis;
    this.channelContext = analysis;
    this.viewState = this._register(new ViewState(context.workspaceState, settings.defaultWindow));
    this.tree = this._register(new FailingChannelsTree(this.manager, this.windows, this.opportunities, this.channelContext, this.viewState));
    this.statusBar = this._register(new StatusBar(this.manager, this.windows, settings.statusBarWindow, this.manager.history));
    this.demo = this._register(new DemoNode(this.manager, this.log));
    this.exporter = new ExportService(this.log);
    // threshold alerts (htlcMonitor.alerts.*) and the optional 127.0.0.1 metrics server (htlcMonitor.metrics.*)
    this.alerts = this._register(new AlertsController(this.manager, context.globalState, this.log, (a) => (a.channelId ? void this.tree.reveal(a.channelId) : this.log.show())));
    this.metrics = this._register(new MetricsController(this.manager, this.log));

    for (const d of registerCommands({
      manager: this.manager,
      macaroons: this.macaroons,
      log: this.log,
      tree: this.tree,
      viewState: this.viewState,
      demo: this.demo,
      exporter: this.exporter,
      panelDeps: () => this.panelDeps(),
      refreshContext: () => this.channelContext.refresh(),
    })) this._register(d);

    this._register(vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, new OpportunitiesSerializer(() => this.panelDeps())));
    this._register({ dispose: () => OpportunitiesPanel.instance?.dispose() });
    this._register(vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChanged(e)));
    this._register(this.macaroons.onDidChange(() => void this.manager.resolveFromSettings()));
    this.log.info(`Lightning HTLC Monitor ${context.extension.packageJSON.version ?? ''} activated (VS Code ${vscode.version})`);
    void this.init(settings.autoStart);
  }

  private async init(autoStart: boolean): Promise<void> {
    const resolved = await this.manager.resolveFromSettings();
    if (resolved.ok && autoStart && !this.manager.running) {
      this.log.info('configured: starting monitoring (htlcMonitor.autoStart)');
      // a start the user asked for meanwhile (the command that activated us) is kept, not replaced
      await this.manager.start(resolved.config, { ifIdle: true });
    }
  }

  private onConfigChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration('htlcMonitor')) return;
    const s = readSettings();
    if (affects(e, 'statusBarWindow')) this.statusBar.setWindow(s.statusBarWindow);
    if (affects(e, 'retentionDays', 'maxChannels')) this.manager.applySettings(s);
    if (affects(e, 'server', 'tlsCertPath', 'macaroonPath')) void this.manager.resolveFromSettings(s);
  }

  panelDeps(): PanelDeps {
    return {
      extensionUri: this.context.extensionUri,
      manager: this.manager,
      windows: this.windows,
      opportunities: () => this.opportunities,
      exporter: this.exporter,
      log: this.log,
      revealChannel: (id) => this.tree.reveal(id),
      defaultWindow: () => this.viewState.window,
    };
  }

  testApi(): HtlcMonitorTestApi {
    const snapshot = (item: vscode.TreeItem): TreeItemSnapshot => {
      const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath : undefined;
      const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : String(item.tooltip ?? '');
      return {
        id: item.id ?? '',
        label: typeof item.label === 'string' ? item.label : item.label?.label ?? '',
        description: typeof item.description === 'string' ? item.description : '',
        contextValue: item.contextValue ?? '',
        icon: icon?.id,
        iconColor: icon?.color?.id,
        tooltip,
      };
    };
    let exportTarget: vscode.Uri | undefined;
    return {
      statusText: () => this.statusBar.item.text,
      statusTooltip: () => {
        const t = this.statusBar.item.tooltip;
        return t instanceof vscode.MarkdownString ? t.value : String(t ?? '');
      },
      statusBackground: () => (this.statusBar.item.backgroundColor as vscode.ThemeColor | undefined)?.id,
      statusAccessibilityLabel: () => this.statusBar.item.accessibilityInformation?.label ?? '',
      connection: () => this.manager.summary,
      treeItems: () => {
        this.tree.refreshNow();
        return this.tree.getChildren().map((n) => snapshot(this.tree.getTreeItem(n)));
      },
      treeChildren: (channelId) => {
        const n = this.tree.node(channelId);
        return n ? this.tree.getChildren(n).map((c) => snapshot(this.tree.getTreeItem(c))) : [];
      },
      treeRefreshStats: () => ({ ...this.tree.refreshStats }),
      treeMessage: () => this.tree.view.message,
      panel: () => OpportunitiesPanel.instance?.probe,
      hasStoredMacaroon: () => this.macaroons.has(),
      storeMacaroonHex: async (hex) => {
        await this.macaroons.storeHex(hex);
      },
      redact: (t) => this.log.redact(t),
      setDemoMode: (mode) => this.demo.setMode(mode),
      setExportTarget: (uri) => {
        exportTarget = uri;
        this.exporter.saveTarget = uri ? async () => exportTarget : undefined;
      },
      render: (format) => {
        const state = buildState(this.panelDeps(), this.viewState.window, this.viewState.actionableOnly);
        return this.exporter.render({ format, window: state.window, rows: state.rows, node: state.connection.nodeAlias ?? null, source: state.source });
      },
      globalStorage: () => this.context.globalStorageUri.fsPath,
      historyFile: () => this.manager.history?.store?.file ?? this.manager.history?.lastFileName,
      nodePubkey: () => this.manager.currentMonitor?.nodeInfo?.identity_pubkey ?? this.manager.lastNodePubkey,
      contextKey: (key) => contextValue(key),
      globalStateValue: (key) => this.context.globalState.get(key),
      answerAlerts: (answer) => {
        this.alerts.prompt = answer
          ? async (message, ...buttons) => answer(message, buttons)
          : (message, ...buttons) => vscode.window.showWarningMessage(message, ...buttons);
      },
      alertsShown: () => this.alerts.shown.map((a) => ({ ...a })),
      evaluateAlerts: () => this.alerts.evaluate(),
      metricsAddress: async () => {
        await this.metrics.ready();
        return this.metrics.address;
      },
      restartExtension: async () => {
        throw new Error('restartExtension is provided by activate()');
      },
    };
  }
}

let instance: HtlcMonitorExtension | undefined;
let instanceApi: HtlcMonitorTestApi | undefined;

export function activate(context: vscode.ExtensionContext): HtlcMonitorTestApi | undefined {
  start(context);
  // the test API is for the integration tests and development hosts only, never an installed VSIX
  return context.extensionMode === vscode.ExtensionMode.Production ? undefined : forwardingApi(context);
}

function start(context: vscode.ExtensionContext): void {
  instance = new HtlcMonitorExtension(context);
  instanceApi = instance.testApi();
  context.subscriptions.push(instance);
}

/** The test API of whichever instance is current (restartExtension replaces it). */
function forwardingApi(context: vscode.ExtensionContext): HtlcMonitorTestApi {
  const current = (): HtlcMonitorTestApi => {
    if (!instanceApi) throw new Error('the extension is not active');
    return instanceApi;
  };
  const api: Record<string, unknown> = {};
  for (const key of Object.keys(current())) api[key] = (...args: unknown[]) => (current() as unknown as Record<string, (...a: unknown[]) => unknown>)[key](...args);
  api.restartExtension = async () => {
    await deactivate();
    start(context);
  };
  return api as unknown as HtlcMonitorTestApi;
}

export async function deactivate(): Promise<void> {
  const ext = instance;
  instance = undefined;
  instanceApi = undefined;
  if (!ext) return;
  await ext.manager.stop(); // closes the stream (and the demo node) before the host goes away
  ext.dispose();
}
