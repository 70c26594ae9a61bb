// The workbench in headless Debian chromium (playwright-core): launch, open, wait, screenshots.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const VIEWPORT = { width: 1440, height: 900 };

export class Workbench {
  /** @param {import('playwright-core').Page} page */
  constructor(page, browser) {
    this.page = page;
    this.browser = browser;
  }

  static async launch({ colorScheme = 'dark' } = {}) {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars'],
    });
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, colorScheme });
    return new Workbench(await context.newPage(), browser);
  }

  async open(url, folder) {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 90_000 });
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 30_000 });
  }

  title() {
    return this.page.title();
  }

  /** The text of the title bar (command center) as the user sees it. */
  async titleBarText() {
    const t = this.page.locator('.part.titlebar');
    return (await t.count()) ? (await t.innerText()).replace(/\s+/g, ' ').trim() : '';
  }

  async dismissNotifications() {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    for (let i = 0; i < 5 && (await toasts.count()); i++) {
      await this.page.keyboard.press('Escape');
      const close = this.page.locator('.notifications-toasts .codicon-notifications-clear, .notifications-toasts .codicon-close').first();
      if (await close.count()) await close.click({ timeout: 2000 }).catch(() => {});
      await this.page.waitForTimeout(200);
    }
  }

  /** Closes the secondary side bar (chat) and the panel if a fresh profile shows them. */
  async tidyLayout() {
    for (const sel of ['.part.auxiliarybar', '.part.panel']) {
      const part = this.page.locator(`.monaco-workbench ${sel}`);
      if ((await part.count()) && (await part.isVisible().catch(() => false))) {
        await this.page.keyboard.press('Escape');
        const cmd = sel === '.part.auxiliarybar' ? 'View: Close Secondary Side Bar' : 'View: Hide Panel';
        const { Palette } = await import('./palette.mjs');
        await new Palette(this.page).run(cmd).catch(() => {});
      }
    }
  }

  /** Drags the sash between the side bar and the editor so the side bar is `width` px wide. */
  async setSidebarWidth(width) {
    const side = await this.page.locator('.part.sidebar').boundingBox();
    if (!side) return;
    const right = side.x + side.width;
    const y = side.y + side.height / 2;
    await this.page.mouse.move(right, y);
    await this.page.mouse.down();
    await this.page.mouse.move(side.x + width, y, { steps: 8 });
    await this.page.mouse.up();
  }

  async screenshot(path, clip) {
    await this.page.mouse.move(VIEWPORT.width - 5, VIEWPORT.height / 2); // no stray hover
    await this.page.screenshot({ path, ...(clip ? { clip } : {}) });
  }

  async close() {
    await this.browser.close();
  }
}
