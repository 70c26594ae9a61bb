// The stacked caches between a batch and what the views show (HistoryWindowSource over the store,
// AnalysisBackend over it, the views' throttles): the last change is always shown within ~1.5 s
// once the stream goes quiet. Time moves only by FakeClock.advance, so the orderings are exact.
import { strict as assert } from 'node:assert';
import { HtlcMonitor } from '../../src/core/monitor';
import { StatsEngine } from '../../src/core/stats';
import { ChannelContextService } from '../../src/core/context';
import type { AnalysisBackend as AB } from '../../src/extension/data/analysisBackend';
import { AnswerCache } from '../../src/extension/data/answerCache';
import { HistoryWindowSource } from '../../src/extension/data/historyWindowSource';
import { MemoryWindowSource } from '../../src/extension/data/memoryWindowSource';
import { NodeHistory } from '../../src/extension/data/nodeHistory';
import type { ConnectionManager } from '../../src/extension/connection/connectionManager';
import type { Log } from '../../src/extension/common/log';
import type { FailureOutcome } from '../../src/core/normalizer';
import type { ChannelContext, Opportunity } from '../../src/extension/data/types';
import { FakeClock, ThrottledView } from './fake-clock';
import { failure, rmDir, tmpDir } from './store-helpers';
import { withVscodeStub } from './vscode-stub-loader';

/* eslint-disable @typescript-eslint/no-require-imports */
const tree = withVscodeStub(() => require('../../src/extension/tree/failingChannelsTree')) as typeof import('../../src/extension/tree/failingChannelsTree');
const { AnalysisBackend } = withVscodeStub(() => require('../../src/extension/data/analysisBackend')) as { AnalysisBackend: typeof AB };
const vscode = withVscodeStub(() => require('vscode')) as typeof import('./faults-vscode-stub');
/* eslint-enable @typescript-eslint/no-require-imports */

const PK = '02' + 'c'.repeat(64);
const ALPHA_HUB = 968305345167917057n;
const logger = { debug() {}, info() {}, warn() {}, error() {} };
/** How long after the last change a view may still show an older state. */
const LAST_CHANGE_SHOWN_WITHIN_MS = 1500;
/** The views' throttles (TREE_REFRESH_MS, STATUS_REFRESH_MS, PANEL_UPDATE_MS). */
const TREE_MS = 400;
const STATUS_MS = 500;

function monitor(): HtlcMonitor {
  return new HtlcMonitor({ connection: () => { throw new Error('not used'); } });
}

describe('extension caches: the last change is always shown', () => {
  let dir: string;
  let clock: FakeClock;
  let history: NodeHistory;
  let memory: MemoryWindowSource;
  let ui: HistoryWindowSource;

  /** A batch as the monitor delivers it: the in-memory windows (which notify) first, then the store. */
  function deliver(n: number): void {
    const batch: FailureOutcome[] = [];
    for (let i = 0; i < n; i++) batch.push(failure({ timestampMs: clock.now() - 1000 + i, outgoingChanId: ALPHA_HUB }));
    memory.ingest(batch);
    history.store!.record(batch);
  }

  beforeEach(async () => {
    dir = tmpDir('htlc-caches-');
    clock = new FakeClock();
    history = new NodeHistory({ dir, logger, retentionDays: 30, storeOptions: { flushIntervalMs: 0, now: clock.now } });
    memory = new MemoryWindowSource({ now: clock.now });
    ui = new HistoryWindowSource({ memory, store: () => history.store, onStoreChange: (l) => history.onDidChange(l), now: clock.now, clock });
    await history.open(PK, new StatsEngine(), monitor());
  });
  afterEach(async () => {
    ui.dispose();
    await history.close();
    history.dispose();
    rmDir(dir);
  });

  it('status bar: a count read just before a burst is not shown for the idle reuse (the "0 fails/1h" of a busy start)', () => {
    const status = new ThrottledView(clock, STATUS_MS, () => ui.totals('1h').failures);
    ui.onDidChange(status.changed);
    status.render(); // "connected": the status bar renders at once
    assert.equal(status.shown, 0);
    clock.advance(200);
    deliver(90);
    clock.advance(LAST_CHANGE_SHOWN_WITHIN_MS);
    assert.equal(status.shown, 90, `after ${status.renders} renders`);
  });

  it('tree over the windows: a burst right after the first failure is shown (the "alpha-hub 1 fail")', () => {
    const tree = new ThrottledView(clock, TREE_MS, () => ui.channel(ALPHA_HUB.toString(), '24h')?.failures ?? 0);
    ui.onDidChange(tree.changed);
    deliver(1);
    clock.advance(500);
    assert.equal(tree.shown, 1);
    deliver(89);
    clock.advance(LAST_CHANGE_SHOWN_WITHIN_MS);
    assert.equal(tree.shown, 90, `after ${tree.renders} renders`);
  });

  it('a batch of failures on the incoming link only (no outgoing channel) still reaches the status bar', () => {
    const status = new ThrottledView(clock, STATUS_MS, () => ui.totals('1h').failures);
    ui.onDidChange(status.changed);
    status.render();
    clock.advance(5000);
    const batch = [failure({ timestampMs: clock.now() - 1000, outgoingChanId: 0n }), failure({ timestampMs: clock.now() - 900, outgoingChanId: 0n })];
    memory.ingest(batch);
    history.store!.record(batch);
    clock.advance(LAST_CHANGE_SHOWN_WITHIN_MS);
    assert.equal(status.shown, 2, `after ${status.renders} renders`);
  });

  it('a steady stream still coalesces store queries: one per window and busy period', () => {
    let queries = 0;
    const store = history.store!;
    const windows = store.windows.bind(store);
    store.windows = ((...a: Parameters<typeof windows>) => (queries++, windows(...a))) as typeof store.windows;
    const tree = new ThrottledView(clock, TREE_MS, () => ui.channels('24h').length);
    const panel = new ThrottledView(clock, 750, () => ui.totals('24h').failures);
    ui.onDidChange(tree.changed);
    ui.onDidChange(panel.changed);
    for (let i = 0; i < 100; i++) {
      deliver(3);
      clock.advance(100); // 10 s of batches every 100 ms
    }
    assert.ok(queries <= 12, `${queries} store queries in 10 s`);
    clock.advance(LAST_CHANGE_SHOWN_WITHIN_MS);
    assert.equal(panel.shown, 300);
  });

  describe('AnalysisBackend over the windows', () => {
    let backend: AB;
    beforeEach(() => {
      const state = new vscode.EventEmitter<{ state: string }>();
      const reset = new vscode.EventEmitter<void>();
      // the analysis runs over the store with an empty channel context (nothing loaded from LND)
      const channelContext = new ChannelContextService({ provider: { name: 'lnd', load: () => Promise.reject(new Error('offline')) }, now: clock.now });
      const manager = { onDidChangeState: state.event, onDidReset: reset.event, history, currentMonitor: monitor(), channelContext } as unknown as ConnectionManager;
      backend = new AnalysisBackend(manager, ui, logger as unknown as Log, { clock });
      state.fire({ state: 'connected' });
      assert.ok(backend.report('24h', clock.now()), 'the analysis runs (not the heuristics fallback)');
    });
    afterEach(() => backend.dispose());

    it('tree: ranked opportunities reused under load are recomputed once the stream goes quiet', () => {
      const tree = new ThrottledView(clock, TREE_MS, () => backend.opportunities('24h')[0]?.stats.failures ?? 0);
      ui.onDidChange(tree.changed);
      backend.onDidChange(tree.changed);
      deliver(1);
      clock.advance(500);
      assert.equal(tree.shown, 1);
      deliver(89);
      clock.advance(LAST_CHANGE_SHOWN_WITHIN_MS);
      assert.equal(tree.shown, 90, `after ${tree.renders} renders`);
    });
  });
});


