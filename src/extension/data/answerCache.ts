/** Time and timers as the caches use them (tests pass a fake clock). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ReuseLimits {
  /** An answer is reused this long while the data keeps the version it was computed from (windows slide). */
  idleMs: number;
  /**
   * …and this long after it was computed even when newer data arrived: under a busy stream the
   * views asking within that time share one computation.
   */
  busyMs: number;
}

export interface AnswerCacheOptions extends ReuseLimits {
  /**
   * Called (once per stale period) when an answer older than the data was handed out and has now
   * expired: the owner tells its views to ask again.
   */
  onStale: () => void;
  clock?: Clock;
}

interface Entry {
  at: number;
  version: number;
  value: unknown;
}

/**
 * Answers computed from data that changes (counted by a version) and from the time. Coalescing
 * queries under load means handing out answers that miss the newest batches; a view that got one
 * would keep it when the stream then goes quiet (nothing notifies it again), so every such answer
 * is followed by onStale once it has expired, and the views' next question gets a fresh one.
 */
export class AnswerCache {
  private version = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private timer: unknown;
  private timerAt = Infinity;

  constructor(private readonly opts: AnswerCacheOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The data changed: answers computed before are stale. */
  bump(): void {
    this.version++;
  }

  /** The data was replaced (a store opened, closed or reset): nothing computed before is reused. */
  clear(): void {
    this.version++;
    this.entries.clear();
  }

  get<T>(key: string, compute: () => T, limits: Partial<ReuseLimits> = {}): T {
    const now = this.clock.now();
    const idleMs = limits.idleMs ?? this.opts.idleMs;
    const busyMs = limits.busyMs ?? this.opts.busyMs;
    const c = this.entries.get(key);
    if (c) {
      const age = now - c.at;
      if (age >= 0 && c.version === this.version && age < idleMs) return c.value as T;
      if (age >= 0 && age < busyMs) {
        this.staleUntil(c.at + busyMs);
        return c.value as T;
      }
    }
    const value = compute();
    this.entries.set(key, { at: now, version: this.version, value });
    return value;
  }

  /** Calls onStale at `at` (or earlier, when it is due earlier for another answer). */
  private staleUntil(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.opts.onStale();
    }, Math.max(0, at - this.clock.now()));
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.entries.clear();
  }
}
