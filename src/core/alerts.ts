/**
 * Threshold alerts, pure (a clock is injected; no timers, no I/O): the VS Code extension turns them
 * into notifications, the CLI into JSON lines.
 *
 * Conditions:
 * - missed-fees: more than `missedFeesSat` sat of missed fees on one outgoing channel within the
 *   last `missedFeesWindowMs` (by LND's event time);
 * - stream-down: the HTLC event stream not connected (reconnecting, failed, stopped by an error, or
 *   history-only) for more than `streamDownMs`.
 * An alert is raised when its condition starts to hold, and never again while it holds; once it
 * clears (the window slid below the threshold, the stream is back), it may be raised again.
 * Muted keys (a channel id, or "stream-down") never raise ("Don't show again").
 */
import type { Outcome } from './normalizer';
import type { MonitorMode, MonitorState } from './monitor';
import { formatScid } from './scid';

export interface AlertRules {
  /** Missed fees on one channel within the window above which to alert, sat; 0 = off. Default 1,000. */
  missedFeesSat?: number;
  /** The window of missedFeesSat, ms. Default 1 h. */
  missedFeesWindowMs?: number;
  /** Alert when the stream has been down this long, ms; 0 = off. Default 10 min. */
  streamDownMs?: number;
}

export type AlertKind = 'missed-fees' | 'stream-down';

export interface Alert {
  /** Stable for a condition: "missed-fees:<chan_id>" or "stream-down". */
  id: string;
  kind: AlertKind;
  /** The key "Don't show again" mutes: the channel id (decimal) or "stream-down". */
  muteKey: string;
  /** Decimal chan_id, for missed-fees. */
  channelId?: string;
  scid?: string;
  raisedAtMs: number;
  message: string;
  /** missed-fees: sat in the window; stream-down: seconds down. */
  value: number;
  threshold: number;
}

export interface AlertChange {
  raised: Alert[];
  /** Ids whose condition no longer holds. */
  cleared: string[];
}

const MINUTE = 60_000;

interface ChannelWindow {
  /** minute → missed fee msat in that minute */
  buckets: Map<number, bigint>;
}

export class AlertEngine {
  private rules: Required<AlertRules>;
  private readonly now: () => number;
  private readonly channels = new Map<string, ChannelWindow>();
  private readonly active = new Map<string, Alert>();
  private readonly muted = new Set<string>();
  private downSinceMs: number | undefined;
  private downWhy = '';
  private downHistoryOnly = false;

  constructor(rules: AlertRules = {}, opts: { now?: () => number; muted?: Iterable<string> } = {}) {
    this.rules = withDefaults(rules);
    this.now = opts.now ?? Date.now;
    for (const k of opts.muted ?? []) this.muted.add(k);
  }

  setRules(rules: AlertRules): void {
    this.rules = withDefaults(rules);
  }

