// The Top Opportunities webview in a real browser (headless chromium through playwright-core, no
// VS Code): the panel's own HTML and CSS and src/webview/main.ts bundled as for the VSIX, with
// acquireVsCodeApi stubbed. Checks the handshake a fresh or restored page sends, and that no number
// in the table breaks across lines at any width. Skipped when chromium is not installed
// (scripts/setup-code-server.sh installs it; CHROMIUM=path picks another).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import type { OpportunitiesState, OpportunityRow, WebviewPersistedState, WebviewToExtension, WindowId } from '../../src/shared/protocol';
import { WAIT_MS } from './wait';
import { withVscodeStub } from './vscode-stub-loader';

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ORIGIN = 'https://webview.test';

type HtmlBuilder = { prototype: { html(this: unknown, webview: unknown): string } };
/* eslint-disable @typescript-eslint/no-require-imports */
const { OpportunitiesPanel } = withVscodeStub(() => require('../../src/extension/webview/opportunitiesPanel')) as { OpportunitiesPanel: HtmlBuilder };
const vscode = withVscodeStub(() => require('vscode')) as typeof import('./faults-vscode-stub');
/* eslint-enable @typescript-eslint/no-require-imports */

/** The page the panel would give the webview for `window`, with VS Code's theme variables added. */
function pageHtml(window: WindowId): string {
  const webview = { cspSource: ORIGIN, asWebviewUri: (u: { fsPath: string }) => ({ toString: () => `${ORIGIN}${u.fsPath}` }) };
  const html = OpportunitiesPanel.prototype.html.call({ deps: { extensionUri: vscode.Uri.file('/ext') }, probe: { window, actionableOnly: false } }, webview);
  return html.replace('<link rel="stylesheet"', `<link rel="stylesheet" href="${ORIGIN}/vscode-theme.css"><link rel="stylesheet"`);
}

/** What VS Code puts on a webview's <html>: fonts and a few colours (Default Dark Modern). */
const THEME_CSS = `html { --vscode-font-family: system-ui, "Ubuntu", "Droid Sans", sans-serif; --vscode-font-size: 13px;
  --vscode-foreground: #cccccc; --vscode-editor-background: #1f1f1f; --vscode-descriptionForeground: #9d9d9d;
  --vscode-textLink-foreground: #4daafc; --vscode-charts-red: #f14c4c; --vscode-charts-orange: #d18616; --vscode-charts-yellow: #cca700; }`;

function row(rank: number, over: Partial<OpportunityRow>): OpportunityRow {
  return {
    channelId: '874925382758629377',
    scid: '795733x2419x1',
    alias: null,
    rank,
    failures: 123_456,
    successes: 7,
    missedFeesMsat: '98765432109876',
    missedAmountMsat: '1',
    topReason: 'INSUFFICIENT_BALANCE',
    action: 'rebalance',
    recommendation: 'Add outbound liquidity to this channel (rebalance into it or loop out elsewhere): forwards of up to 16,777,215 sat failed for lack of balance.',
    urgency: 'high',
    actionable: true,
    evidence: ['outbound liquidity: 1234567 (now)', 'expected gain 12,345 sat / 30 days (10,000–20,000, medium confidence)'],
    ...over,
  };
}

function state(window: WindowId): OpportunitiesState {
  // short labels (aliases, SCIDs of early blocks) leave the ids below them the widest thing in
  // the Channel column: a first user's node
  const rows = [
    row(1, {}),
    row(2, { channelId: '18446744073709551615', scid: '999x9x9', failures: 9, missedFeesMsat: '1000' }),
    row(3, { channelId: '968305345167917057', scid: '880676x1x1', alias: 'alpha-hub', urgency: 'medium', actionable: false }),
    row(4, { channelId: '12345678901234567', scid: '11228x3x7', alias: 'bob', urgency: 'low' }),
  ];
  return {
    window,
    actionableOnly: false,
    connection: { state: 'connected', demo: true },
    generatedAtMs: Date.UTC(2026, 10, 27, 12),
    source: 'opportunity analysis · sql.js store',
    totals: { failures: 1_234_567, missedFeesMsat: '98765432109876543', channels: rows.length },
    rows,
    failureSeries: { startMs: Date.UTC(2026, 10, 27, 11), bucketMs: 60_000, series: [{ reason: 'INSUFFICIENT_BALANCE', counts: Array(60).fill(3) }] },
    feesByChannel: rows.map((r) => ({ channelId: r.channelId, label: r.alias ?? r.scid, missedFeesMsat: r.missedFeesMsat })),
  };
}

