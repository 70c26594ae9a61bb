import { Disposable, Emitter, Logger, silentLogger } from '../emitter';
import { formatScid, parseU64 } from '../scid';
import { ChannelContext, ContextProvider, ContextSnapshot, unknownChannel } from './types';

export interface ContextChange {
  added: string[];
  /** Channels that were open and are not any more: kept with status 'closed'. */
  closed: string[];
  /** Channels whose balances, status, fees or policies changed. */
  updated: string[];
}

export interface ContextEvents {
  changed: (change: ContextChange) => void;
  error: (err: Error) => void;
}

export interface ContextServiceOptions {
  provider: ContextProvider;
  /** A second provider that only adds what the first lacks (alias, flow report, rating). */
  enrich?: ContextProvider;
  /** Refresh period in ms. Default 60 s; 0 disables the timer (refresh() only). */
  refreshMs?: number;
  now?: () => number;
  logger?: Logger;
  /** Closed channels remembered at most this long (ms). Default 30 days. */
  keepClosedMs?: number;
}

/**
 * Cached channel context with periodic refresh. Resolves alias SCIDs (alias_scids, peer_scid_alias,
 * zero_conf_confirmed_scid) to the canonical chan_id, so events that name an alias land on the right
 * channel. A channel that closed stays known with status 'closed'; an id never seen is 'unknown'.
 */
export class ChannelContextService implements Disposable {
  private readonly emitter: Emitter<ContextEvents>;
  private readonly opts: ContextServiceOptions;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly channels = new Map<string, ChannelContext>();
  private readonly aliasToCanonical = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<ContextSnapshot> | undefined;
  private _ourPubkey: string | null = null;
  private _lastRefreshMs = 0;
  private _warnings: string[] = [];
  private _lastError: Error | undefined;

  constructor(opts: ContextServiceOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? silentLogger;
    this.emitter = new Emitter<ContextEvents>(this.logger);
  }

  get ourPubkey(): string | null {
    return this._ourPubkey;
  }
  get lastRefreshMs(): number {
    return this._lastRefreshMs;
  }
  get warnings(): readonly string[] {
    return this._warnings;
  }
  get lastError(): Error | undefined {
    return this._lastError;
  }
  /** True once one refresh succeeded. */
  get loaded(): boolean {
    return this._lastRefreshMs > 0;
  }

  on<K extends keyof ContextEvents>(event: K, listener: ContextEvents[K]): Disposable {
    return this.emitter.on(event, listener);
  }

