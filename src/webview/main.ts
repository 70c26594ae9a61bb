/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The "Top Opportunities" webview (bundled by esbuild into media/dist/webview.js as an IIFE).
 * Runs under a strict CSP (nonce script, no inline styles, no eval): the DOM is built with
 * textContent only (every string from the extension is untrusted data), colours come from the
 * --vscode-* theme variables, and chart.js is registered with just the bar controller it needs.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js';
import { formatCount, formatSat } from '../core/format';
import { reasonLabel } from '../core/reasons';
import { CATEGORY_COLOR_VAR, type Fill, reasonStyles } from './chartColors';
import type { ExtensionToWebview, OpportunitiesState, OpportunityRow, WebviewPersistedState, WebviewToExtension, WindowId } from '../shared/protocol';
import { isWindowId, WINDOW_LABELS } from '../shared/protocol';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): WebviewPersistedState | undefined;
  setState(state: WebviewPersistedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const saved = vscode.getState();
// A fresh webview has no window of its own: the panel's (the tree's, or its state restored after a
// reload) is the one shown. Only a saved state (a document recreated after the panel was hidden or
// reloaded) or the user's choice in the page is sent back as the webview's own.
let persisted: WebviewPersistedState = {
  window: saved && isWindowId(saved.window) ? saved.window : undefined,
  actionableOnly: saved?.actionableOnly === true,
  scrollY: typeof saved?.scrollY === 'number' ? saved.scrollY : 0,
};
let latest: OpportunitiesState | undefined;
let frame = 0;
let restoredScroll = false;
let focusChannel: string | undefined;
let failuresChart: Chart<'bar', number[], string> | undefined;
let feesChart: Chart<'bar', number[], string> | undefined;

function save(patch: Partial<WebviewPersistedState>): void {
  persisted = { ...persisted, ...patch };
  vscode.setState(persisted);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

interface Palette {
  /** Category colour (resolved --vscode-charts-* value) by theme variable. */
  category: Record<string, string>;
  background: string;
  /** High contrast themes: a contrast border around every bar and legend box. */
  contrastBorder: string | undefined;
  foreground: string;
  grid: string;
  font: string;
}

function palette(): Palette {
  const fg = cssVar('--vscode-foreground', '#888');
  return {
    category: Object.fromEntries(Object.values(CATEGORY_COLOR_VAR).map((v) => [v, cssVar(v, fg)])),
    background: cssVar('--vscode-editor-background', 'transparent'),
    contrastBorder: cssVar('--vscode-contrastBorder', '') || undefined,
    foreground: fg,
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', fg)),
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

/**
 * A bar fill: the category colour, solid or as a pattern drawn on a small canvas (CSP-safe: no
 * inline style; chart.js paints it with the canvas API).
 */
function fillOf(color: string, fill: Fill, background: string): string | CanvasPattern {
  if (fill === 'solid') return color;
  const size = 8;
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  const g = c.getContext('2d');
  if (!g) return color;
  g.fillStyle = background;
  g.fillRect(0, 0, size, size);
  g.strokeStyle = color;
  g.fillStyle = color;
  g.lineWidth = 2;
  const line = (x0: number, y0: number, x1: number, y1: number) => {
    g.beginPath();
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
    g.stroke();
  };
  switch (fill) {
    case 'stripes':
      line(-2, size + 2, size + 2, -2);
      line(-2, 2, 2, -2);
      line(size - 2, size + 2, size + 2, size - 2);
      break;
    case 'backslash':
      line(-2, -2, size + 2, size + 2);
      line(size - 2, -2, size + 2, 2);
      line(-2, size - 2, 2, size + 2);
      break;
    case 'dots':
      g.beginPath();
      g.arc(size / 2, size / 2, 2, 0, Math.PI * 2);
      g.fill();
      break;
    case 'cross':
      line(0, size / 2, size, size / 2);
      line(size / 2, 0, size / 2, size);
      break;
    case 'grid':
      line(-2, size + 2, size + 2, -2);
      line(-2, -2, size + 2, size + 2);
      break;
  }
  return g.createPattern(c, 'repeat') ?? color;
}

function satNumber(msat: string): number {
  // charts need numbers; sat precision in a chart is plenty (exact values are in the table)
  return Number(BigInt(msat) / 1000n);
}

function bucketLabel(ms: number, bucketMs: number): string {
  const d = new Date(ms);
  if (bucketMs >= 86_400_000) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (bucketMs >= 3_600_000) return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
}

const compactFormat = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

function compactNumber(v: number): string {
  return compactFormat.format(v);
}

function baseOptions(p: Palette, stacked: boolean, horizontal: boolean): ChartConfiguration<'bar', number[], string>['options'] {
  Chart.defaults.color = p.foreground;
  Chart.defaults.font.family = p.font;
  Chart.defaults.borderColor = p.grid;
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: horizontal ? 'y' : 'x',
    plugins: { legend: { display: stacked, position: 'bottom', labels: { color: p.foreground, boxWidth: 12 } }, tooltip: { enabled: true } },
    scales: {
      // a value axis (horizontal bars) gets few, compact ticks: "20k", not "20,000" crowding the next
      x: horizontal
        ? { stacked, beginAtZero: true, ticks: { color: p.foreground, maxRotation: 0, maxTicksLimit: 5, callback: (v) => compactNumber(Number(v)) }, grid: { color: p.grid } }
        : { stacked, ticks: { color: p.foreground, maxRotation: 0, autoSkip: true }, grid: { color: p.grid } },
      y: { stacked, ticks: { color: p.foreground }, grid: { color: p.grid }, beginAtZero: true },
    },
  };
}

function renderCharts(s: OpportunitiesState): number {
  const p = palette();
  const fs = s.failureSeries;
  const n = fs.series[0]?.counts.length ?? 0;
  const labels = Array.from({ length: n }, (_, i) => bucketLabel(fs.startMs + i * fs.bucketMs, fs.bucketMs));
  // coloured by category (the theme's chart colours), reasons within one told apart by a pattern,
  // in a stable order: category, then reason
  const byReason = new Map(fs.series.map((ser) => [ser.reason, ser]));
  const datasets = reasonStyles(fs.series.map((ser) => ser.reason)).map((st) => {
    const color = p.category[st.colorVar];
    return {
      label: `${reasonLabel(st.reason)} (${st.category})`,
      data: byReason.get(st.reason)!.counts,
      backgroundColor: fillOf(color, st.fill, p.background),
      borderColor: p.contrastBorder ?? color,
      borderWidth: st.fill === 'solid' && !p.contrastBorder ? 0 : 1,
    };
  });
  if (!failuresChart) {
    failuresChart = new Chart($<HTMLCanvasElement>('chart-failures'), { type: 'bar', data: { labels, datasets }, options: baseOptions(p, true, false) });
  } else {
    failuresChart.data.labels = labels;
    failuresChart.data.datasets = datasets;
    failuresChart.options = baseOptions(p, true, false)!;
    failuresChart.update('none');
  }
  const feeLabels = s.feesByChannel.map((f) => f.label);
  const feeData = s.feesByChannel.map((f) => satNumber(f.missedFeesMsat));
  const feeSet = [{ label: 'Missed fees (sat)', data: feeData, backgroundColor: p.category[CATEGORY_COLOR_VAR.fee], borderColor: p.contrastBorder ?? p.category[CATEGORY_COLOR_VAR.fee], borderWidth: p.contrastBorder ? 1 : 0 }];
  if (!feesChart) {
    feesChart = new Chart($<HTMLCanvasElement>('chart-fees'), { type: 'bar', data: { labels: feeLabels, datasets: feeSet }, options: baseOptions(p, false, true) });
  } else {
    feesChart.data.labels = feeLabels;
    feesChart.data.datasets = feeSet;
    feesChart.options = baseOptions(p, false, true)!;
    feesChart.update('none');
  }
  return 2;
}

function renderRow(r: OpportunityRow): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.channelId = r.channelId;
  tr.appendChild(el('td', String(r.rank), 'num'));
  const ch = el('td');
  const name = el('button', r.alias || r.scid, r.alias ? 'link' : 'link id');
  name.type = 'button';
  name.title = 'Show in the Failing Channels view';
  name.addEventListener('click', () => vscode.postMessage({ type: 'revealChannel', channelId: r.channelId }));
  ch.appendChild(name);
  ch.appendChild(el('div', r.alias ? r.scid : r.channelId, 'muted id'));
  tr.appendChild(ch);
  tr.appendChild(el('td', `${formatCount(r.failures)}`, 'num'));
  tr.appendChild(el('td', `${formatSat(BigInt(r.missedFeesMsat))} sat`, 'num'));
  tr.appendChild(el('td', r.topReason ? reasonLabel(r.topReason) : '—'));
  const urg = el('td');
  urg.appendChild(el('span', r.urgency, `badge urgency-${r.urgency}`));
  if (!r.actionable) urg.appendChild(el('div', 'not actionable', 'muted'));
  tr.appendChild(urg);
  const rec = el('td');
  rec.appendChild(el('div', r.recommendation, 'recommendation'));
  const details = el('details');
  details.appendChild(el('summary', `Evidence (${r.evidence.length})`));
  const ul = el('ul');
  for (const e of r.evidence) ul.appendChild(el('li', e));
  details.appendChild(ul);
  rec.appendChild(details);
  tr.appendChild(rec);
  return tr;
}

function render(): void {
  frame = 0;
  const s = latest;
  if (!s) return;
  ($<HTMLSelectElement>('window')).value = s.window;
  ($<HTMLInputElement>('actionable')).checked = s.actionableOnly;
  const c = s.connection;
  const where = c.demo ? 'demo node' : c.nodeAlias || c.target || 'LND';
  const stateText: Record<string, string> = {
    notConfigured: 'Not connected: run "HTLC: Connect to LND…" or "HTLC: Start Demo Node".',
    idle: 'Not monitoring.',
    connecting: `Connecting to ${where}…`,
    connected: `Live from ${where}.`,
    reconnecting: `Reconnecting to ${where}…`,
    stopped: 'Monitoring stopped.',
    failed: 'Disconnected.',
  };
  const status = $('status');
  status.textContent = `${stateText[c.state] ?? c.state}${c.reason ? ` ${c.reason}` : ''} Ranked by ${s.source}; updated ${new Date(s.generatedAtMs).toLocaleTimeString(undefined, { hour12: false, timeZoneName: 'short' })}.`;
  status.className = `status state-${c.state}`;

  const summary = $('summary');
  summary.replaceChildren(
    el('span', `${WINDOW_LABELS[s.window]}: `),
    el('strong', `${formatCount(s.totals.failures)} failed forwards`),
    el('span', ' · '),
    el('strong', `${formatSat(BigInt(s.totals.missedFeesMsat))} sat missed`),
    el('span', ` · ${formatCount(s.totals.channels)} failing channels · ${formatCount(s.rows.length)} shown`),
  );

  const tbody = $('rows');
  tbody.replaceChildren(...s.rows.map(renderRow));
  const empty = $('empty');
  empty.hidden = s.rows.length > 0;
  empty.textContent = s.actionableOnly && s.totals.channels > 0 ? 'No actionable opportunities in this window.' : 'No failed forwards in this window yet.';
  const charts = renderCharts(s);
  if (focusChannel) {
    const row = [...tbody.querySelectorAll('tr')].find((tr) => tr.dataset.channelId === focusChannel);
    if (row) {
      row.classList.add('focused');
      row.scrollIntoView({ block: 'center' });
      row.querySelector('button')?.focus();
      focusChannel = undefined;
      restoredScroll = true;
    }
  }
  if (!restoredScroll) {
    restoredScroll = true;
    window.scrollTo(0, persisted.scrollY);
  }
  vscode.postMessage({ type: 'rendered', rows: s.rows.length, charts, window: s.window });
}

window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'state') {
    latest = msg.state;
    save({ window: msg.state.window, actionableOnly: msg.state.actionableOnly });
    if (!frame) frame = requestAnimationFrame(render); // coalesce bursts into one paint
  } else if (msg.type === 'exportResult') {
    const status = $('status');
    status.textContent = msg.message;
  } else if (msg.type === 'focusChannel') {
    focusChannel = msg.channelId;
    if (!frame) frame = requestAnimationFrame(render);
  }
});

