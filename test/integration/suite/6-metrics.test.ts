import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { HtlcMonitorTestApi } from '../../../src/extension/testApi';
import { api, freePort, setSetting, waitFor } from './util';

const SEED = 93;

/** GET → status and body, or the connection error's code (ECONNREFUSED…). */
async function get(url: string): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (err as Error).message };
  }
}

suite('metrics: htlcMonitor.metrics.* serves /metrics and /healthz on 127.0.0.1', function () {
  let a: HtlcMonitorTestApi;
  let port: number;

  suiteSetup(async function () {
    a = await api();
    port = await freePort();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
    await setSetting('metrics.enabled', undefined);
    await setSetting('metrics.port', undefined);
  });

  test('off by default: nothing listens', async () => {
    assert.equal(vscode.workspace.getConfiguration('htlcMonitor').get('metrics.enabled'), false);
    assert.equal(vscode.workspace.getConfiguration('htlcMonitor').get('metrics.port'), 9464);
    assert.equal(await a.metricsAddress(), undefined);
    const r = await get('http://127.0.0.1:9464/metrics');
    assert.deepEqual(r, { error: 'ECONNREFUSED' });
  });

  test('enabled: /metrics with our metric names and /healthz 200 while connected, 503 when the node goes down', async function () {
    this.timeout(90_000);
    await setSetting('metrics.port', port);
    await setSetting('metrics.enabled', true);
    const address = await waitFor('the metrics server', () => a.metricsAddress());
    assert.equal(address, `127.0.0.1:${port}`);
    // no monitor yet: unhealthy, said plainly
    const idle = await get(`http://${address}/healthz`);
    assert.ok('status' in idle && idle.status === 503, JSON.stringify(idle));

    const node = await vscode.commands.executeCommand<string>('htlcMonitor.startDemoNode', { seed: SEED, eventsPerSecond: 150 });
    assert.match(node ?? '', /^127\.0\.0\.1:\d+$/);
    await waitFor('connected', () => a.connection().state === 'connected', 30_000);

    const health = await waitFor('/healthz 200', async () => {
      const r = await get(`http://${address}/healthz`);
      return 'status' in r && r.status === 200 ? r : undefined;
    }, 20_000, 250);
    assert.equal(JSON.parse(health.body).state, 'connected');

    const metrics = await waitFor('failures counted in /metrics', async () => {
      const r = await get(`http://${address}/metrics`);
      return 'status' in r && r.status === 200 && /^htlc_monitor_failures_total\{/m.test(r.body) ? r.body : undefined;
    }, 20_000, 250);
    for (const name of ['htlc_monitor_failures_total', 'htlc_monitor_missed_fees_msat_total', 'htlc_monitor_successes_total', 'htlc_monitor_connection_state', 'htlc_monitor_tracked_channels']) {
      assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(metrics, /^htlc_monitor_connection_state\{state="connected"\} 1$/m);

    await a.setDemoMode('down');
    const down = await waitFor('/healthz 503', async () => {
      const r = await get(`http://${address}/healthz`);
      return 'status' in r && r.status === 503 ? r : undefined;
    }, 30_000, 250);
    console.log(`    node down: /healthz 503 ${down.body.trim()}`);
    assert.notEqual(JSON.parse(down.body).state, 'connected');
    await a.setDemoMode('ok');
    await waitFor('/healthz 200 again', async () => {
      const r = await get(`http://${address}/healthz`);
      return 'status' in r && r.status === 200;
    }, 45_000, 250);
  });

  test('bound to 127.0.0.1 only', async function () {
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) {
      console.log('    (no non-loopback IPv4 interface on this machine: only the bind address is checked)');
    } else {
      const r = await get(`http://${external.address}:${port}/healthz`);
      assert.ok('error' in r, `${external.address}:${port} answers nothing: ${JSON.stringify(r)}`);
    }
    assert.equal(await a.metricsAddress(), `127.0.0.1:${port}`);
  });

  test('disabled again: the server stops', async () => {
    await setSetting('metrics.enabled', false);
    await waitFor('the server to stop', async () => (await a.metricsAddress()) === undefined);
    assert.deepEqual(await get(`http://127.0.0.1:${port}/metrics`), { error: 'ECONNREFUSED' });
  });
});