describe('tree: a channel node is refreshed when anything its item shows changes', () => {
  const stats = { channelId: '7', scid: '0x0x7', failures: 3, successes: 1, missedFeesMsat: 3000n, missedAmountMsat: 3_000_000n, reasons: [{ reason: 'INSUFFICIENT_BALANCE', count: 3, missedFeesMsat: 3000n, missedAmountMsat: 3_000_000n, maxAmountMsat: 0n }], lastFailureAtMs: 1 };
  const base: Opportunity = { channelId: '7', scid: '0x0x7', stats, action: 'rebalance', recommendation: 'Add outbound liquidity: forwards of up to 1,000 sat failed.', urgency: 'high', actionable: true, evidence: [] };
  const ctx: ChannelContext = { channelId: '7', alias: 'alpha-hub', capacitySat: 1_000_000n, localBalanceSat: 10n, remoteBalanceSat: 999_990n, baseFeeMsat: 1000n, feePpm: 100n, active: true };
  const changes: [string, Opportunity, ChannelContext][] = [
    ['recommendation', { ...base, recommendation: 'Add outbound liquidity: forwards of up to 2,000 sat failed.' }, ctx],
    ['missed amount', { ...base, stats: { ...stats, missedAmountMsat: 4_000_000n } }, ctx],
    ['top reason', { ...base, stats: { ...stats, reasons: [{ ...stats.reasons[0], reason: 'FEE_INSUFFICIENT' }] } }, ctx],
    ['capacity', base, { ...ctx, capacitySat: 2_000_000n }],
    ['remote balance', base, { ...ctx, remoteBalanceSat: 5n }],
    ['base fee', base, { ...ctx, baseFeeMsat: 0n }],
    ['peer offline', base, { ...ctx, active: false }],
  ];
  for (const [what, o, c] of changes) {
    it(what, () => {
      const before = tree.channelItemInputs(base, ctx);
      assert.notEqual(tree.channelItemInputs(o, c), before);
    });
  }
});

describe('AnswerCache', () => {
  it('reuses an answer of the current version; one older than the data only within busyMs, and then says so once', () => {
    const clock = new FakeClock();
    let stale = 0;
    let computed = 0;
    const cache = new AnswerCache({ idleMs: 30_000, busyMs: 1000, clock, onStale: () => stale++ });
    const get = () => cache.get('k', () => ++computed);
    assert.equal(get(), 1);
    clock.advance(20_000);
    assert.equal(get(), 1, 'same version: reused while idle');
    assert.equal(clock.pending, 0, 'a current answer owes nothing');
    clock.advance(10_000);
    assert.equal(get(), 2, 'idle reuse ends (windows slide)');
    clock.advance(300);
    cache.bump();
    assert.equal(get(), 2, 'newer data, but within busyMs: coalesced');
    clock.advance(300);
    assert.equal(get(), 2);
    assert.equal(stale, 0);
    clock.advance(399);
    assert.equal(stale, 0, 'not before the answer expires');
    clock.advance(1);
    assert.equal(stale, 1, 'when it expires, once');
    assert.equal(get(), 3, 'and the next question gets a fresh answer');
    clock.advance(5000);
    assert.equal(stale, 1);
    cache.dispose();
  });

  it('clear() drops every answer', () => {
    const clock = new FakeClock();
    let computed = 0;
    const cache = new AnswerCache({ idleMs: 30_000, busyMs: 1000, clock, onStale: () => assert.fail('nothing stale was handed out') });
    cache.get('k', () => ++computed);
    cache.clear();
    assert.equal(cache.get('k', () => ++computed), 2);
    clock.advance(5000);
  });
});
