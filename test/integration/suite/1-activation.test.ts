import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from './util';

interface Manifest {
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    viewsWelcome: { view: string; when: string; contents: string }[];
    configuration: { properties: Record<string, { default?: unknown; scope?: string; markdownDescription?: string }> };
  };
}

suite('activation and manifest', () => {
  test('runs in a Node extension host of VS Code ≥ 1.100', () => {
    console.log(`    node ${process.versions.node}, vscode ${vscode.version}, remoteName=${vscode.env.remoteName}, uiKind=${vscode.env.uiKind}`);
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(major > 1 || minor >= 100, vscode.version);
  });

  test('activates and returns the test API', async () => {
    const a = await api();
    assert.equal(typeof a.statusText, 'function');
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
  });

  test('activation events: views and commands only, never * or onStartupFinished', () => {
    const m = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as Manifest;
    assert.ok(!m.activationEvents.includes('*'));
    assert.ok(!m.activationEvents.includes('onStartupFinished'));
    for (const e of m.activationEvents) assert.match(e, /^(onView|onCommand|onWebviewPanel):/);
  });

  test('every contributed command is registered, and every registered htlcMonitor command is contributed', async () => {
    const m = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as Manifest;
    const contributed = m.contributes.commands.map((c) => c.command).sort();
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('htlcMonitor.') && !c.startsWith('htlcMonitor.failingChannels.')) // minus the view's own .focus etc.
      .sort();
    assert.deepEqual(registered, contributed);
    for (const c of m.contributes.commands) assert.equal(c.category, 'HTLC', `${c.command} is in category HTLC`);
    for (const required of ['Connect to LND…', 'Start Monitoring', 'Stop Monitoring', 'Show Top Opportunities', 'Start Demo Node', 'Export…', 'Reset Statistics']) {
      assert.ok(m.contributes.commands.some((c) => c.title === required), `command "${required}"`);
    }
  });

  test('menus and welcome views reference contributed commands only', () => {
    const m = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as Manifest;
    const ids = new Set(m.contributes.commands.map((c) => c.command));
    for (const [menu, items] of Object.entries(m.contributes.menus)) for (const i of items) assert.ok(ids.has(i.command), `${menu}: ${i.command}`);
    for (const w of m.contributes.viewsWelcome) for (const [, cmd] of w.contents.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(ids.has(cmd), `viewsWelcome links ${cmd}`);
    const items = m.contributes.menus['view/item/context'];
    for (const v of ['channel', 'reason', 'failure']) assert.ok(items.some((i) => i.when?.includes(`viewItem == ${v}`)), `item menu for ${v}`);
  });

  test('not configured: status bar and welcome state', async () => {
    const a = await api();
    assert.equal(a.connection().state, 'notConfigured');
    assert.equal(a.statusText(), '$(zap) HTLC: not connected');
    assert.match(a.statusAccessibilityLabel(), /HTLC Monitor: No LND node configured/);
    assert.deepEqual(a.treeItems(), []);
  });
});
