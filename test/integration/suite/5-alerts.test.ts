import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { MUTE_CHANNEL, MUTE_STREAM, MUTED_KEY, SHOW } from '../../../src/extension/alerts/alertsController';
import type { HtlcMonitorTestApi } from '../../../src/extension/testApi';
import { api, setSetting, sleep, waitFor } from './util';

/** A node of its own, so this suite's history file is its own. */
const SEED = 91;

async function startDemo(a: HtlcMonitorTestApi): Promise<void> {
  const address = await vscode.commands.executeCommand<string>('htlcMonitor.startDemoNode', { seed: SEED, eventsPerSecond: 150 });
  assert.match(address ?? '', /^127\.0\.0\.1:\d+$/);
  await waitFor('connected to the demo node', () => a.connection().state === 'connected', 30_000);
}

const missedFees = (a: HtlcMonitorTestApi) => a.alertsShown().filter((s) => s.kind === 'missed-fees');

suite('alerts: notifications from htlcMonitor.alerts.*', function () {
  let a: HtlcMonitorTestApi;

  suiteSetup(async function () {
    this.timeout(60_000);
    a = await api();
    await setSetting('alerts.streamDownMinutes', 0); // off while the missed-fees alerts are tested
    await setSetting('alerts.missedFeesSat', 1);
    a.answerAlerts(() => undefined); // dismissed
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
    for (const k of ['alerts.missedFeesSat', 'alerts.streamDownMinutes']) await setSetting(k, undefined);
    a.answerAlerts(undefined);
  });

  test('missed fees above the threshold: one notification per channel, not repeated while the condition holds', async function () {
    this.timeout(60_000);
    await startDemo(a);
    await waitFor('missed-fees alerts for 3 channels', () => new Set(missedFees(a).map((s) => s.id)).size >= 3, 30_000);
    for (let i = 0; i < 5; i++) {
      a.evaluateAlerts();
      await sleep(400);
    }
    const shown = missedFees(a);
    const ids = shown.map((s) => s.id);
    console.log(`    ${shown.length} missed-fees alerts, e.g. "${shown[0].message}"`);
    assert.equal(new Set(ids).size, ids.length, `each alert shown once: ${ids.join(', ')}`);
    for (const s of shown) {
      assert.match(s.id, /^missed-fees:\d+$/);
      assert.match(s.message, /^Channel \d+x\d+x\d+ missed [\d,]+ sat of fees in the last 1 h \(alert above 1 sat\)\.$/);
      assert.equal(s.choice, 'dismissed');
    }
  });

  test('"Don\'t Show Again for This Channel" is kept in globalState and suppresses that channel, also after a restart', async function () {
    this.timeout(90_000);
    const top = a.treeItems()[0];
    assert.ok(top, 'a failing channel');
    const chan = top.id.slice('channel/'.length);
    const scid = await vscode.commands.executeCommand<string>('htlcMonitor.copyScid', chan);
    let offered: string[] = [];
    a.answerAlerts((message, buttons) => {
      if (!message.startsWith(`Channel ${scid} `)) return undefined;
      offered = buttons;
      return MUTE_CHANNEL;
    });
    // the condition clears (threshold out of reach), then holds again: alerts are raised anew
    const before = a.alertsShown().length;
    await setSetting('alerts.missedFeesSat', 1e12);
    a.evaluateAlerts();
    await setSetting('alerts.missedFeesSat', 1);
    a.evaluateAlerts();
    await waitFor(`the alert of ${scid} shown again and muted`, () => a.alertsShown().slice(before).some((s) => s.channelId === chan && s.choice === MUTE_CHANNEL), 20_000);
    assert.deepEqual(offered, [SHOW, MUTE_CHANNEL]);
    await waitFor('the mute in globalState', () => (a.globalStateValue(MUTED_KEY) as string[] | undefined)?.includes(chan));

    // once more: the other channels alert again, the muted one does not
    const mark = a.alertsShown().length;
    await setSetting('alerts.missedFeesSat', 1e12);
    a.evaluateAlerts();
    await setSetting('alerts.missedFeesSat', 1);
    a.evaluateAlerts();
    await waitFor('alerts of other channels again', () => a.alertsShown().slice(mark).filter((s) => s.kind === 'missed-fees').length >= 2, 20_000);
    await sleep(1500);
    assert.ok(!a.alertsShown().slice(mark).some((s) => s.channelId === chan), `${scid} stays muted`);

    // a new instance reads the mute from globalState
    await vscode.commands.executeCommand('htlcMonitor.stopMonitoring');
    await a.restartExtension();
    a.answerAlerts(() => undefined);
    await startDemo(a);
    await waitFor('alerts after the restart', () => missedFees(a).length >= 3, 30_000);
    await waitFor(`${scid} failing again after the restart`, () => a.treeItems().some((i) => i.id === top.id), 20_000);
    await sleep(2000);
    a.evaluateAlerts();
    assert.ok(!missedFees(a).some((s) => s.channelId === chan), `${scid} stays muted after a restart`);
    assert.ok((a.globalStateValue(MUTED_KEY) as string[]).includes(chan));
  });

  test('stream down: one alert after htlcMonitor.alerts.streamDownMinutes, not before', async function () {
    this.timeout(60_000);
    await setSetting('alerts.missedFeesSat', 0);
    const minutes = 0.05; // 3 s
    await setSetting('alerts.streamDownMinutes', minutes);
    if (a.connection().state !== 'connected') await startDemo(a);
    const streamDown = () => a.alertsShown().filter((s) => s.kind === 'stream-down');
    const mark = streamDown().length;
    let offered: string[] = [];
    a.answerAlerts((_message, buttons) => {
      offered = buttons;
      return undefined;
    });
    const t0 = Date.now();
    await a.setDemoMode('down');
    await waitFor('reconnecting', () => a.connection().state === 'reconnecting', 30_000);
    await sleep(1000);
    a.evaluateAlerts();
    assert.equal(streamDown().length, mark, 'no alert before the configured time');
    const alert = await waitFor('the stream-down alert', () => streamDown()[mark], 20_000);
    const after = Date.now() - t0;
    console.log(`    after ${after} ms: "${alert.message}"`);
    assert.ok(after >= minutes * 60_000, `raised after ${after} ms`);
    assert.ok(after < minutes * 60_000 + 10_000, `raised on time (${after} ms), not at a later tick`);
    assert.match(alert.message, /the HTLC event stream is down .*failed forwards are not being counted\.$/);
    assert.equal(alert.id, 'stream-down');
    assert.deepEqual(offered, [SHOW, MUTE_STREAM]);
    await sleep(1500);
    a.evaluateAlerts();
    assert.equal(streamDown().length, mark + 1, 'not repeated while down');
    await a.setDemoMode('ok');
    await waitFor('connected again', () => a.connection().state === 'connected', 45_000, 250);
  });
});
