/**
 * The typed message protocol between the extension host and the "Top Opportunities" webview.
 * Both sides import this file; it has no runtime dependency on vscode or the DOM.
 *
 * Amounts cross the boundary as decimal msat strings (postMessage cannot carry bigint and a JS
 * number would lose precision); the webview formats them for display.
 *
 * Handshake: the webview posts `ready` once its script runs; only then does the extension post
 * `state` (and later `state` again, coalesced, on live updates). The window shown is the
 * extension's (the tree's for a new panel) unless `ready` carries the webview's saved one.
 */

export const WINDOWS = ['1h', '24h', '7d', '30d', 'all'] as const;
export type WindowId = (typeof WINDOWS)[number];

export const WINDOW_LABELS: Readonly<Record<WindowId, string>> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  all: 'Since monitoring started',
};

/** Window length in ms; undefined for "all". */
export const WINDOW_MS: Readonly<Record<WindowId, number | undefined>> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  all: undefined,
};

export function isWindowId(v: unknown): v is WindowId {
  return typeof v === 'string' && (WINDOWS as readonly string[]).includes(v);
}

export type Urgency = 'high' | 'medium' | 'low';
export const URGENCIES: readonly Urgency[] = ['high', 'medium', 'low'];

export type ConnectionStateName = 'notConfigured' | 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'failed';

export interface ConnectionSummary {
  state: ConnectionStateName;
  /** Why we are not connected (an LndError message); never contains secrets. */
  reason?: string;
  /**
   * Set while connected in history-only mode: why LND refused the HTLC event stream. Then only
   * successes (from ForwardingHistory) are counted; failed forwards are not visible.
   */
  historyOnly?: string;
  nodeAlias?: string;
  target?: string;
  demo: boolean;
}

export interface OpportunityRow {
  channelId: string;
  scid: string;
  /** Peer alias as LND reports it (attacker-controlled: render with textContent only). */
  alias: string | null;
  rank: number;
  failures: number;
  successes: number;
  missedFeesMsat: string;
  missedAmountMsat: string;
  topReason: string | null;
  /** e.g. "rebalance", "raise-max-htlc", "check-peer", "none". */
  action: string;
  recommendation: string;
  urgency: Urgency;
  actionable: boolean;
  evidence: string[];
}

export interface FailureSeries {
  startMs: number;
  bucketMs: number;
  /** One entry per reason, each with `counts.length` buckets starting at startMs. */
  series: { reason: string; counts: number[] }[];
}

export interface ChannelFeesPoint {
  channelId: string;
  label: string;
  missedFeesMsat: string;
}

export interface OpportunitiesState {
  window: WindowId;
  actionableOnly: boolean;
  connection: ConnectionSummary;
  generatedAtMs: number;
  /** Which implementation ranked the rows (e.g. "in-memory heuristics" or "analysis"). */
  source: string;
  totals: { failures: number; missedFeesMsat: string; channels: number };
  rows: OpportunityRow[];
  failureSeries: FailureSeries;
  feesByChannel: ChannelFeesPoint[];
}

export type ExportFormat = 'csv' | 'json';

/** Extension → webview. */
export type ExtensionToWebview =
  | { type: 'state'; state: OpportunitiesState }
  | { type: 'exportResult'; ok: boolean; message: string }
  /** Scroll to and highlight a channel's row ("Show in Top Opportunities" from the tree). */
  | { type: 'focusChannel'; channelId: string };

/** Webview → extension. */
export type WebviewToExtension =
  /**
   * The page's script runs. `window` and `actionableOnly` only when the webview restored a saved
   * state (its document was recreated): a fresh one shows the panel's window.
   */
  | { type: 'ready'; window?: WindowId; actionableOnly?: boolean }
  | { type: 'setWindow'; window: WindowId }
  | { type: 'setActionableOnly'; value: boolean }
  | { type: 'export'; format: ExportFormat }
  | { type: 'revealChannel'; channelId: string }
  | { type: 'rendered'; rows: number; charts: number; window: WindowId }
  | { type: 'cspViolation'; directive: string; blockedURI: string };

/** What the webview keeps with setState and restores after a reload. */
export interface WebviewPersistedState {
  /** Unset until the first state arrives (or the user picks one). */
  window?: WindowId;
  actionableOnly: boolean;
  scrollY: number;
}

const DECIMAL = /^\d{1,20}$/;

/**
 * Validates a message from the webview (the extension treats it as untrusted input): returns it
 * typed, or undefined for anything malformed.
 */
export function parseWebviewMessage(raw: unknown): WebviewToExtension | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready': {
      const out: WebviewToExtension = { type: 'ready' };
      if (isWindowId(m.window)) out.window = m.window;
      if (typeof m.actionableOnly === 'boolean') out.actionableOnly = m.actionableOnly;
      return out;
    }
    case 'setWindow':
      return isWindowId(m.window) ? { type: 'setWindow', window: m.window } : undefined;
    case 'setActionableOnly':
      return typeof m.value === 'boolean' ? { type: 'setActionableOnly', value: m.value } : undefined;
    case 'export':
      return m.format === 'csv' || m.format === 'json' ? { type: 'export', format: m.format } : undefined;
    case 'revealChannel':
      return typeof m.channelId === 'string' && DECIMAL.test(m.channelId) ? { type: 'revealChannel', channelId: m.channelId } : undefined;
    case 'rendered':
      return Number.isInteger(m.rows) && Number.isInteger(m.charts) && isWindowId(m.window)
        ? { type: 'rendered', rows: m.rows as number, charts: m.charts as number, window: m.window }
        : undefined;
    case 'cspViolation':
      return typeof m.directive === 'string' && typeof m.blockedURI === 'string'
        ? { type: 'cspViolation', directive: m.directive.slice(0, 200), blockedURI: m.blockedURI.slice(0, 200) }
        : undefined;
    default:
      return undefined;
  }
}
