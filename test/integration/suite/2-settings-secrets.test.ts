import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, waitFor } from './util';

// a syntactically valid macaroon-like hex string (not a real macaroon)
const FAKE_MACAROON = `0201036c6e6402${'ab'.repeat(60)}`;

suite('settings and secrets', () => {
  test('settings have their defaults, with the connection ones machine-scoped', () => {
    const cfg = vscode.workspace.getConfiguration('htlcMonitor');
    assert.equal(cfg.get('lnd.server'), '');
    assert.equal(cfg.get('lnd.tlsCertPath'), '');
    assert.equal(cfg.get('lnd.macaroonPath'), '');
    assert.equal(cfg.get('maxChannels'), 10000);
    assert.equal(cfg.get('retentionDays'), 30);
    assert.equal(cfg.get('defaultWindow'), '24h');
    assert.equal(cfg.get('statusBarWindow'), '1h');
    const props = (vscode.extensions.getExtension('htlc-monitor.htlc-monitor')!.packageJSON.contributes.configuration.properties) as Record<string, { scope?: string; markdownDescription?: string }>;
    for (const k of ['htlcMonitor.lnd.server', 'htlcMonitor.lnd.tlsCertPath', 'htlcMonitor.lnd.macaroonPath']) assert.equal(props[k].scope, 'machine', k);
    for (const [k, p] of Object.entries(props)) assert.ok(p.markdownDescription, `${k} has a markdownDescription`);
    assert.ok(!Object.keys(props).some((k) => /macaroon(hex)?$/i.test(k) && !k.endsWith('Path')), 'no setting holds a macaroon itself');
  });

  test('the status-bar window follows htlcMonitor.statusBarWindow', async () => {
    const a = await api();
    const cfg = vscode.workspace.getConfiguration('htlcMonitor');
    await cfg.update('statusBarWindow', '24h', vscode.ConfigurationTarget.Global);
    try {
      await waitFor('status bar in 24h', () => a.statusAccessibilityLabel().includes('last 24 hours'));
    } finally {
      await cfg.update('statusBarWindow', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('status bar back to 1h', () => a.statusAccessibilityLabel().includes('last hour'));
  });

  test('a macaroon goes to secret storage only, and never into the log', async () => {
    const a = await api();
    await a.storeMacaroonHex(FAKE_MACAROON.toUpperCase());
    assert.equal(await a.hasStoredMacaroon(), true);
    const cfg = vscode.workspace.getConfiguration('htlcMonitor');
    const all = JSON.stringify(['lnd.server', 'lnd.tlsCertPath', 'lnd.macaroonPath'].map((k) => cfg.inspect(k)));
    assert.ok(!all.toLowerCase().includes(FAKE_MACAROON.slice(0, 40)), 'not in settings');
    const line = a.redact(`calling with ${FAKE_MACAROON} and ${FAKE_MACAROON.toUpperCase()}`);
    assert.ok(!line.toLowerCase().includes(FAKE_MACAROON.slice(10, 50)), line);
    assert.equal(await vscode.commands.executeCommand('htlcMonitor.forgetMacaroon'), true);
    assert.equal(await a.hasStoredMacaroon(), false);
  });

  test('an invalid macaroon is refused with a clear message', async () => {
    const a = await api();
    await assert.rejects(a.storeMacaroonHex('not hex!'), /not valid hex/);
    await assert.rejects(a.storeMacaroonHex(''), /empty/);
    assert.equal(await a.hasStoredMacaroon(), false);
  });

  test('Start Monitoring without a configuration does not connect', async () => {
    const a = await api();
    // the warning message it shows has buttons: do not wait for it
    void vscode.commands.executeCommand('htlcMonitor.startMonitoring');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(a.connection().state, 'notConfigured');
  });
});
