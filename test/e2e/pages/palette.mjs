// The command palette (F1): run a command by its "Category: Title".
export class Palette {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.widget = page.locator('.quick-input-widget');
    this.input = page.locator('.quick-input-widget .quick-input-box input');
  }

  async open() {
    if (!(await this.input.isVisible().catch(() => false))) {
      await this.page.keyboard.press('F1');
    }
    await this.input.waitFor({ timeout: 10_000 });
  }

  /** The titles the palette offers for `filter`. */
  async entries(filter) {
    await this.open();
    await this.input.fill(`>${filter}`);
    await this.widget.locator('.monaco-list-row', { hasText: filter }).first().waitFor({ timeout: 10_000 }).catch(() => {});
    await this.page.waitForTimeout(300);
    return (await this.widget.locator('.monaco-list-row .label-name').allInnerTexts()).map((s) => s.trim());
  }

  async run(command) {
    await this.open();
    await this.input.fill(`>${command}`);
    const row = this.widget.locator('.monaco-list-row', { has: this.page.locator('.label-name', { hasText: command }) }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await this.widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
  }
}
