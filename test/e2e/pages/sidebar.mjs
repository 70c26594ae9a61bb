// The "HTLC Monitor" activity-bar container and its "Failing Channels" tree view.
export class FailingChannelsView {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.activityItem = page.locator('.part.activitybar [aria-label^="HTLC Monitor"]').first();
    this.sidebar = page.locator('.part.sidebar');
    this.welcome = this.sidebar.locator('.welcome-view-content');
    this.rows = this.sidebar.locator('.pane-body .monaco-list-row');
    this.message = this.sidebar.locator('.tree-explorer-viewlet-tree-view .message');
  }

  async open() {
    await this.activityItem.waitFor({ timeout: 60_000 });
    const checked = await this.activityItem.getAttribute('aria-checked').catch(() => null);
    const sidebarShows = await this.sidebar.locator('.title-label', { hasText: /HTLC MONITOR/i }).isVisible().catch(() => false);
    if (!(checked === 'true' && sidebarShows)) await this.activityItem.click();
    await this.sidebar.locator('.title-label', { hasText: /HTLC MONITOR/i }).waitFor({ timeout: 30_000 });
  }

  async title() {
    return (await this.sidebar.locator('.title-label').first().innerText()).trim();
  }

  async waitForWelcome(text, timeout = 30_000) {
    const w = this.welcome.filter({ hasText: text });
    await w.waitFor({ timeout });
    return (await w.innerText()).replace(/\s+\n/g, '\n').trim();
  }

  welcomeButton(label) {
    return this.welcome.locator('.monaco-button', { hasText: label }).first();
  }

  /** The message line above the tree (e.g. "Reconnecting: …"), '' when none. */
  async messageText() {
    if (!(await this.message.isVisible().catch(() => false))) return '';
    return (await this.message.innerText()).trim();
  }

  async waitForChannels(timeout = 60_000) {
    await this.rows.filter({ hasText: 'sat missed' }).first().waitFor({ timeout });
  }

  /** Visible rows: label, description, depth (1 = channel) and whether expanded. */
  async items() {
    return this.rows.evaluateAll((rows) =>
      rows.map((r) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
        level: Number(r.getAttribute('aria-level') ?? '0'),
        expanded: r.getAttribute('aria-expanded'),
      })),
    );
  }

  async channels() {
    return (await this.items()).filter((i) => i.level === 1);
  }

  /** Expands the channel row at `index` (0 = the top channel) and returns its child rows. */
  async expandChannel(index = 0) {
    const row = this.rows.filter({ has: this.page.locator('[aria-level="1"]') }).nth(index);
    const target = (await row.count()) ? row : this.sidebar.locator('.pane-body .monaco-list-row[aria-level="1"]').nth(index);
    if ((await target.getAttribute('aria-expanded')) !== 'true') await target.locator('.monaco-tl-twistie').click();
    await this.sidebar.locator('.pane-body .monaco-list-row[aria-level="2"]').first().waitFor({ timeout: 10_000 });
    return (await this.items()).filter((i) => i.level === 2);
  }

  async collapseAll() {
    for (const r of await this.sidebar.locator('.pane-body .monaco-list-row[aria-level="1"][aria-expanded="true"]').all()) {
      await r.locator('.monaco-tl-twistie').click();
    }
  }
}
