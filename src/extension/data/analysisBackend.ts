import { analyzeOpportunities, MemoryWindowSource as AnalysisWindows, OpportunityReport, Recommendation, WindowKey } from '../../core/analysis';
import { ChannelContextService, LndContextProvider, type ChannelContext as CoreContext } from '../../core/context';
import type { Disposable as CoreDisposable } from '../../core/emitter';
import { formatSat } from '../../core/format';
import type { HtlcMonitor } from '../../core/monitor';
import type { Urgency, WindowId } from '../../shared/protocol';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';
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
 * UI's small interfaces: one ChannelContextService and analysis window source per monitor. Falls
 * back to the in-memory heuristics when the analysis throws (logged once).
 */
export class AnalysisBackend extends Disposable implements OpportunitySource, ChannelContextSource {
  readonly kind = 'opportunity analysis';
  private monitor: HtlcMonitor | undefined;
  private ctx: ChannelContextService | undefined;
  private windows: AnalysisWindows | undefined;
  private subs: CoreDisposable[] = [];
  private started = false;
  private readonly listeners = new Set<() => void>();
  private readonly fallback: HeuristicOpportunitySource;
  private cache: { key: string; at: number; value: Opportunity[] } | undefined;
  private warned = false;

  constructor(private readonly manager: ConnectionManager, private readonly uiWindows: WindowSource, private readonly log: Log) {
    super();
    this.fallback = new HeuristicOpportunitySource(uiWindows, this);
    this._register(manager.onDidChangeState((s) => this.follow(s.state)));
    this._register(manager.onDidReset(() => this.resetWindows()));
    this._register(toDisposable(() => this.detach()));
  }

  private follow(state: string): void {
    const m = this.manager.currentMonitor;
    if (m !== this.monitor) {
      this.detach();
      if (m) this.attach(m);
    }
    if (state === 'connected' && this.ctx && !this.started) {
      this.started = true;
      void this.ctx.start();
    }
  }

  private attach(m: HtlcMonitor): void {
    this.monitor = m;
    const ctx = new ChannelContextService({ provider: new LndContextProvider(() => m.lndClient), refreshMs: 60_000, logger: this.log });
    this.ctx = ctx;
    this.subs.push(ctx.on('changed', () => this.fire()));
    this.subs.push(ctx.on('error', (err) => this.log.warn(`channel context: ${err.message}`)));
    this.resetWindows();
  }

  private resetWindows(): void {
    this.windowsSub?.dispose();
    this.cache = undefined;
    if (!this.monitor || !this.ctx) return;
    this.windows = new AnalysisWindows({ context: this.ctx });
    this.windowsSub = this.windows.attach(this.monitor);
  }
  private windowsSub: CoreDisposable | undefined;

  private detach(): void {
    for (const s of this.subs) s.dispose();
    this.subs = [];
    this.windowsSub?.dispose();
    this.windowsSub = undefined;
    this.ctx?.dispose();
    this.ctx = undefined;
    this.windows = undefined;
    this.monitor = undefined;
    this.started = false;
    this.cache = undefined;
  }

  private fire(): void {
    this.cache = undefined;
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

  /** The analysis' own report (exports, tests). */
  report(window: WindowId, nowMs = Date.now()): OpportunityReport | undefined {
    if (!this.windows || !this.ctx) return undefined;
    return analyzeOpportunities(this.windows, this.ctx, { window: window as WindowKey, nowMs });
  }

  // OpportunitySource
  opportunities(window: WindowId, nowMs = Date.now()): Opportunity[] {
    const key = `${window}`;
    if (this.cache && this.cache.key === key && nowMs - this.cache.at < 250) return this.cache.value;
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
    const value = base.map((o): Opportunity => {
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
    this.cache = { key, at: nowMs, value };
    return value;
  }
}

