import * as fs from 'node:fs';
import { Emitter, type Disposable, type Logger } from '../../core/emitter';
import type { HtlcMonitor } from '../../core/monitor';
import type { Outcome } from '../../core/normalizer';
import type { StatsEngine } from '../../core/stats';
import { HtlcStore, storePathFor, type StoreOptions } from '../../core/store/store';

export interface NodeHistoryOptions {
  /** Where the per-node files live (the extension's globalStorageUri). Created when needed. */
  dir: string;
  logger: Logger;
  retentionDays: number;
  /** Shown to the user (a warning notification): a file moved aside. */
  notify?: (message: string) => void;
  /** Passed to HtlcStore.open (tests: flushIntervalMs, now). */
  storeOptions?: Omit<StoreOptions, 'logger' | 'retentionDays'>;
}

/**
 * The extension's persistent history: one HtlcStore per node, keyed by its identity pubkey, in
 * globalStorage. open() runs in the monitor's beforeSubscribe (GetInfo done, no event applied yet):
 * it opens the node's file (or keeps the open one for the same node and monitor), restores it into
 * the StatsEngine and attaches it to the monitor. close() makes the final flush.
 */
export class NodeHistory implements Disposable {
  private _store: HtlcStore | undefined;
  private monitor: HtlcMonitor | undefined;
  private subs: Disposable[] = [];
  private retentionDays: number;
  private readonly emitter = new Emitter<{ change: () => void }>();
  private queue: Promise<unknown> = Promise.resolve();
  /** The file of the node monitored last (Reset Statistics while stopped resets it). */
  private lastFile: string | undefined;
  private disposed = false;

  constructor(private readonly opts: NodeHistoryOptions) {
    this.retentionDays = opts.retentionDays;
  }

  /** The open store, if any (undefined before the first connection and after stop). */
  get store(): HtlcStore | undefined {
    return this._store;
  }

  /** Fires when a store is opened, closed or reset, and when its save state changes. */
  onDidChange(listener: () => void): Disposable {
    return this.emitter.on('change', listener);
  }

  /** The file of the node monitored last (open or not). */
  get lastFileName(): string | undefined {
    return this.lastFile;
  }

  /** One line for tooltips: where the history is, and whether saving works. */
  get status(): { file?: string; error?: string; readOnly: boolean } {
    const s = this._store;
    return { file: s?.file, error: s?.lastFlushError?.message, readOnly: s?.readOnly ?? false };
  }

  /** Opens (or keeps) the node's store, restores it into `stats` and attaches it to `monitor`. */
  open(pubkey: string, stats: StatsEngine, monitor: HtlcMonitor): Promise<HtlcStore | undefined> {
    return this.serial(() => this.openNow(pubkey, stats, monitor));
  }

  private async openNow(pubkey: string, stats: StatsEngine, monitor: HtlcMonitor): Promise<HtlcStore | undefined> {
    if (this.disposed) return undefined;
    const file = storePathFor(this.opts.dir, pubkey);
    this.lastFile = file;
    const log = this.opts.logger;
    if (this._store && this._store.file === file) {
      if (this.monitor === monitor) return this._store; // a reconnect: the engine already holds it all
      this.detach();
      this.attach(this._store, monitor);
      return this._store;
    }
    if (this._store) {
      log.info(`another node (${pubkey.slice(0, 16)}…): closing the history of the previous one`);
      await this.closeNow();
    }
    const store = await HtlcStore.open({ ...this.opts.storeOptions, path: file, retentionDays: this.retentionDays, logger: log });
    if (this.disposed) {
      await store.close();
      return undefined;
    }
    if (store.movedAside) {
      const msg = `HTLC Monitor: the history file ${file} could not be read; it was moved to ${store.movedAside} (nothing was deleted) and a new history was started.`;
      log.warn(msg);
      this.opts.notify?.(msg);
    }
    if (store.recoveredFrom) log.warn(`history restored from ${store.recoveredFrom} (the flush before the last one)`);
    if (store.readOnly) {
      const by = store.lockedBy ? ` by process ${store.lockedBy.pid} on ${store.lockedBy.host}` : '';
      log.warn(`history file ${file} is in use${by} (another VS Code window?): shown read-only here; this window's new forwards are not saved`);
    }
    const info = store.restoreInto(stats);
    log.info(`history of node ${pubkey.slice(0, 16)}… in ${file}: ${info.channels} channels restored${info.skipped ? ` (${info.skipped} least active not loaded)` : ''}`);
    this._store = store;
    this.subs.push(
      store.on('flushError', (err) => {
        log.debug(`history not saved: ${err.message}`); // the first of an outage is logged as a warning by the store
        this.emitter.emit('change');
      }),
      store.on('flushed', () => this.emitter.emit('change')),
    );
    this.attach(store, monitor);
    this.emitter.emit('change');
    return store;
  }