  get activeAlerts(): Alert[] {
    return [...this.active.values()];
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** "Don't show again" for a channel (its decimal id) or "stream-down". */
  mute(key: string): void {
    this.muted.add(key);
  }

  unmute(key: string): void {
    this.muted.delete(key);
  }

  get mutedKeys(): string[] {
    return [...this.muted];
  }

  /** Feeds a batch of outcomes (the monitor's 'changed'); only failures with missed fees are kept. */
  observe(outcomes: readonly Outcome[]): void {
    if (this.rules.missedFeesSat <= 0) return;
    const oldest = Math.floor((this.now() - this.rules.missedFeesWindowMs) / MINUTE);
    for (const o of outcomes) {
      if (o.kind !== 'failure' || o.missedFeeMsat <= 0n || o.outgoingChanId === 0n) continue;
      const minute = Math.floor(o.timestampMs / MINUTE);
      if (minute < oldest) continue;
      const key = o.outgoingChanId.toString();
      let w = this.channels.get(key);
      if (!w) this.channels.set(key, (w = { buckets: new Map() }));
      w.buckets.set(minute, (w.buckets.get(minute) ?? 0n) + o.missedFeeMsat);
    }
  }

  /** The monitor's state (its 'state' events); stream-down is measured from the first bad one. */
  setConnection(state: MonitorState, mode: MonitorMode = 'stream', why = ''): void {
    const up = state === 'connected' && mode === 'stream';
    const idle = state === 'idle' || (state === 'stopped' && !why);
    if (up || idle) {
      this.downSinceMs = undefined;
      return;
    }
    this.downWhy = why || state;
    this.downHistoryOnly = mode === 'history-only';
    if (this.downSinceMs === undefined) this.downSinceMs = this.now();
  }

  /** Missed fees (msat) of a channel in the window, now. */
  missedInWindowMsat(chanId: string): bigint {
    const w = this.channels.get(chanId);
    if (!w) return 0n;
    const oldest = Math.floor((this.now() - this.rules.missedFeesWindowMs) / MINUTE);
    let sum = 0n;
    for (const [minute, msat] of w.buckets) if (minute > oldest) sum += msat;
    return sum;
  }

  /** Checks every condition now: alerts that start to hold, and ids that stopped holding. */
  evaluate(): AlertChange {
    const now = this.now();
    const raised: Alert[] = [];
    const holding = new Set<string>();
    const r = this.rules;

    if (r.missedFeesSat > 0) {
      const oldest = Math.floor((now - r.missedFeesWindowMs) / MINUTE);
      const limitMsat = BigInt(Math.round(r.missedFeesSat * 1000));
      for (const [chan, w] of this.channels) {
        let sum = 0n;
        for (const [minute, msat] of w.buckets) {
          if (minute <= oldest) w.buckets.delete(minute);
          else sum += msat;
        }
        if (w.buckets.size === 0) this.channels.delete(chan);
        if (sum <= limitMsat) continue;
        const id = `missed-fees:${chan}`;
        holding.add(id);
        if (this.active.has(id) || this.muted.has(chan)) continue;
        const sat = Number(sum / 1000n);
        const scid = formatScid(BigInt(chan));
        const a: Alert = {
          id,
          kind: 'missed-fees',
          muteKey: chan,
          channelId: chan,
          scid,
          raisedAtMs: now,
          value: sat,
          threshold: r.missedFeesSat,
          message: `Channel ${scid} missed ${sat.toLocaleString('en-US')} sat of fees in the last ${formatWindow(r.missedFeesWindowMs)} (alert above ${r.missedFeesSat.toLocaleString('en-US')} sat).`,
        };
        this.active.set(id, a);
        raised.push(a);
      }
    }

    if (r.streamDownMs > 0 && this.downSinceMs !== undefined && now - this.downSinceMs > r.streamDownMs) {
      const id = 'stream-down';
      holding.add(id);
      if (!this.active.has(id) && !this.muted.has(id)) {
        const secs = Math.round((now - this.downSinceMs) / 1000);
        const what = this.downHistoryOnly ? `LND refuses the HTLC event stream (history-only: ${this.downWhy})` : `the HTLC event stream is down (${this.downWhy})`;
        const a: Alert = {
          id,
          kind: 'stream-down',
          muteKey: id,
          raisedAtMs: now,
          value: secs,
          threshold: Math.round(r.streamDownMs / 1000),
          message: `For ${formatWindow(now - this.downSinceMs)} ${what}: failed forwards are not being counted.`,
        };
        this.active.set(id, a);
        raised.push(a);
      }
    }

    const cleared: string[] = [];
    for (const id of [...this.active.keys()]) {
      if (!holding.has(id)) {
        this.active.delete(id);
        cleared.push(id);
      }
    }
    return { raised, cleared };
  }
}

/**
 * One notification at a time: alerts wait in order while one is shown; an alert whose condition
 * cleared, or whose key was muted, before its turn is dropped.
 */
export class AlertQueue {
  private readonly waiting: Alert[] = [];
  private showing: Alert | undefined;

  constructor(
    private readonly show: (alert: Alert) => Promise<void>,
    private readonly stillValid: (alert: Alert) => boolean,
  ) {}

  get current(): Alert | undefined {
    return this.showing;
  }

  get pending(): readonly Alert[] {
    return this.waiting;
  }

  push(alerts: readonly Alert[]): void {
    for (const a of alerts) if (!this.waiting.some((w) => w.id === a.id) && this.showing?.id !== a.id) this.waiting.push(a);
    this.pump();
  }

  private pump(): void {
    if (this.showing) return;
    let next: Alert | undefined;
    while ((next = this.waiting.shift()) && !this.stillValid(next)) {
      // cleared or muted while waiting
    }
    if (!next) return;
    this.showing = next;
    const done = () => {
      this.showing = undefined;
      this.pump();
    };
    this.show(next).then(done, done);
  }
}

function withDefaults(r: AlertRules): Required<AlertRules> {
  return {
    missedFeesSat: Math.max(0, r.missedFeesSat ?? 1_000),
    missedFeesWindowMs: Math.max(MINUTE, r.missedFeesWindowMs ?? 3_600_000),
    streamDownMs: Math.max(0, r.streamDownMs ?? 10 * MINUTE),
  };
}

export function formatWindow(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= MINUTE) return `${Math.round(ms / MINUTE)} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** The CLI's JSON line for a raised or cleared alert. */
export function alertJsonLine(event: 'raised' | 'cleared', a: Alert | { id: string }, nowMs: number): string {
  const base = { time: new Date(nowMs).toISOString(), event, id: a.id };
  if (event === 'cleared' || !('kind' in a)) return JSON.stringify(base);
  return JSON.stringify({ ...base, kind: a.kind, channelId: a.channelId, scid: a.scid, value: a.value, threshold: a.threshold, message: a.message });
}
