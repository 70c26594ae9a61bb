// The Top Opportunities panel's side of the webview protocol, with a stubbed vscode and a fake
// webview: which window the first state shows, and which notifications lead to a new state.
import { strict as assert } from 'node:assert';
import { MemoryWindowSource } from '../../src/extension/data/memoryWindowSource';
import type { Opportunity, OpportunitySource } from '../../src/extension/data/types';
import type { OpportunitiesPanel as OP, PanelDeps } from '../../src/extension/webview/opportunitiesPanel';
import type { ExtensionToWebview, WindowId } from '../../src/shared/protocol';
import { withVscodeStub } from './vscode-stub-loader';

/* eslint-disable @typescript-eslint/no-require-imports */
const { OpportunitiesPanel } = withVscodeStub(() => require('../../src/extension/webview/opportunitiesPanel')) as { OpportunitiesPanel: typeof OP };
const vscode = withVscodeStub(() => require('vscode')) as typeof import('./faults-vscode-stub');
/* eslint-enable @typescript-eslint/no-require-imports */

/** A webview panel that records what the extension posts and lets the test play the webview. */
function fakePanel() {
  const fromWebview = new vscode.EventEmitter<unknown>();
  const posted: ExtensionToWebview[] = [];
  const panel = {
    visible: true,
    iconPath: undefined as unknown,
    webview: {
      options: {},
      html: '',
      cspSource: 'https://webview.test',
      asWebviewUri: (u: { fsPath: string }) => ({ toString: () => `https://webview.test${u.fsPath}` }),
      onDidReceiveMessage: fromWebview.event,
      postMessage: async (m: ExtensionToWebview) => {
        posted.push(m);
        return true;
      },
    },
    onDidChangeViewState: new vscode.EventEmitter<void>().event,
    onDidDispose: new vscode.EventEmitter<void>().event,
    reveal() {},
    dispose() {},
  };
  return {
    panel,
    posted,
    /** Delivers a message as the webview's script would, and lets the handler run. */
    async say(m: unknown): Promise<void> {
      fromWebview.fire(m);
      await new Promise((r) => setImmediate(r));
    },
    states: () => posted.flatMap((m) => (m.type === 'state' ? [m.state] : [])),
  };
}

function deps(treeWindow: WindowId, source: OpportunitySource): PanelDeps {
  const none = new vscode.EventEmitter<void>();
  return {
    extensionUri: vscode.Uri.file('/ext'),
    manager: { summary: { state: 'connected', demo: true }, onDidChangeState: none.event, onDidReset: none.event },
    windows: new MemoryWindowSource(),
    opportunities: () => source,
    exporter: {},
    log: { warn() {}, error() {}, info() {}, debug() {} },
    revealChannel: async () => true,
    defaultWindow: () => treeWindow,
  } as unknown as PanelDeps;
}

const noOpportunities: OpportunitySource = { kind: 'test', opportunities: (): Opportunity[] => [] };

describe('Top Opportunities panel: the window of a fresh panel', () => {
  afterEach(() => OpportunitiesPanel.instance?.dispose());

  it('a fresh webview (no saved state) gets the tree\'s window', async () => {
    const p = fakePanel();
    OpportunitiesPanel.revive(p.panel as never, deps('7d', noOpportunities), undefined);
    assert.match(p.panel.webview.html, /<option value="7d" selected>/, 'the page opens on it too');
    await p.say({ type: 'ready' });
    assert.deepEqual(p.states().map((s) => s.window), ['7d']);
  });

  it('after a reload the panel\'s restored window counts, and a webview that restored its own state keeps it', async () => {
    const p = fakePanel();
    OpportunitiesPanel.revive(p.panel as never, deps('7d', noOpportunities), { window: '30d', actionableOnly: true, scrollY: 0 });
    assert.match(p.panel.webview.html, /<option value="30d" selected>/);
    await p.say({ type: 'ready', window: '30d', actionableOnly: true });
    assert.deepEqual(p.states().map((s) => [s.window, s.actionableOnly]), [['30d', true]]);
  });

  it('the user\'s choice in the webview counts from then on', async () => {
    const p = fakePanel();
    OpportunitiesPanel.revive(p.panel as never, deps('7d', noOpportunities), undefined);
    await p.say({ type: 'ready' });
    await p.say({ type: 'setWindow', window: '1h' });
    assert.deepEqual(p.states().map((s) => s.window), ['7d', '1h']);
    assert.equal(OpportunitiesPanel.instance!.probe.window, '1h');
  });
});

describe('Top Opportunities panel: live updates', () => {
  afterEach(() => OpportunitiesPanel.instance?.dispose());

  it('a notification of the ranking source (an answer reused under load has expired) leads to a new state', async () => {
    const listeners = new Set<() => void>();
    const source: OpportunitySource = {
      kind: 'test',
      opportunities: () => [],
      onDidChange: (l) => {
        listeners.add(l);
        return { dispose: () => void listeners.delete(l) };
      },
    };
    const p = fakePanel();
    const panel = OpportunitiesPanel.revive(p.panel as never, deps('24h', source), undefined);
    await p.say({ type: 'ready' });
    assert.equal(p.states().length, 1);
    for (const l of listeners) l();
    const throttle = (panel as unknown as { throttle: { pending: boolean; flush(): void } }).throttle;
    assert.ok(throttle.pending, 'an update is scheduled');
    throttle.flush();
    assert.equal(p.states().length, 2);
    panel.dispose();
    assert.equal(listeners.size, 0, 'unsubscribed with the panel');
  });
});
