import type * as vscode from 'vscode';
import type { ConnectionSummary } from '../shared/protocol';
import type { ShownAlert } from './alerts/alertsController';
import type { PanelProbe } from './webview/opportunitiesPanel';

/** A rendered tree item, as the integration tests see it. */
export interface TreeItemSnapshot {
  id: string;
  label: string;
  description: string;
  contextValue: string;
  icon?: string;
  iconColor?: string;
  tooltip: string;
}

/**
 * Returned by activate() when the extension runs under tests or from a development folder (never
 * in an installed VSIX): read-only views of what the UI shows, plus a few test hooks.
 */
export interface HtlcMonitorTestApi {
  statusText(): string;
  statusTooltip(): string;
  statusBackground(): string | undefined;
  statusAccessibilityLabel(): string;
  connection(): ConnectionSummary;
  /** Refreshes the tree now and renders its root items. */
  treeItems(): TreeItemSnapshot[];
  treeChildren(channelId: string): TreeItemSnapshot[];
  treeRefreshStats(): { full: number; partial: number; skipped: number };
  treeMessage(): string | undefined;
  panel(): PanelProbe | undefined;
  hasStoredMacaroon(): Promise<boolean>;
  storeMacaroonHex(hex: string): Promise<void>;
  redact(text: string): string;
  setDemoMode(mode: 'ok' | 'down'): Promise<void>;
  /** Export target instead of the save dialog (undefined restores the dialog). */
  setExportTarget(uri: vscode.Uri | undefined): void;
  render(what: 'csv' | 'json'): string;
  /** The extension's global storage folder (where the per-node history files are). */
  globalStorage(): string;
  /** The open history file, or the last node's file when monitoring is stopped. */
  historyFile(): string | undefined;
  /** The identity pubkey of the node monitored last. */
  nodePubkey(): string | undefined;
  /** The value the extension last set for a `when`-clause context key (e.g. htlcMonitor.historyOnly). */
  contextKey(key: string): unknown;
  /** A value of the extension's globalState. */
  globalStateValue(key: string): unknown;
  /**
   * Answers alert notifications instead of the user: `answer` gets the message and the buttons and
   * returns the button to press (undefined = dismissed). Without an answer, notifications are shown.
   */
  answerAlerts(answer: ((message: string, buttons: string[]) => string | undefined) | undefined): void;
  /** Every alert notification shown so far (by this instance), with what it resolved to. */
  alertsShown(): ShownAlert[];
  /** Checks the alert conditions now (they are checked within a second of new failures anyway). */
  evaluateAlerts(): void;
  /** host:port of the metrics server once its settings are applied, undefined when it is off. */
  metricsAddress(): Promise<string | undefined>;
  /**
   * deactivate() then activate() again in this extension host: a new instance with empty memory,
   * as after a window reload (the API object keeps working: it forwards to the current instance).
   */
  restartExtension(): Promise<void>;
}