document.addEventListener('securitypolicyviolation', (e) => {
  vscode.postMessage({ type: 'cspViolation', directive: e.violatedDirective, blockedURI: e.blockedURI });
});

$<HTMLSelectElement>('window').addEventListener('change', (e) => {
  const w = (e.target as HTMLSelectElement).value;
  if (isWindowId(w)) {
    save({ window: w as WindowId });
    vscode.postMessage({ type: 'setWindow', window: w });
  }
});
$<HTMLInputElement>('actionable').addEventListener('change', (e) => {
  const v = (e.target as HTMLInputElement).checked;
  save({ actionableOnly: v });
  vscode.postMessage({ type: 'setActionableOnly', value: v });
});
$('export-csv').addEventListener('click', () => vscode.postMessage({ type: 'export', format: 'csv' }));
$('export-json').addEventListener('click', () => vscode.postMessage({ type: 'export', format: 'json' }));
let scrollTimer = 0;
window.addEventListener('scroll', () => {
  clearTimeout(scrollTimer);
  scrollTimer = window.setTimeout(() => save({ scrollY: window.scrollY }), 200);
});
// theme switches change the --vscode-* variables: repaint the charts with the new colours
new MutationObserver(() => latest && renderCharts(latest)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

if (persisted.window) {
  ($<HTMLSelectElement>('window')).value = persisted.window;
  ($<HTMLInputElement>('actionable')).checked = persisted.actionableOnly;
  vscode.postMessage({ type: 'ready', window: persisted.window, actionableOnly: persisted.actionableOnly });
} else {
  vscode.postMessage({ type: 'ready' });
}
