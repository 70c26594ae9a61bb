// A modal dialog (e.g. "Reset all HTLC statistics?").
export class Dialog {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.box = page.locator('.monaco-dialog-box');
  }

  async text() {
    await this.box.waitFor({ timeout: 10_000 });
    return (await this.box.innerText()).replace(/\s+/g, ' ').trim();
  }

  async click(label) {
    await this.box.locator('.monaco-button', { hasText: label }).first().click();
    await this.box.waitFor({ state: 'hidden', timeout: 10_000 });
  }
}
