// A clock whose time moves only when a test says so, with the timers that go with it (not a test file).
export class FakeClock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = Date.UTC(2026, 10, 27, 12, 0, 0)) {
    this.t = startMs;
  }

  readonly now = (): number => this.t;

  readonly setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };

  readonly clearTimeout = (id: unknown): void => {
    this.timers.delete(id as number);
  };

  /** Timers not run yet. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

/** A view that re-renders on change notifications at most once per `delayMs` (as the tree and status bar do). */
export class ThrottledView<T> {
  private timer: unknown;
  renders = 0;
  shown: T | undefined;

  constructor(private readonly clock: FakeClock, private readonly delayMs: number, private readonly read: () => T) {}

  /** The change listener. */
  readonly changed = (): void => {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, this.delayMs);
  };

  render(): void {
    this.renders++;
    this.shown = this.read();
  }
}
