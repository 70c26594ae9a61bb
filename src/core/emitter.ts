/** A disposable registration, shaped like vscode.Disposable so adapters can push it directly. */
export interface Disposable {
  dispose(): void;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A typed event emitter. A listener that throws does not stop the others; the error is counted
 * and logged (never silently swallowed).
 */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();
  listenerErrors = 0;

  constructor(private readonly logger: Logger = silentLogger) {}

  on<K extends keyof Events>(event: K, listener: Events[K]): Disposable {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return { dispose: () => void set!.delete(listener) };
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (err) {
        this.listenerErrors++;
        this.logger.error(`listener for "${String(event)}" threw: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}