describe('webview in a browser (chromium)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let bundle: string;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) this.skip();
    const out = await esbuild.build({ entryPoints: [path.join(ROOT, 'src/webview/main.ts')], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', write: false, logLevel: 'silent' });
    bundle = out.outputFiles[0].text;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    await browser?.close();
  });

  // Code run in the page is given as strings: tsx's transform would add helpers to a serialised
  // function that the page does not have.

  /** Opens the page as a webview: `saved` is what getState() returns (a recreated document). */
  async function open(width: number, panelWindow: WindowId, saved?: WebviewPersistedState): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.addInitScript(`
      window.__posted = [];
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(m),
        getState: () => (${JSON.stringify(saved ?? null)}) ?? undefined,
        setState: (s) => { window.__saved = s; },
      });`);
    await page.route(`${ORIGIN}/**`, (route) => {
      const p = new URL(route.request().url()).pathname;
      if (p === '/index.html') return route.fulfill({ contentType: 'text/html', body: pageHtml(panelWindow) });
      if (p === '/vscode-theme.css') return route.fulfill({ contentType: 'text/css', body: THEME_CSS });
      if (p === '/ext/media/webview.css') return route.fulfill({ contentType: 'text/css', body: fs.readFileSync(path.join(ROOT, 'media/webview.css'), 'utf8') });
      if (p === '/ext/media/dist/webview.js') return route.fulfill({ contentType: 'text/javascript', body: bundle });
      return route.fulfill({ status: 404, body: '' });
    });
    await page.goto(`${ORIGIN}/index.html`);
    await until(page, 'window.__posted.length > 0');
    assert.deepEqual(errors, [], 'no script error');
    return page;
  }

  /** Polls `expr` in the page (waitForFunction would evaluate it in a way the page's CSP forbids). */
  async function until(page: Page, expr: string, timeoutMs = WAIT_MS): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await page.evaluate<boolean>(expr))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${expr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const posted = (page: Page): Promise<WebviewToExtension[]> => page.evaluate('window.__posted');

  async function render(page: Page, s: OpportunitiesState): Promise<void> {
    const rendered = async () => (await posted(page)).filter((m) => m.type === 'rendered').length;
    const before = await rendered();
    await page.evaluate(`window.postMessage({ type: 'state', state: ${JSON.stringify(s)} }, '*')`);
    await until(page, `window.__posted.filter((m) => m.type === 'rendered').length > ${before}`);
  }

  /** Every number in the table and summary that spans two lines, and ids running into the next column. */
  const BROKEN_NUMBERS = String.raw`(() => {
    const out = [];
    for (const cell of document.querySelectorAll('#rows td, #summary')) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.textContent || '';
        for (const m of text.matchAll(/\d[\d,.x]*\d/g)) {
          const r = document.createRange();
          r.setStart(n, m.index);
          r.setEnd(n, m.index + m[0].length);
          const tops = new Set([...r.getClientRects()].filter((b) => b.width > 0).map((b) => Math.round(b.top)));
          if (tops.size > 1) out.push('"' + m[0] + '" in "' + text + '" spans ' + tops.size + ' lines');
        }
      }
    }
    for (const td of document.querySelectorAll('#rows td.num')) {
      const r = document.createRange();
      r.selectNodeContents(td);
      const tops = new Set([...r.getClientRects()].filter((b) => b.width > 0).map((b) => Math.round(b.top)));
      if (tops.size > 1) out.push('"' + td.textContent + '" (an amount with its unit) spans ' + tops.size + ' lines');
    }
    for (const id of document.querySelectorAll('#rows td:nth-child(2) > *')) {
      const td = id.parentElement.getBoundingClientRect();
      const e = id.getBoundingClientRect();
      if (e.right > td.right + 0.5) out.push('"' + id.textContent + '" overflows its cell by ' + (e.right - td.right).toFixed(1) + ' px');
    }
    return out;
  })()`;

  describe('handshake', () => {
    it('a fresh page asserts no window of its own: ready carries none, and it opens on the panel\'s', async () => {
      const page = await open(1200, '7d');
      try {
        const [ready] = await posted(page);
        assert.deepEqual(ready, { type: 'ready' });
        assert.equal(await page.locator('#window').inputValue(), '7d');
        await render(page, state('7d'));
        assert.equal((await page.evaluate<WebviewPersistedState>('window.__saved')).window, '7d', 'saved once shown');
      } finally {
        await page.close();
      }
    });

    it('a page that restores its saved state sends that window back', async () => {
      const page = await open(1200, '30d', { window: '30d', actionableOnly: true, scrollY: 0 });
      try {
        const [ready] = await posted(page);
        assert.deepEqual(ready, { type: 'ready', window: '30d', actionableOnly: true });
      } finally {
        await page.close();
      }
    });

    it('the user\'s choice is sent as setWindow', async () => {
      const page = await open(1200, '24h');
      try {
        await render(page, state('24h'));
        await page.locator('#window').selectOption('1h');
        assert.deepEqual((await posted(page)).filter((m) => m.type === 'setWindow'), [{ type: 'setWindow', window: '1h' }]);
      } finally {
        await page.close();
      }
    });
  });

  describe('numbers never break across lines', () => {
    for (const width of [360, 480, 640, 800, 1000, 1400]) {
      it(`at ${width} px`, async () => {
        const page = await open(width, '24h');
        try {
          await render(page, state('24h'));
          const broken = await page.evaluate<string[]>(BROKEN_NUMBERS);
          // one shot per width to look at when a layout changes
          await page.locator('table').screenshot({ path: path.join(ROOT, '.vscode-test', 'shots', `webview-table-${width}.png`) }).catch(() => undefined);
          assert.deepEqual(broken, []);
        } finally {
          await page.close();
        }
      });
    }
  });
});