  private attach(store: HtlcStore, monitor: HtlcMonitor): void {
    this.monitor = monitor;
    this.attachment = store.attach(monitor);
  }
  private attachment: Disposable | undefined;

  private detach(): void {
    this.attachment?.dispose();
    this.attachment = undefined;
    this.monitor = undefined;
  }

  /** Stores channel aliases (the file keeps names for exports and `report --db`). */
  setAliases(aliases: Iterable<[string, string]>): void {
    try {
      this._store?.setAliases(aliases);
    } catch (err) {
      this.opts.logger.warn(`could not store channel aliases: ${(err as Error).message}`);
    }
  }

  /**
   * Empties the node's history ("Reset Statistics") and saves that: the open store, or when
   * monitoring is stopped the file of the node monitored last.
   */
  reset(): Promise<void> {
    return this.serial(async () => {
      const s = this._store;
      if (s) {
        s.reset();
        this.emitter.emit('change');
        await s.flush().catch(() => undefined); // a failure is reported by the store
        return;
      }
      if (!this.lastFile || !fs.existsSync(this.lastFile)) return;
      const closed = await HtlcStore.open({ ...this.opts.storeOptions, path: this.lastFile, retentionDays: this.retentionDays, logger: this.opts.logger, flushIntervalMs: 0 });
      try {
        if (closed.readOnly) this.opts.logger.warn(`history file ${closed.file} is in use by another window: not reset`);
        else closed.reset();
      } finally {
        await closed.close();
      }
    });
  }

  /**
   * Runs `fn` on the open store, or (monitoring stopped) on the last node's file opened read-only;
   * undefined when there is no history yet.
   */
  async read<T>(fn: (store: HtlcStore) => T): Promise<T | undefined> {
    if (this._store) return fn(this._store);
    if (!this.lastFile || !fs.existsSync(this.lastFile)) return undefined;
    const s = await HtlcStore.open({ path: this.lastFile, readOnly: true, flushIntervalMs: 0, logger: this.opts.logger });
    try {
      return fn(s);
    } finally {
      await s.close();
    }
  }

  /** The retention applies to the open store by reopening it (same monitor, no restore needed). */
  setRetentionDays(days: number): Promise<void> {
    return this.serial(async () => {
      if (days === this.retentionDays) return;
      this.retentionDays = days;
      const s = this._store;
      const m = this.monitor;
      if (!s || this.disposed) return;
      // outcomes that arrive while the file is closed and reopened are kept and recorded after
      const buffered: Outcome[] = [];
      const hold = m?.on('changed', (b) => void buffered.push(...b.outcomes));
      try {
        await this.closeNow();
        const store = await HtlcStore.open({ ...this.opts.storeOptions, path: s.file, retentionDays: days, logger: this.opts.logger });
        this._store = store;
        this.subs.push(store.on('flushed', () => this.emitter.emit('change')), store.on('flushError', () => this.emitter.emit('change')));
        store.record(buffered);
        if (m) this.attach(store, m);
      } finally {
        hold?.dispose();
      }
      this.opts.logger.info(`history retention: ${days} days`);
      this.emitter.emit('change');
    });
  }

  /** Final flush and release of the file (stop, node change, deactivate). */
  close(): Promise<void> {
    return this.serial(() => this.closeNow());
  }

  private async closeNow(): Promise<void> {
    const s = this._store;
    if (!s) return;
    this.detach();
    for (const d of this.subs) d.dispose();
    this.subs = [];
    this._store = undefined;
    await s.close();
    if (s.lastFlushError) this.opts.logger.warn(`history of ${s.file} could not be saved at close: ${s.lastFlushError.message}`);
    else if (!s.readOnly) this.opts.logger.info(`history saved to ${s.file}`);
    this.emitter.emit('change');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  dispose(): void {
    this.disposed = true;
    void this.close();
    this.emitter.clear();
  }
}
