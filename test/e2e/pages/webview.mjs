// The "Top Opportunities" webview panel: its table and its two chart.js canvases. A webview is two
// nested iframes: iframe.webview.ready (the host) → #active-frame (the extension's HTML).
export class OpportunitiesPanel {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.tab = page.locator('.tabs-container .tab', { hasText: 'Top Opportunities' });
    this.frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    this.rows = this.frame.locator('#rows tr');
  }

  async waitForTable(timeout = 30_000) {
    await this.tab.waitFor({ timeout: 20_000 });
    await this.rows.first().waitFor({ timeout });
  }

  async headers() {
    return (await this.frame.locator('table thead th').allInnerTexts()).map((s) => s.trim());
  }

  async table() {
    return this.rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
  }

  async summary() {
    const s = this.frame.locator('#summary');
    return (await s.count()) ? (await s.innerText()).trim() : '';
  }

  /** Each canvas: its size and how many of its pixels were painted (alpha > 0). */
  async charts() {
    return this.frame.locator('canvas').evaluateAll((cs) =>
      cs.map((c) => {
        const ctx = c.getContext('2d');
        const { data } = ctx.getImageData(0, 0, c.width, c.height);
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return { id: c.id, width: c.width, height: c.height, painted };
      }),
    );
  }

  /** Elements an alias could have injected into the table. */
  async injectedElements() {
    return this.frame.locator('#rows').evaluate((tb) => tb.querySelectorAll('img, script, iframe, a[href^="javascript"]').length);
  }
}
