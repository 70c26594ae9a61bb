import { analyzeOpportunities, MemoryWindowSource as AnalysisWindows, OpportunityReport, Recommendation, StoreWindowSource, WindowKey, type WindowSource as AnalysisSource } from '../../core/analysis';
import type { ChannelContextService, ChannelContext as CoreContext } from '../../core/context';
import type { Disposable as CoreDisposable } from '../../core/emitter';
import { formatSat } from '../../core/format';
import type { HtlcMonitor } from '../../core/monitor';
import type { Urgency, WindowId } from '../../shared/protocol';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';
import { AnswerCache, systemClock, type Clock } from './answerCache';
import { HeuristicOpportunitySource } from './heuristicOpportunities';
import type { ChannelContext, ChannelContextSource, Opportunity, OpportunitySource, WindowSource } from './types';

/** Urgency score (0–100, src/core/analysis urgencyOf) → the three levels the UI colours. */
export function urgencyLevel(score: number): Urgency {
  return score >= 60 ? 'high' : score >= 35 ? 'medium' : 'low';
}

function toUiContext(c: CoreContext): ChannelContext {
  return {
    channelId: c.chanId,
    alias: c.alias ?? undefined,
    remotePubkey: c.remotePubkey ?? undefined,
    active: c.status === 'active' ? true : c.status === 'inactive' || c.status === 'closed' ? false : undefined,
    capacitySat: c.capacitySat,
    localBalanceSat: c.localBalanceSat,
    remoteBalanceSat: c.remoteBalanceSat,
    baseFeeMsat: c.ourFees?.baseFeeMsat,
    feePpm: c.ourFees?.feeRatePpm,
  };
}

function evidenceOf(r: Recommendation): string[] {
  const out = r.evidence.map((e) => `${e.label}: ${typeof e.value === 'bigint' ? e.value.toString() : String(e.value)}${e.window === 'now' ? ' (now)' : ` (${e.window})`}`);
  const g = r.expectedGain;
  out.push(`expected gain ${formatSat(g.sat30d * 1000n)} sat / 30 days (${formatSat(g.lowSat30d * 1000n)}–${formatSat(g.highSat30d * 1000n)}, ${g.confidence} confidence)`);
  out.push(`urgency ${r.urgency.score}/100: ${r.urgency.parts.map((p) => `${p.name} ${p.points}/${p.max}`).join(', ')}`);
  return out;
}

/**
 * The opportunity analysis (src/core/analysis) and channel context (src/core/context) behind the
 * UI's small interfaces. The context is the monitor's own (ConnectionManager loads it before the
 * first event); the analysis reads the node's history (StoreWindowSource) when its store is open,
 * else an in-memory window source fed since the monitor started. Falls back to the in-memory
 * heuristics when the analysis throws (logged once).
 */
export class AnalysisBackend extends Disposable implements OpportunitySource, ChannelContextSource {
  readonly kind = 'opportunity analysis';
  private monitor: HtlcMonitor | undefined;
  private ctx: ChannelContextService | undefined;
  private windows: AnalysisWindows | undefined;
  private startedAtMs: number;
  private subs: CoreDisposable[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly fallback: HeuristicOpportunitySource;
  private readonly clock: Clock;
  /**
   * Ranked opportunities per window. Over the store an analysis reads every window: under a busy
   * stream it runs once a second at most, and the views are told to ask again when an answer that
   * missed batches expires.
   */
  private readonly cache: AnswerCache;
  private warned = false;

  constructor(private readonly manager: ConnectionManager, private readonly uiWindows: WindowSource, private readonly log: Log, opts: { clock?: Clock } = {}) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.startedAtMs = this.clock.now();
    this.cache = new AnswerCache({ idleMs: 1000, busyMs: 1000, clock: this.clock, onStale: () => this.notify() });
    this._register(toDisposable(() => this.cache.dispose()));
    this.fallback = new HeuristicOpportunitySource(uiWindows, this);
    // every batch reaches the UI's windows: what the analysis read before is stale
    this._register(toDisposable(uiWindows.onDidChange(() => this.cache.bump()).dispose));
    this._register(manager.onDidChangeState((s) => this.follow(s.state)));
    this._register(manager.onDidReset(() => this.resetWindows()));
    if (manager.history) this._register(toDisposable(manager.history.onDidChange(() => this.fire()).dispose));
    this._register(toDisposable(() => this.detach()));
  }