  /** First refresh (errors are reported, not thrown) and the periodic timer. */
  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    const every = this.opts.refreshMs ?? 60_000;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => void this.refresh().catch(() => undefined), every);
      this.timer.unref?.();
    }
  }

  /** Reloads now; concurrent calls share one load. Rejects (and emits 'error') when the provider fails. */
  refresh(): Promise<ContextSnapshot> {
    if (this.inflight) return this.inflight;
    const p = this.load().finally(() => {
      this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  private async load(): Promise<ContextSnapshot> {
    let snap: ContextSnapshot;
    try {
      snap = await this.opts.provider.load();
    } catch (err) {
      this._lastError = err as Error;
      this.emitter.emit('error', err as Error);
      throw err;
    }
    const warnings = [...snap.warnings];
    if (this.opts.enrich) {
      try {
        const extra = await this.opts.enrich.load();
        mergeEnrichment(snap.channels, extra.channels);
        warnings.push(...extra.warnings);
      } catch (err) {
        warnings.push(`${this.opts.enrich.name}: ${(err as Error).message}`);
      }
    }
    this._lastError = undefined;
    this.apply(snap, warnings);
    return snap;
  }

  /** Installs a snapshot (also used by tests and by providers that push). */
  apply(snap: ContextSnapshot, warnings: string[] = snap.warnings): ContextChange {
    const change: ContextChange = { added: [], closed: [], updated: [] };
    const seen = new Set<string>();
    this.aliasToCanonical.clear();
    for (const ch of snap.channels) {
      seen.add(ch.chanId);
      const prev = this.channels.get(ch.chanId);
      if (!prev || prev.status === 'closed' || prev.status === 'unknown') change.added.push(ch.chanId);
      else if (differs(prev, ch)) change.updated.push(ch.chanId);
      this.channels.set(ch.chanId, ch);
    }
    for (const ch of snap.channels) {
      for (const a of [...ch.aliasScids, ch.peerScidAlias, ch.zeroConfConfirmedScid]) {
        if (a === null || a === ch.chanId) continue;
        const owner = this.aliasToCanonical.get(a);
        if (owner !== undefined && owner !== ch.chanId) {
          warnings.push(`SCID ${formatScid(a)} is claimed by ${formatScid(owner)} and ${formatScid(ch.chanId)}; kept on the first`);
          continue;
        }
        if (seen.has(a)) continue; // a real chan_id of another channel wins
        this.aliasToCanonical.set(a, ch.chanId);
      }
    }
    const keepClosed = this.opts.keepClosedMs ?? 30 * 86400_000;
    for (const [id, ch] of this.channels) {
      if (seen.has(id)) continue;
      if (ch.status !== 'closed') {
        this.channels.set(id, { ...ch, status: 'closed', fetchedAtMs: snap.fetchedAtMs });
        change.closed.push(id);
      } else if (snap.fetchedAtMs - ch.lastSeenOpenMs > keepClosed) {
        this.channels.delete(id);
      }
      // closed channels keep answering for their alias SCIDs
      for (const a of [...ch.aliasScids, ch.peerScidAlias, ch.zeroConfConfirmedScid]) {
        if (a !== null && a !== id && !this.aliasToCanonical.has(a) && !seen.has(a)) this.aliasToCanonical.set(a, id);
      }
    }
    this._ourPubkey = snap.ourPubkey ?? this._ourPubkey;
    this._lastRefreshMs = snap.fetchedAtMs || this.now();
    this._warnings = warnings;
    for (const w of warnings) this.logger.warn(w);
    if (change.added.length || change.closed.length || change.updated.length) this.emitter.emit('changed', change);
    return change;
  }

  /** The canonical chan_id (decimal) for an id that may be an alias SCID; unknown ids map to themselves. */
  resolve(chanId: bigint | string): string {
    const id = typeof chanId === 'bigint' ? chanId.toString() : parseU64(chanId).toString();
    if (this.channels.has(id)) return id;
    return this.aliasToCanonical.get(id) ?? id;
  }

  /** bigint form of {@link resolve}, for the monitor's outcomes. */
  resolveBig(chanId: bigint): bigint {
    const r = this.resolve(chanId);
    return r === chanId.toString() ? chanId : BigInt(r);
  }

  /** The context of a channel (alias SCIDs resolved); status 'unknown' when never seen. */
  get(chanId: bigint | string): ChannelContext {
    const id = this.resolve(chanId);
    return this.channels.get(id) ?? unknownChannel(id, formatScid(id), this.now());
  }

  /** Known without a placeholder. */
  peek(chanId: bigint | string): ChannelContext | undefined {
    return this.channels.get(this.resolve(chanId));
  }

  /** Every known channel (open first, then closed), by chan_id. */
  all(): ChannelContext[] {
    return [...this.channels.values()].sort((a, b) => (a.status === 'closed' ? 1 : 0) - (b.status === 'closed' ? 1 : 0) || cmpId(a.chanId, b.chanId));
  }

  /** Open channels (active or inactive). */
  open(): ChannelContext[] {
    return this.all().filter((c) => c.status === 'active' || c.status === 'inactive');
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.opts.provider.dispose?.();
    this.opts.enrich?.dispose?.();
    this.emitter.clear();
  }
}

function cmpId(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function differs(a: ChannelContext, b: ChannelContext): boolean {
  return (
    a.status !== b.status ||
    a.localBalanceSat !== b.localBalanceSat ||
    a.remoteBalanceSat !== b.remoteBalanceSat ||
    a.unsettledBalanceSat !== b.unsettledBalanceSat ||
    a.alias !== b.alias ||
    JSON.stringify(a.ourFees, big) !== JSON.stringify(b.ourFees, big) ||
    JSON.stringify(a.ourPolicy, big) !== JSON.stringify(b.ourPolicy, big) ||
    JSON.stringify(a.peerPolicy, big) !== JSON.stringify(b.peerPolicy, big)
  );
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Fills what the primary lacks from an enriching provider (matched by chan_id). */
export function mergeEnrichment(primary: ChannelContext[], extra: ChannelContext[]): void {
  const byId = new Map(extra.map((c) => [c.chanId, c]));
  for (const ch of primary) {
    const x = byId.get(ch.chanId);
    if (!x) continue;
    if (ch.alias === null && x.alias !== null) {
      ch.alias = x.alias;
      ch.aliasSource = x.aliasSource;
    }
    ch.flow ??= x.flow;
    ch.rating ??= x.rating;
    ch.peerPolicy ??= x.peerPolicy;
    ch.ourPolicy ??= x.ourPolicy;
    ch.ourFees ??= x.ourFees;
  }
}
