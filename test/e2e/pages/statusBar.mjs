// The "$(zap) N fails/1h" status-bar item.
export class StatusBarItem {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.item = page.locator('.part.statusbar .statusbar-item', { hasText: /fails\/|HTLC: not connected/ }).first();
  }

  async waitFor(timeout = 60_000) {
    await this.item.waitFor({ timeout });
  }

  async text() {
    return (await this.item.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** The codicon shown before the text: zap, sync (spinning), debug-disconnect. */
  async icon() {
    const cls = (await this.item.locator('.codicon').first().getAttribute('class').catch(() => '')) ?? '';
    return /codicon-([a-z-]+)/.exec(cls.replace(/codicon-modifier-\w+/g, ''))?.[1] ?? '';
  }

  async ariaLabel() {
    const a = this.item.locator('[aria-label]').first();
    return (await a.count()) ? ((await a.getAttribute('aria-label')) ?? '') : ((await this.item.getAttribute('aria-label')) ?? '');
  }

  /** The failure count, or undefined when the item shows no count. */
  async count() {
    const m = /([\d,]+) fails\//.exec(await this.text());
    return m ? Number(m[1].replace(/,/g, '')) : undefined;
  }

  async waitForIcon(icon, timeout = 30_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      if ((await this.icon()) === icon) return;
      if (Date.now() > deadline) throw new Error(`status bar icon stayed "${await this.icon()}" (text "${await this.text()}"), expected "${icon}"`);
      await this.page.waitForTimeout(200);
    }
  }

  /** Hovers the item and returns its tooltip's text. */
  async hover() {
    await this.item.hover();
    const hover = this.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'HTLC Monitor' }).first();
    await hover.waitFor({ timeout: 10_000 });
    return (await hover.innerText()).trim();
  }

  async box() {
    return this.item.boundingBox();
  }
}