  private follow(_state: string): void {
    const m = this.manager.currentMonitor;
    if (m !== this.monitor) {
      this.detach();
      if (m) this.attach(m);
    }
  }

  private attach(m: HtlcMonitor): void {
    const ctx = this.manager.channelContext;
    if (!ctx) return;
    this.monitor = m;
    this.ctx = ctx;
    this.subs.push(ctx.on('changed', () => this.fire()));
    this.subs.push(ctx.on('error', (err) => this.log.warn(`channel context: ${err.message}`)));
    this.resetWindows();
  }

  private resetWindows(): void {
    this.windowsSub?.dispose();
    this.cache.clear();
    if (!this.monitor || !this.ctx) return;
    this.startedAtMs = this.clock.now();
    this.windows = new AnalysisWindows({ context: this.ctx, startedAtMs: this.startedAtMs });
    this.windowsSub = this.windows.attach(this.monitor);
  }
  private windowsSub: CoreDisposable | undefined;

  private detach(): void {
    for (const s of this.subs) s.dispose();
    this.subs = [];
    this.windowsSub?.dispose();
    this.windowsSub = undefined;
    this.ctx = undefined; // the manager's: it disposes it
    this.windows = undefined;
    this.monitor = undefined;
    this.cache.clear();
  }

  private fire(): void {
    this.cache.clear();
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  // ChannelContextSource
  get(channelId: string): ChannelContext | undefined {
    const c = this.ctx?.peek(channelId);
    return c ? toUiContext(c) : undefined;
  }
  onDidChange(listener: () => void): CoreDisposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }
  async refresh(): Promise<void> {
    await this.ctx?.refresh().catch(() => undefined);
  }

  /** Where the analysis reads: the node's history when its store is open, else memory. */
  private source(): AnalysisSource | undefined {
    const store = this.manager.history?.store;
    if (!store || !this.ctx) return this.windows;
    // a new one per run: it memoises answers per `now`, and a batch can land within the same ms
    return new StoreWindowSource(store, { context: this.ctx, startedAtMs: this.startedAtMs });
  }

  /** The analysis' own report (exports, tests). */
  report(window: WindowId, nowMs = Date.now()): OpportunityReport | undefined {
    const source = this.source();
    if (!source || !this.ctx) return undefined;
    return analyzeOpportunities(source, this.ctx, { window: window as WindowKey, nowMs });
  }

  // OpportunitySource
  opportunities(window: WindowId, nowMs = this.clock.now()): Opportunity[] {
    const reuseMs = this.manager.history?.store ? 1000 : 250;
    return this.cache.get(window, () => this.rank(window, nowMs), { idleMs: reuseMs, busyMs: reuseMs });
  }

  private rank(window: WindowId, nowMs: number): Opportunity[] {
    let report: OpportunityReport | undefined;
    try {
      report = this.report(window, nowMs);
    } catch (err) {
      if (!this.warned) this.log.error(`opportunity analysis failed, using the simple heuristics: ${(err as Error).stack ?? err}`);
      this.warned = true;
    }
    const base = this.fallback.opportunities(window, nowMs);
    if (!report) return base;
    const byId = new Map(report.channels.map((c) => [c.chanId, c]));
    return base.map((o): Opportunity => {
      const ch = byId.get(o.channelId) ?? (this.ctx ? byId.get(this.ctx.resolve(o.channelId)) : undefined);
      if (!ch) return o;
      const rec = ch.recommendations[0];
      const alias = ch.alias ?? o.alias;
      if (!rec) {
        return {
          ...o,
          alias: alias ?? undefined,
          action: 'none',
          recommendation: ch.notes[0] ?? 'No recommendation: not enough evidence yet.',
          urgency: 'low',
          actionable: false,
          evidence: [...ch.notes.slice(1), ...o.evidence],
        };
      }
      return {
        ...o,
        alias: alias ?? undefined,
        action: rec.kind,
        recommendation: rec.action,
        urgency: urgencyLevel(rec.urgency.score),
        actionable: ch.actionable,
        evidence: [...evidenceOf(rec), ...ch.recommendations.slice(1).map((r) => `also: ${r.action}`), ...ch.notes],
      };
    });
  }
}

