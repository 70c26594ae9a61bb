import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { HtlcMonitorTestApi } from '../../../src/extension/testApi';

export const EXTENSION_ID = 'htlc-monitor.htlc-monitor';

export async function api(): Promise<HtlcMonitorTestApi> {
  const ext = vscode.extensions.getExtension<HtlcMonitorTestApi | undefined>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  const a = await ext.activate();
  assert.ok(a, 'activate() returns the test API in test mode');
  return a;
}

/** Polls until `fn` returns a truthy value (the UI state reaches the extension host asynchronously). */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, stepMs = 100): Promise<NonNullable<T>> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(stepMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** "1,234 fails · 3,450 sat missed" → [1234, 3450] */
export function parseDescription(d: string): [number, number] {
  const m = /^([\d,]+) fails? · ([\d,.]+) sat missed$/.exec(d);
  assert.ok(m, `description "${d}" has the form "N fails · X sat missed"`);
  return [Number(m[1].replace(/,/g, '')), Number(m[2].replace(/,/g, ''))];
}

/** Updates a setting in the user settings (undefined removes it). */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('htlcMonitor').update(key, value, vscode.ConfigurationTarget.Global);
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as import('node:net').AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
