import * as vscode from 'vscode';
import { isWindowId, WindowId } from '../shared/protocol';

/** Everything under `htlcMonitor.*`, typed, with the manifest's defaults. */
export const SECTION = 'htlcMonitor';

export interface HtlcMonitorSettings {
  /** LND gRPC host:port. */
  server: string;
  tlsCertPath: string;
  /** A macaroon file read at each connect (the alternative to a macaroon kept in secret storage). */
  macaroonPath: string;
  maxChannels: number;
  retentionDays: number;
  defaultWindow: WindowId;
  statusBarWindow: WindowId;
  autoStart: boolean;
}

export const DEFAULTS: HtlcMonitorSettings = {
  server: '',
  tlsCertPath: '',
  macaroonPath: '',
  maxChannels: 10_000,
  retentionDays: 30,
  defaultWindow: '24h',
  statusBarWindow: '1h',
  autoStart: true,
};

/** Setting keys relative to the section, as in package.json. */
export const KEYS = {
  server: 'lnd.server',
  tlsCertPath: 'lnd.tlsCertPath',
  macaroonPath: 'lnd.macaroonPath',
  maxChannels: 'maxChannels',
  retentionDays: 'retentionDays',
  defaultWindow: 'defaultWindow',
  statusBarWindow: 'statusBarWindow',
  autoStart: 'autoStart',
} as const satisfies Record<keyof HtlcMonitorSettings, string>;

function clampInt(v: unknown, min: number, max: number, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : dflt;
}

export function readSettings(cfg: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration(SECTION)): HtlcMonitorSettings {
  const str = (k: string, d: string) => {
    const v = cfg.get<unknown>(k);
    return typeof v === 'string' ? v.trim() : d;
  };
  const win = (k: string, d: WindowId) => {
    const v = cfg.get<unknown>(k);
    return isWindowId(v) ? v : d;
  };
  return {
    server: str(KEYS.server, DEFAULTS.server),
    tlsCertPath: expandHome(str(KEYS.tlsCertPath, DEFAULTS.tlsCertPath)),
    macaroonPath: expandHome(str(KEYS.macaroonPath, DEFAULTS.macaroonPath)),
    maxChannels: clampInt(cfg.get(KEYS.maxChannels), 10, 1_000_000, DEFAULTS.maxChannels),
    retentionDays: clampInt(cfg.get(KEYS.retentionDays), 1, 3650, DEFAULTS.retentionDays),
    defaultWindow: win(KEYS.defaultWindow, DEFAULTS.defaultWindow),
    statusBarWindow: win(KEYS.statusBarWindow, DEFAULTS.statusBarWindow),
    autoStart: cfg.get<unknown>(KEYS.autoStart) !== false,
  };
}

export async function updateSetting<K extends keyof HtlcMonitorSettings>(key: K, value: HtlcMonitorSettings[K] | undefined): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(KEYS[key], value, vscode.ConfigurationTarget.Global);
}

export function affects(e: vscode.ConfigurationChangeEvent, ...keys: (keyof HtlcMonitorSettings)[]): boolean {
  return keys.some((k) => e.affectsConfiguration(`${SECTION}.${KEYS[k]}`));
}

function expandHome(p: string): string {
  if (p === '~' || p.startsWith('~/')) {
    const home = process.env.HOME ?? process.env.USERPROFILE ?? '';
    return home + p.slice(1);
  }
  return p;
}
