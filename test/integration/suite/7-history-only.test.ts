import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LndSimulator, NO_HTLC_STREAM_PERMISSIONS } from '../../../src/core/sim';
import type { HtlcMonitorTestApi } from '../../../src/extension/testApi';
import { api, setSetting, waitFor } from './util';

interface WelcomeView {
  view: string;
  when: string;
  contents: string;
}

suite('history-only: a macaroon refused SubscribeHtlcEvents', function () {
  let a: HtlcMonitorTestApi;
  let sim: LndSimulator;
  let dir: string;

  suiteSetup(async function () {
    this.timeout(60_000);
    a = await api();
    await vscode.commands.executeCommand('htlcMonitor.failingChannels.focus');
    sim = await LndSimulator.start({ seed: 95, eventsPerSecond: 50 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-ho-'));
    const { certPath } = await sim.writeCredentials(dir);
    // the normal connection path: settings + the macaroon in secret storage, then Start Monitoring
    await setSetting('lnd.server', sim.address);
    await setSetting('lnd.tlsCertPath', certPath);
    // what LND refuses SubscribeHtlcEvents to while answering the rest: a macaroon baked for
    // single calls (offchain:read alone would grant both the stream and ForwardingHistory)
    await a.storeMacaroonHex(sim.bakeMacaroon(NO_HTLC_STREAM_PERMISSIONS).toString('hex'));
    await waitFor('configured', () => a.connection().state === 'idle' || a.connection().state === 'connected', 10_000);
    await vscode.commands.executeCommand('htlcMonitor.startMonitoring');
    await waitFor('connected in history-only mode', () => a.connection().state === 'connected' && a.connection().historyOnly !== undefined, 30_000);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
    await vscode.commands.executeCommand('htlcMonitor.forgetMacaroon');
    await setSetting('lnd.server', undefined);
    await setSetting('lnd.tlsCertPath', undefined);
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the connection summary says history-only, and why', () => {
    const s = a.connection();
    console.log(`    summary: ${JSON.stringify(s)}`);
    assert.equal(s.state, 'connected');
    assert.match(s.historyOnly ?? '', /SubscribeHtlcEvents.*lacks the "offchain:read" permission/);
    assert.equal(s.reason, undefined);
  });

  test('the status bar says plainly that failures are not visible, and why', () => {
    assert.equal(a.statusText(), '$(history) HTLC: failures not visible');
    assert.ok(!/\d+ fails\//.test(a.statusText()), 'no failure count that would read as "0 failures"');
    assert.equal(a.statusBackground(), 'statusBarItem.warningBackground');
    const tip = a.statusTooltip();
    assert.match(tip, /history\\?-only mode/);
    assert.match(tip, /failed forwards are NOT visible/);
    const unescaped = tip.replace(/\\(.)/g, '$1');
    assert.match(unescaped, /LND refused SubscribeHtlcEvents: the macaroon lacks the "offchain:read" permission\. Use a macaroon that grants offchain:read \(admin\.macaroon or readonly\.macaroon do\)\./);
    assert.match(unescaped, /new failures are not counted/);
    assert.ok(!/Last hour: 0 failed forwards,/.test(unescaped), 'no "0 failed forwards" stated as a fact');
    assert.match(a.statusAccessibilityLabel(), /failed forwards are NOT visible \(LND refused SubscribeHtlcEvents: .*offchain:read/);
  });

  test('the tree shows the history-only welcome view: failures not visible, why, and what to do', () => {
    assert.equal(a.contextKey('htlcMonitor.historyOnly'), true);
    assert.equal(a.contextKey('htlcMonitor.connectionState'), 'connected');
    assert.deepEqual(a.treeItems(), [], 'a new node: nothing stored, and no failure can arrive');
    assert.equal(a.treeMessage(), undefined, 'no message, so VS Code shows the welcome content');
    const welcome = (vscode.extensions.getExtension('htlc-monitor.htlc-monitor')!.packageJSON.contributes.viewsWelcome as WelcomeView[])
      .filter((w) => w.view === 'htlcMonitor.failingChannels');
    const state = { 'htlcMonitor.connectionState': 'connected', 'htlcMonitor.historyOnly': true, 'htlcMonitor.hasFailures': false };
    const shown = welcome.filter((w) => evaluateWhen(w.when, state));
    assert.equal(shown.length, 1, `exactly one welcome view applies: ${shown.map((w) => w.when).join(' | ')}`);
    assert.match(shown[0].contents, /failed forwards are NOT visible/);
    assert.match(shown[0].contents, /SubscribeHtlcEvents/);
    assert.match(shown[0].contents, /offchain:read/);
    assert.match(shown[0].contents, /\(command:htlcMonitor\.connect\)/);
  });

  test('with readonly.macaroon (it grants offchain:read), the stream is back and so are the failures', async function () {
    this.timeout(60_000);
    await a.storeMacaroonHex(sim.readonlyMacaroonHex);
    await vscode.commands.executeCommand('htlcMonitor.startMonitoring');
    await waitFor('connected with the stream', () => a.connection().state === 'connected' && a.connection().historyOnly === undefined, 30_000);
    assert.equal(a.contextKey('htlcMonitor.historyOnly'), false);
    await waitFor('failures counted', () => /^\$\(zap\) [1-9][\d,]* fails\/1h$/.test(a.statusText()), 20_000);
    assert.equal(a.statusBackground(), undefined);
  });
});

/** The few `when` forms the manifest uses: `a == b`, `a`, `!a`, joined by && and ||. */
function evaluateWhen(when: string, ctx: Record<string, unknown>): boolean {
  return when.split('||').some((conj) =>
    conj.split('&&').every((term) => {
      const t = term.trim();
      const eq = /^([\w.]+) == (\w+)$/.exec(t);
      if (eq) return String(ctx[eq[1]]) === eq[2];
      if (t.startsWith('!')) return !ctx[t.slice(1)];
      return Boolean(ctx[t]);
    }),
  );
}
