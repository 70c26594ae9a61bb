/**
 * Persistent history for the monitor, in SQLite (sql.js, WebAssembly) kept in memory and written
 * to one file per node.
 *
 * - record()/attach() only queue outcomes and update in-memory totals (no SQL per event). Pending
 *   rows go into the in-memory database in one transaction when a flush runs, when a query needs
 *   them, or when maxPending is reached.
 * - flush() (every flushIntervalMs when something changed, and on close) applies the pending rows,
 *   enforces retention, exports the database and replaces the file atomically (see writeAtomic):
 *   a crash at any instant leaves the old or the new file, both readable; the previous one is kept
 *   as <file>.prev. A failed write is reported (lastFlushError, 'flushError', logger) and retried
 *   at the next interval; nothing recorded is lost meanwhile (it stays in the in-memory database).
 * - A file that is not our database is renamed to <file>.corrupt-<time> (never deleted), reported
 *   (movedAside, logger), and the store starts from <file>.prev when that is good, else empty.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlValue, Statement } from 'sql.js';
import { Disposable, Emitter, Logger, silentLogger } from '../emitter';
import type { HtlcMonitor, MonitorCounters } from '../monitor';
import type { FailureOutcome, Outcome, SuccessOutcome } from '../normalizer';
import { categoryOf, Category } from '../reasons';
import { formatScid } from '../scid';
import type { StatsEngine } from '../stats';
import { errorCode, FileLock, LockInfo, moveAside, nodeStoreFs, StoreFs, writeAtomic } from './fsio';
import { checkOurs, CURRENT_VERSION, getMeta, migrate, setMeta, userVersion } from './schema';
import { loadSqlJs } from './sqlite';
import { bigintReplacer, sqlToInt, sqlToStr, sqlToU64, u64ToSql } from './values';
import {
  addFailures,
  addSuccesses,
  ChannelWindow,
  compareTotals,
  DAY_MS,
  dayOf,
  emptyTotals,
  FailureSeries,
  mergeTotals,
  planWindow,
  RoutePairWindow,
  SeriesBucket,
  WINDOW_MS,
  WindowName,
  WindowReport,
  WindowTotals,
} from './windows';

export interface StoreOptions {
  logger?: Logger;
  /** Clock for retention and default window ends (tests). Default Date.now. */
  now?: () => number;
  /** Flush period when something changed; 0 disables the timer (flush()/close() only). Default 15 s. */
  flushIntervalMs?: number;
  /** Raw events (failures and successes) older than this are deleted at flush. Default 30 days. */
  retentionDays?: number;
  /** At most this many raw failure events (oldest deleted first). Default 100,000. */
  maxRawEvents?: number;
  /** At most this many raw success events. Default 50,000. */
  maxRawSuccesses?: number;
  /** Daily roll-ups older than this are deleted. Default 400 days. */
  rollupDays?: number;
  /** At most this many roll-up rows (failures + successes); whole oldest days go first. Default 600,000. */
  maxRollupRows?: number;
  /** Pending outcomes that trigger an early apply into the in-memory database. Default 20,000. */
  maxPending?: number;
  /** Never write, move or migrate the file (the CLI's export). A bad file throws StoreOpenError. */
  readOnly?: boolean;
  /** Keep <file>.prev (the previous flush). Default true. */
  keepPrevious?: boolean;
  /** Take <file>.lock; when another live process holds it, open read-only. Default true. */
  lock?: boolean;
  /** File operations used by flush (tests inject failures here). */
  fs?: Partial<StoreFs>;
  /** Explicit path of sql-wasm.wasm. */
  wasmPath?: string;
}

export const STORE_DEFAULTS = {
  flushIntervalMs: 15_000,
  retentionDays: 30,
  maxRawEvents: 50_000,
  maxRawSuccesses: 20_000,
  rollupDays: 400,
  maxRollupRows: 400_000,
  maxPending: 20_000,
} as const;

export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

export interface FlushInfo {
  /** Whole flush (apply + retention + export + write). */
  durationMs: number;
  applyMs: number;
  exportMs: number;
  writeMs: number;
  bytes: number;
}

export interface StoreEvents {
  flushed: (info: FlushInfo) => void;
  flushError: (err: Error) => void;
  /** Something the user should know (a file moved aside, another node's file, a lock). */
  warning: (message: string) => void;
}

/** A failure as the store keeps it: the normaliser's outcome (without kind and ns) and its row id. */
export type StoredFailure = Omit<FailureOutcome, 'kind' | 'timestampNs'> & { id: number };

export interface FailureQuery {
  window?: WindowName;
  /** Newest first, at most this many. Default 1,000. */
  limit?: number;
  /** Outgoing channel. */
  channel?: bigint;
  incomingChannel?: bigint;
  nowMs?: number;
}

export interface StoreSizes {
  rawFailures: number;
  rawSuccesses: number;
  rollupFailureRows: number;
  rollupSuccessRows: number;
  channels: number;
  pending: number;
  /** Size of the last file written or read. */
  fileBytes: number;
}

export interface RestoreInfo {
  channels: number;
  /** Channels not restored because the engine holds fewer (the least recently active). */
  skipped: number;
  recentFailures: number;
}

interface ChannelTotals {
  chanId: bigint;
  firstSeenMs: number;
  lastFailureMs: number;
  lastActivityMs: number;
  failed: number;
  succeeded: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  earnedFeesMsat: bigint;
  reasons: Map<string, { count: number; missedFeesMsat: bigint; missedAmountMsat: bigint }>;
}

interface NodeTotals {
  failed: number;
  succeeded: number;
  incomingLinkFailures: number;
  missedFeesMsat: bigint;
  missedAmountMsat: bigint;
  earnedFeesMsat: bigint;
  failuresByReason: Map<string, number>;
}

type CounterMap = Record<string, number>;

const TABLES = ['failure_events', 'success_events', 'rollup_failures', 'rollup_successes'] as const;
type Table = (typeof TABLES)[number];

/** Raw rows are applied in chunks so one statement never binds an unbounded batch. */
const SOURCE_CODE = { link: 0, downstream: 1 } as const;

/** `<folder>/htlc-<first 16 hex of the pubkey>.sqlite`; the pubkey must be a 33-byte hex key. */
export function storePathFor(folder: string, pubkey: string): string {
  if (typeof pubkey !== 'string' || !/^[0-9a-fA-F]{66}$/.test(pubkey)) throw new RangeError('node pubkey must be 66 hex characters');
  return path.join(folder, `htlc-${pubkey.slice(0, 16).toLowerCase()}.sqlite`);
}

export class HtlcStore implements Disposable {
  /** Where a file that was not our database went, when that happened at open. */
  readonly movedAside: string | undefined;
  /** Set when the store started from <file>.prev. */
  readonly recoveredFrom: string | undefined;
  /** Schema version the file had before this open migrated it (undefined when none ran). */
  readonly migratedFrom: number | undefined;
  /** Another process's lock, when this store opened read-only because of it. */
  readonly lockedBy: LockInfo | undefined;
  readonly readOnly: boolean;
  lastFlushError: Error | undefined;
  lastFlushAt = 0;
  lastFlush: FlushInfo | undefined;
  flushCount = 0;

  private readonly emitter: Emitter<StoreEvents>;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly io: StoreFs;
  private readonly opts: Required<Pick<StoreOptions, 'retentionDays' | 'maxRawEvents' | 'maxRawSuccesses' | 'rollupDays' | 'maxRollupRows' | 'maxPending' | 'keepPrevious'>>;
  private readonly lock: FileLock | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private flushChain: Promise<unknown> = Promise.resolve();

  /** Keyed by the bigint itself: no decimal string per lookup (two per raw row). */
  private readonly chanRef = new Map<bigint, number>();
  private readonly chanById = new Map<number, bigint>();
  private readonly aliasByRef = new Map<number, string>();
  private readonly strRef = new Map<string, number>();
  private readonly strById = new Map<number, string>();
  private readonly totals = new Map<string, ChannelTotals>();
  private readonly node: NodeTotals;
  private readonly dirtyChannels = new Set<string>();
  private pendingFailures: FailureOutcome[] = [];
  private pendingSuccesses: SuccessOutcome[] = [];
  private nodeDirty = false;
  /** Something is in the in-memory database (or pending) that the file does not have. */
  private unsaved = false;
  private readonly counts: Record<Table, number>;
  /** The roll-up counts need taking again (rollupInSql does not know which rows were new). */
  private rollupRowsStale = false;
  private readonly completeSince: Record<Table, number>;
  private fileBytes: number;
  private pubkey: string | undefined;
  private monitor: HtlcMonitor | undefined;
  private readonly attachments = new Set<Disposable>();
  private readonly savedCounters: CounterMap;
  private lastCountersJson = '';
  /** Outcomes that arrived after close (not stored; counted so it is never silent). */
  droppedAfterClose = 0;

  private constructor(
    readonly file: string,
    private readonly db: Database,
    opts: StoreOptions,
    init: { movedAside?: string; recoveredFrom?: string; migratedFrom?: number; lockedBy?: LockInfo; readOnly: boolean; lock?: FileLock; fileBytes: number; unsaved: boolean },
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.emitter = new Emitter<StoreEvents>(this.logger);
    this.now = opts.now ?? Date.now;
    this.io = { ...nodeStoreFs, ...opts.fs };
    this.opts = {
      retentionDays: opts.retentionDays ?? STORE_DEFAULTS.retentionDays,
      maxRawEvents: opts.maxRawEvents ?? STORE_DEFAULTS.maxRawEvents,
      maxRawSuccesses: opts.maxRawSuccesses ?? STORE_DEFAULTS.maxRawSuccesses,
      rollupDays: opts.rollupDays ?? STORE_DEFAULTS.rollupDays,
      maxRollupRows: opts.maxRollupRows ?? STORE_DEFAULTS.maxRollupRows,
      maxPending: opts.maxPending ?? STORE_DEFAULTS.maxPending,
      keepPrevious: opts.keepPrevious ?? true,
    };
    this.movedAside = init.movedAside;
    this.recoveredFrom = init.recoveredFrom;
    this.migratedFrom = init.migratedFrom;
    this.lockedBy = init.lockedBy;
    this.readOnly = init.readOnly;
    this.lock = init.lock;
    this.fileBytes = init.fileBytes;
    this.unsaved = init.unsaved;
    this.applySessionPragmas();
    this.loadRefs();
    this.loadTotals();
    this.node = this.loadNode();
    this.counts = Object.fromEntries(TABLES.map((t) => [t, sqlToInt(this.db.exec(`SELECT count(*) FROM ${t}`)[0]?.values[0]?.[0])])) as Record<Table, number>;
    // -Infinity: nothing was ever deleted from that table
    this.completeSince = Object.fromEntries(
      TABLES.map((t) => {
        const v = Number(getMeta(this.db, `complete_since.${t}`) ?? NaN);
        return [t, Number.isFinite(v) ? v : -Infinity];
      }),
    ) as Record<Table, number>;
    this.pubkey = getMeta(this.db, 'node_pubkey');
    this.savedCounters = parseCounters(getMeta(this.db, 'counters'));
    const interval = opts.flushIntervalMs ?? STORE_DEFAULTS.flushIntervalMs;
    if (!this.readOnly && interval > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), interval);
      this.timer.unref?.();
    }
  }

  /**
   * Opens (or creates) the store at `file`. Never throws for a bad file unless readOnly: the file is
   * moved aside and reported instead.
   */
  static async open(file: string, opts?: StoreOptions): Promise<HtlcStore>;
  static async open(opts: StoreOptions & { path: string }): Promise<HtlcStore>;
  static async open(fileOrOpts: string | (StoreOptions & { path: string }), maybeOpts: StoreOptions = {}): Promise<HtlcStore> {
    const file = typeof fileOrOpts === 'string' ? fileOrOpts : fileOrOpts.path;
    const opts = typeof fileOrOpts === 'string' ? maybeOpts : fileOrOpts;
    if (typeof file !== 'string' || file === '') throw new TypeError('HtlcStore.open: a file path is required');
    const SQL = await loadSqlJs(opts.wasmPath);
    const logger = opts.logger ?? silentLogger;
    const now = opts.now ?? Date.now;
    let readOnly = Boolean(opts.readOnly);
    let lock: FileLock | undefined;
    let lockedBy: LockInfo | undefined;
    if (!readOnly) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (opts.lock ?? true) {
        lock = new FileLock(`${file}.lock`);
        lockedBy = lock.acquire();
        if (lockedBy) {
          lock = undefined;
          readOnly = true;
          logger.warn(`history file ${file} is in use by process ${lockedBy.pid} on ${lockedBy.host}; this session keeps its history in memory only (read-only)`);
        }
      }
    }

    const tryLoad = (p: string): { db?: Database; why?: string; bytes: number } => {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(p);
      } catch (err) {
        return { why: `unreadable (${(err as Error).message})`, bytes: 0 };
      }
      if (bytes.length === 0) return { why: 'an empty file', bytes: 0 };
      let db: Database | undefined;
      try {
        db = new SQL.Database(bytes);
        const why = checkOurs(db);
        if (why) {
          db.close();
          return { why, bytes: bytes.length };
        }
        return { db, bytes: bytes.length };
      } catch (err) {
        db?.close();
        return { why: `not a SQLite database (${(err as Error).message})`, bytes: bytes.length };
      }
    };

    let db: Database | undefined;
    let movedAside: string | undefined;
    let recoveredFrom: string | undefined;
    let fileBytes = 0;
    const prev = `${file}.prev`;
    try {
      if (fs.existsSync(file)) {
        const r = tryLoad(file);
        if (r.db) {
          db = r.db;
          fileBytes = r.bytes;
        } else if (opts.readOnly) {
          throw new StoreOpenError(`${file} is not an htlc-monitor history file: it is ${r.why}`);
        } else if (readOnly) {
          // Another process holds the lock: the file is its business; this session stays in memory.
          logger.warn(`${file} is ${r.why}; it is in use by another process, so it is left as it is`);
        } else {
          movedAside = moveAside(file, now());
          logger.warn(`${file} is ${r.why}; it was moved to ${movedAside} (nothing was deleted) and a new history file is started`);
        }
      } else if (opts.readOnly) {
        throw new StoreOpenError(`${file} does not exist`);
      }
      if (!db && !opts.readOnly && fs.existsSync(prev)) {
        const r = tryLoad(prev);
        if (r.db) {
          db = r.db;
          recoveredFrom = prev;
          logger.warn(`history restored from ${prev} (the state of the flush before the last one)`);
        }
      }
    } catch (err) {
      lock?.release();
      throw err;
    }
    const fresh = !db;
    db ??= new SQL.Database();
    let migratedFrom: number | undefined;
    try {
      const before = userVersion(db);
      if (before < CURRENT_VERSION) {
        if (before > 0 && !readOnly && fs.existsSync(file)) {
          // A copy of the file as the older version wrote it stays beside it (never deleted by us).
          const backup = `${file}.v${before}.bak`;
          if (!fs.existsSync(backup)) fs.copyFileSync(file, backup);
        }
        migrate(db, now());
        if (before > 0) {
          migratedFrom = before;
          logger.info(`history file migrated from schema version ${before} to ${CURRENT_VERSION}`);
        }
      }
    } catch (err) {
      db.close();
      lock?.release();
      throw err;
    }
    const init = { movedAside, recoveredFrom, migratedFrom, lockedBy, readOnly, lock, fileBytes, unsaved: fresh || migratedFrom !== undefined || recoveredFrom !== undefined };
    try {
      return new HtlcStore(file, db, opts, init);
    } catch (err) {
      // The schema is ours but the rows are not readable (damaged values): same policy as a bad file.
      db.close();
      const why = `unreadable history (${(err as Error).message})`;
      if (fresh || opts.readOnly || readOnly || recoveredFrom) {
        lock?.release();
        throw new StoreOpenError(`${recoveredFrom ?? file}: ${why}`);
      }
      const aside = moveAside(file, now());
      logger.warn(`${file} holds ${why}; it was moved to ${aside} (nothing was deleted) and a new history file is started`);
      const empty = new SQL.Database();
      migrate(empty, now());
      return new HtlcStore(file, empty, opts, { ...init, movedAside: aside, migratedFrom: undefined, fileBytes: 0, unsaved: true });
    }
  }

  on<K extends keyof StoreEvents>(event: K, listener: StoreEvents[K]): Disposable {
    return this.emitter.on(event, listener);
  }

  get nodePubkey(): string | undefined {
    return this.pubkey;
  }

  /** Rows and sizes, for status displays and the benchmark. */
  get sizes(): StoreSizes {
    const rollups = this.rollupRows();
    return {
      rawFailures: this.counts.failure_events + this.pendingFailures.length,
      rawSuccesses: this.counts.success_events + this.pendingSuccesses.length,
      rollupFailureRows: rollups.rollup_failures,
      rollupSuccessRows: rollups.rollup_successes,
      channels: this.totals.size,
      pending: this.pendingFailures.length + this.pendingSuccesses.length,
      fileBytes: this.fileBytes,
    };
  }

  /** Lifetime monitor counters saved by earlier sessions (plus this one, once attached and flushed). */
  get lifetimeCounters(): CounterMap {
    return this.currentCounters();
  }

  get dirty(): boolean {
    return this.unsaved || this.pendingFailures.length > 0 || this.pendingSuccesses.length > 0;
  }

  /**
   * The newest event time (ms) in the history, failures or successes, pending included; undefined
   * when empty. The ForwardingHistory backfill starts there after a restart.
   */
  newestEventMs(): number | undefined {
    this.ensureOpen();
    this.applyPending();
    let max = -Infinity;
    for (const t of ['failure_events', 'success_events'] as const) {
      const v = this.db.exec(`SELECT max(ts_ms) FROM ${t}`)[0]?.values[0]?.[0];
      if (v !== null && v !== undefined && sqlToInt(v) > max) max = sqlToInt(v);
    }
    return Number.isFinite(max) ? max : undefined;
  }

  /**
   * Raw successes at or after sinceMs, oldest first (at most `limit`, the newest kept), so the
   * backfill can tell a ForwardingHistory entry counted before a restart (no htlc ids are stored:
   * matched by channels, time and amounts; amounts 0/0 mean unknown).
   */
  successesSince(sinceMs: number, limit = 10_000): { incomingChanId: bigint; outgoingChanId: bigint; timestampMs: number; incomingAmtMsat: bigint; outgoingAmtMsat: bigint; amountsKnown: boolean }[] {
    this.ensureOpen();
    this.applyPending();
    const rows = this.all('SELECT ts_ms, in_ref, out_ref, in_amt_msat, out_amt_msat FROM success_events WHERE ts_ms >= ? ORDER BY ts_ms DESC, id DESC LIMIT ?', [sinceMs, limit], (r) => {
      const inAmt = sqlToU64(r[3]);
      const outAmt = sqlToU64(r[4]);
      return {
        timestampMs: sqlToInt(r[0]),
        incomingChanId: this.chanById.get(sqlToInt(r[1])) ?? 0n,
        outgoingChanId: this.chanById.get(sqlToInt(r[2])) ?? 0n,
        incomingAmtMsat: inAmt,
        outgoingAmtMsat: outAmt,
        amountsKnown: inAmt !== 0n || outAmt !== 0n,
      };
    });
    return rows.reverse();
  }

  // ---------------------------------------------------------------------------------------------
  // Recording

  /** Queues outcomes (in stream order) and updates the totals; no SQL runs here. */
  record(outcomes: readonly Outcome[]): void {
    if (this.closed) {
      this.droppedAfterClose += outcomes.length;
      return;
    }
    for (const o of outcomes) {
      if (o.kind === 'failure') this.recordFailure(o);
      else this.recordSuccess(o);
    }
    if (outcomes.length) this.unsaved = true;
    if (this.pendingFailures.length + this.pendingSuccesses.length >= this.opts.maxPending) this.applyPending();
  }

  /** Records every batch the monitor processes, its node's pubkey and its counters. */
  attach(monitor: HtlcMonitor): Disposable {
    const subs = [
      monitor.on('changed', (batch) => this.record(batch.outcomes)),
      monitor.on('node', (info) => this.setNode(info.identity_pubkey)),
    ];
    this.monitor = monitor;
    if (monitor.nodeInfo?.identity_pubkey) this.setNode(monitor.nodeInfo.identity_pubkey);
    const d: Disposable = {
      dispose: () => {
        if (!this.attachments.delete(d)) return;
        for (const s of subs) s.dispose();
        if (this.monitor === monitor) {
          this.captureCounters();
          this.monitor = undefined;
        }
      },
    };
    this.attachments.add(d);
    return d;
  }

  /** Remembers which node this file belongs to; warns when it is another node's file. */
  setNode(pubkey: string | undefined): void {
    if (!pubkey || this.closed) return;
    if (this.pubkey && this.pubkey !== pubkey) {
      const msg = `history file ${this.file} belongs to node ${this.pubkey.slice(0, 16)}…, but the monitor is connected to ${pubkey.slice(0, 16)}…; both nodes' forwards are now mixed in it`;
      this.logger.warn(msg);
      this.emitter.emit('warning', msg);
      return;
    }
    if (this.pubkey === pubkey) return;
    this.pubkey = pubkey;
    setMeta(this.db, 'node_pubkey', pubkey);
    this.unsaved = true;
  }

  /** Stores channel aliases (peer-chosen, attacker-controlled: shown and exported escaped). */
  setAliases(aliases: Iterable<[string, string]>): void {
    if (this.closed) return;
    const st = this.db.prepare('UPDATE chan SET alias = ? WHERE ref = ?');
    try {
      this.db.run('BEGIN');
      for (const [id, alias] of aliases) {
        let chanId: bigint;
        try {
          chanId = BigInt(id);
        } catch {
          continue;
        }
        const ref = this.refOf(chanId, []);
        const clean = String(alias).slice(0, 256);
        if (this.aliasByRef.get(ref) === clean) continue;
        st.run([clean, ref]);
        this.aliasByRef.set(ref, clean);
        this.unsaved = true;
      }
      this.db.run('COMMIT');
    } catch (err) {
      this.db.run('ROLLBACK');
      this.reloadRefs();
      throw err;
    } finally {
      st.free();
    }
  }

  alias(chanId: bigint): string | undefined {
    const ref = this.chanRef.get(chanId);
    return ref === undefined ? undefined : this.aliasByRef.get(ref);
  }

  private touch(chanId: bigint, tsMs: number): ChannelTotals {
    const key = chanId.toString();
    let ch = this.totals.get(key);
    if (!ch) {
      const first = tsMs || this.now();
      ch = {
        chanId,
        firstSeenMs: first,
        lastFailureMs: 0,
        lastActivityMs: first,
        failed: 0,
        succeeded: 0,
        missedFeesMsat: 0n,
        missedAmountMsat: 0n,
        earnedFeesMsat: 0n,
        reasons: new Map(),
      };
      this.totals.set(key, ch);
    }
    ch.lastActivityMs = Math.max(ch.lastActivityMs, tsMs);
    this.dirtyChannels.add(key);
    return ch;
  }

  // Mirrors StatsEngine.apply / NodeStats.recordFailure exactly, so a restore is the same state.
  private recordFailure(o: FailureOutcome): void {
    this.pendingFailures.push(o);
    const n = this.node;
    n.failed++;
    if (o.outgoingChanId === 0n) n.incomingLinkFailures++;
    n.missedFeesMsat += o.missedFeeMsat;
    if (o.missedFeeMsat > 0n) n.missedAmountMsat += o.outgoingAmtMsat;
    n.failuresByReason.set(o.reason, (n.failuresByReason.get(o.reason) ?? 0) + 1);
    this.nodeDirty = true;
    if (o.outgoingChanId === 0n) return;
    const ch = this.touch(o.outgoingChanId, o.timestampMs);
    ch.failed++;
    ch.lastFailureMs = Math.max(ch.lastFailureMs, o.timestampMs);
    let r = ch.reasons.get(o.reason);
    if (!r) {
      r = { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n };
      ch.reasons.set(o.reason, r);
    }
    r.count++;
    if (o.missedFeeMsat > 0n) {
      ch.missedFeesMsat += o.missedFeeMsat;
      ch.missedAmountMsat += o.outgoingAmtMsat;
      r.missedFeesMsat += o.missedFeeMsat;
      r.missedAmountMsat += o.outgoingAmtMsat;
    }
  }

  private recordSuccess(o: SuccessOutcome): void {
    this.pendingSuccesses.push(o);
    this.node.succeeded++;
    this.node.earnedFeesMsat += o.feeMsat;
    this.nodeDirty = true;
    if (o.outgoingChanId === 0n) return;
    const ch = this.touch(o.outgoingChanId, o.timestampMs);
    ch.succeeded++;
    ch.earnedFeesMsat += o.feeMsat;
  }

  // ---------------------------------------------------------------------------------------------
  // Restoring

  /**
   * Replaces the engine's state with the stored one: channels with their totals (the most recently
   * active ones, up to engine.maxChannels), failures by reason with missed fees, the recent-failure
   * rings from the newest raw events, and the node totals (its per-minute counts from raw events of
   * the last 24 h).
   */
  restoreInto(engine: StatsEngine): RestoreInfo {
    this.ensureOpen();
    this.applyPending();
    engine.reset();
    const all = [...this.totals.values()].sort((a, b) => a.lastActivityMs - b.lastActivityMs || (a.chanId < b.chanId ? -1 : 1));
    const kept = all.slice(Math.max(0, all.length - engine.maxChannels));
    const byRef = new Map<number, ReturnType<StatsEngine['createChannel']>>();
    const restored: ReturnType<StatsEngine['createChannel']>[] = [];
    for (const t of kept) {
      const ch = engine.createChannel(t.chanId, t.firstSeenMs);
      ch.failedForwards = t.failed;
      ch.successfulForwards = t.succeeded;
      ch.missedFeesMsat = t.missedFeesMsat;
      ch.missedAmountMsat = t.missedAmountMsat;
      ch.earnedFeesMsat = t.earnedFeesMsat;
      ch.lastFailureAtMs = t.lastFailureMs;
      ch.lastActivityMs = t.lastActivityMs;
      for (const [reason, r] of t.reasons) ch.failuresByReason.set(reason, { ...r });
      const ref = this.chanRef.get(t.chanId);
      if (ref !== undefined) byRef.set(ref, ch);
      restored.push(ch);
    }
    // One pass over the raw failures in stream order: rings keep their newest entries, and the
    // node's per-minute counts get the last 24 h.
    const minuteFrom = this.now() - DAY_MS;
    const st = this.db.prepare(`SELECT ${FAILURE_COLUMNS} FROM failure_events ORDER BY id`);
    try {
      while (st.step()) {
        const f = this.readFailure(st.get());
        const ch = byRef.get(this.chanRef.get(f.outgoingChanId) ?? -1);
        ch?.recent.push(f);
        if (f.timestampMs >= minuteFrom) engine.node.recordFailure(toOutcome(f));
      }
    } finally {
      st.free();
    }
    for (const ch of restored) engine.restore(ch);
    const n = engine.node;
    n.failedForwards = this.node.failed;
    n.successfulForwards = this.node.succeeded;
    n.incomingLinkFailures = this.node.incomingLinkFailures;
    n.missedFeesMsat = this.node.missedFeesMsat;
    n.missedAmountMsat = this.node.missedAmountMsat;
    n.earnedFeesMsat = this.node.earnedFeesMsat;
    n.failuresByReason.clear();
    for (const [r, c] of this.node.failuresByReason) n.failuresByReason.set(r, c);
    engine.version++;
    return { channels: restored.length, skipped: all.length - kept.length, recentFailures: restored.reduce((sum, ch) => sum + ch.recent.size, 0) };
  }

  // ---------------------------------------------------------------------------------------------
  // Applying and flushing

  /**
   * Writes pending rows, roll-ups and dirty totals into the in-memory database in one transaction
   * (no file I/O). Queries call it first so their answers include what is not yet flushed.
   */
  applyPending(): void {
    if (this.closed) return;
    const failures = this.pendingFailures;
    const successes = this.pendingSuccesses;
    if (!failures.length && !successes.length && !this.dirtyChannels.size && !this.nodeDirty) return;
    const newRefs: bigint[] = [];
    const stmts: Statement[] = [];
    const prep = (sql: string) => {
      const s = this.db.prepare(sql);
      stmts.push(s);
      return s;
    };
    this.db.run('BEGIN');
    try {
      if (failures.length) this.insertFailures(failures, newRefs, prep);
      if (successes.length) this.insertSuccesses(successes, newRefs, prep);

      const putCh = prep(`INSERT OR REPLACE INTO channel_totals (out_ref, first_seen_ms, last_failure_ms, last_activity_ms, failed, succeeded,
        missed_fees_msat, missed_amount_msat, earned_fees_msat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ${U(7)}, ${U(8)}, ${U(9)})`);
      const putReason = prep(`INSERT OR REPLACE INTO channel_reason_totals (out_ref, reason_ref, count, missed_fees_msat, missed_amount_msat, ord)
        VALUES (?1, ?2, ?3, ${U(4)}, ${U(5)}, ?6)`);
      for (const key of this.dirtyChannels) {
        const t = this.totals.get(key);
        if (!t) continue;
        const ref = this.refOf(t.chanId, newRefs);
        putCh.run([ref, t.firstSeenMs, t.lastFailureMs, t.lastActivityMs, t.failed, t.succeeded, u64ToSql(t.missedFeesMsat), u64ToSql(t.missedAmountMsat), u64ToSql(t.earnedFeesMsat)]);
        // ord keeps the order in which the channel first saw each reason (topReason breaks ties by it)
        let ord = 0;
        for (const [reason, r] of t.reasons) putReason.run([ref, this.strOf(reason), r.count, u64ToSql(r.missedFeesMsat), u64ToSql(r.missedAmountMsat), ord++]);
      }
      if (this.nodeDirty) setMeta(this.db, 'node_totals', JSON.stringify(nodeToJson(this.node)));
      this.db.run('COMMIT');
    } catch (err) {
      try {
        this.db.run('ROLLBACK');
      } catch {
        // the transaction is already gone
      }
      for (const key of newRefs) this.chanRef.delete(key);
      this.reloadRefs();
      this.counts.failure_events = this.countRows('failure_events');
      this.counts.success_events = this.countRows('success_events');
      this.counts.rollup_failures = this.countRows('rollup_failures');
      this.counts.rollup_successes = this.countRows('rollup_successes');
      this.rollupRowsStale = false;
      throw err;
    } finally {
      for (const s of stmts) s.free();
    }
    this.pendingFailures = [];
    this.pendingSuccesses = [];
    this.dirtyChannels.clear();
    this.nodeDirty = false;
    this.unsaved = true;
  }

  /**
   * The raw rows (RawInserter), then their roll-ups. A bulk batch's roll-ups are added in SQL from
   * the rows just inserted (rollupInSql: one statement, no row through JS) when every summed amount
   * is a number and every day is dayOf(); otherwise, or when SQL cannot add a stored value exactly,
   * here in bigint with a read and a write per key (addToRollup).
   */
  private insertFailures(failures: readonly FailureOutcome[], newRefs: bigint[], prep: (sql: string) => Statement): void {
    const bulk = failures.length >= BULK_ROWS;
    const firstId = bulk ? this.maxId('failure_events') + 1 : 0;
    const ins = new RawInserter(prep, INSERT_FAILURE, bulk);
    const p = ins.row;
    let sqlRollups = true;
    for (const o of failures) {
      const ts = o.timestampMs;
      const fee = u64ToSql(o.missedFeeMsat);
      const outAmt = u64ToSql(o.outgoingAmtMsat);
      p[0] = ts;
      // outgoing first: new channels get their refs in the order they always did
      p[2] = this.refOf(o.outgoingChanId, newRefs);
      p[1] = this.refOf(o.incomingChanId, newRefs);
      p[3] = u64ToSql(o.incomingHtlcId);
      p[4] = u64ToSql(o.outgoingHtlcId);
      p[5] = u64ToSql(o.incomingAmtMsat);
      p[6] = outAmt;
      p[7] = fee;
      p[8] = this.strOf(o.reason);
      p[9] = this.strOf(o.wireFailure);
      p[10] = this.strOf(o.failureDetail);
      p[11] = SOURCE_CODE[o.source];
      p[12] = o.amountsKnown ? 1 : 0;
      const fref = this.failureStringRef(o.failureString);
      p[13] = fref;
      p[14] = fref === 0 ? o.failureString : null;
      if (typeof fee !== 'number' || typeof outAmt !== 'number' || !(ts >= 0 && Number.isSafeInteger(ts))) sqlRollups = false;
      ins.add(typeof fee === 'number' && typeof outAmt === 'number' && typeof p[3] === 'number' && typeof p[4] === 'number' && typeof p[5] === 'number');
    }
    ins.finish();
    this.counts.failure_events += failures.length;
    if (bulk && sqlRollups && this.rollupInSql(ROLLUP_FAILURES, firstId)) return;
    const sums = new RollupSums();
    for (const o of failures) {
      const key = [dayOf(o.timestampMs), this.refOf(o.outgoingChanId, newRefs), this.refOf(o.incomingChanId, newRefs), this.strOf(o.reason)];
      sums.add(key, o.missedFeeMsat, o.missedFeeMsat > 0n ? o.outgoingAmtMsat : 0n);
    }
    this.counts.rollup_failures += sums.addTo(
      prep('SELECT count, missed_fees_msat, missed_amount_msat FROM rollup_failures WHERE day = ? AND out_ref = ? AND in_ref = ? AND reason_ref = ?'),
      prep(`INSERT OR REPLACE INTO rollup_failures (day, out_ref, in_ref, reason_ref, count, missed_fees_msat, missed_amount_msat)
        VALUES (?1, ?2, ?3, ?4, ?5, ${U(6)}, ${U(7)})`),
    );
  }

  /** As insertFailures. */
  private insertSuccesses(successes: readonly SuccessOutcome[], newRefs: bigint[], prep: (sql: string) => Statement): void {
    const bulk = successes.length >= BULK_ROWS;
    const firstId = bulk ? this.maxId('success_events') + 1 : 0;
    const ins = new RawInserter(prep, INSERT_SUCCESS, bulk);
    const p = ins.row;
    let sqlRollups = true;
    for (const o of successes) {
      const ts = o.timestampMs;
      const outAmt = u64ToSql(o.outgoingAmtMsat);
      const fee = u64ToSql(o.feeMsat);
      p[0] = ts;
      p[2] = this.refOf(o.outgoingChanId, newRefs);
      p[1] = this.refOf(o.incomingChanId, newRefs);
      p[3] = u64ToSql(o.incomingAmtMsat);
      p[4] = outAmt;
      p[5] = fee;
      if (typeof fee !== 'number' || typeof outAmt !== 'number' || !(ts >= 0 && Number.isSafeInteger(ts))) sqlRollups = false;
      ins.add(typeof fee === 'number' && typeof outAmt === 'number' && typeof p[3] === 'number');
    }
    ins.finish();
    this.counts.success_events += successes.length;
    if (bulk && sqlRollups && this.rollupInSql(ROLLUP_SUCCESSES, firstId)) return;
    const sums = new RollupSums();
    for (const o of successes) {
      sums.add([dayOf(o.timestampMs), this.refOf(o.outgoingChanId, newRefs), this.refOf(o.incomingChanId, newRefs)], o.feeMsat, o.outgoingAmtMsat);
    }
    this.counts.rollup_successes += sums.addTo(
      prep('SELECT count, fees_msat, amount_msat FROM rollup_successes WHERE day = ? AND out_ref = ? AND in_ref = ?'),
      prep(`INSERT OR REPLACE INTO rollup_successes (day, out_ref, in_ref, count, fees_msat, amount_msat) VALUES (?1, ?2, ?3, ?4, ${U(5)}, ${U(6)})`),
    );
  }

  /**
   * Adds the raw rows from id `firstId` on to their roll-ups in one statement (see rollupUpsert).
   * Returns false when a stored roll-up value is one SQL cannot add as addToRollup would: the
   * statement has then failed on its NOT NULL count and SQLite has undone it (the transaction
   * stays), and the caller adds in bigint. Which rows are new is not known here: the roll-up row
   * counts are taken again when next needed (rollupRows).
   */
  private rollupInSql(sql: RollupUpsert, firstId: number): boolean {
    try {
      this.db.run(sql.upsert, [firstId]);
    } catch (err) {
      if (!String((err as Error).message).includes(`NOT NULL constraint failed: ${sql.table}.count`)) throw err;
      return false;
    }
    this.rollupRowsStale = true;
    return true;
  }

  /** Row counts of the roll-up tables (current again after rollupInSql). */
  private rollupRows(): Record<'rollup_failures' | 'rollup_successes', number> {
    if (this.rollupRowsStale && !this.closed) {
      this.counts.rollup_failures = this.countRows('rollup_failures');
      this.counts.rollup_successes = this.countRows('rollup_successes');
      this.rollupRowsStale = false;
    }
    return this.counts;
  }

  private maxId(table: 'failure_events' | 'success_events'): number {
    return sqlToInt(this.db.exec(`SELECT coalesce(max(id), 0) FROM ${table}`)[0]?.values[0]?.[0]);
  }

  /**
   * Applies pending rows, enforces retention, and replaces the file (see writeAtomic). Resolves
   * with what it did, or undefined when nothing had changed or the store is read-only. A write
   * error is reported (lastFlushError, 'flushError', logger) and rethrown; the next flush retries.
   */
  flush(): Promise<FlushInfo | undefined> {
    const run = this.flushChain.then(() => this.flushNow());
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  private async flushNow(): Promise<FlushInfo | undefined> {
    if (this.closed || this.readOnly) return undefined;
    this.captureCounters();
    if (!this.dirty) return undefined;
    const t0 = performance.now();
    let bytes: Uint8Array;
    let applyMs: number;
    let exportMs: number;
    try {
      this.applyPending();
      this.enforceRetention(this.now());
      applyMs = performance.now() - t0;
      bytes = this.db.export();
      this.applySessionPragmas();
      exportMs = performance.now() - t0 - applyMs;
      this.unsaved = false;
    } catch (err) {
      this.reportFlushError(err as Error);
      throw err;
    }
    const tw = performance.now();
    try {
      await writeAtomic(this.io, this.file, bytes, this.opts.keepPrevious);
    } catch (err) {
      this.unsaved = true; // everything is still in the in-memory database; the next flush retries
      this.reportFlushError(err as Error);
      throw err;
    }
    const writeMs = performance.now() - tw;
    const info: FlushInfo = { durationMs: performance.now() - t0, applyMs, exportMs, writeMs, bytes: bytes.byteLength };
    this.fileBytes = bytes.byteLength;
    this.lastFlush = info;
    this.lastFlushAt = this.now();
    this.flushCount++;
    if (this.lastFlushError) this.logger.info(`history saved again to ${this.file}`);
    this.lastFlushError = undefined;
    this.emitter.emit('flushed', info);
    return info;
  }

  private reportFlushError(err: Error): void {
    const code = errorCode(err);
    const hint =
      code === 'ENOSPC' ? ' (the disk is full)' : code === 'EACCES' || code === 'EPERM' ? ' (permission denied)' : code === 'EROFS' ? ' (read-only file system)' : '';
    const first = !this.lastFlushError;
    this.lastFlushError = err;
    // Logged once per outage; every failure still emits 'flushError'.
    if (first) this.logger.warn(`could not save history to ${this.file}${hint}: ${err.message}. Statistics keep counting in memory; retrying at the next flush.`);
    this.emitter.emit('flushError', err);
  }

  /** Final flush, then releases the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const d of [...this.attachments]) d.dispose();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.flush();
    } catch {
      // reported by flush; the file keeps its last good state
    } finally {
      try {
        this.rollupRows(); // sizes stay answerable after close
      } catch {
        // the counts keep their last values
      }
      this.closed = true;
      this.lock?.release();
      this.db.close();
    }
  }

  dispose(): void {
    void this.close();
  }

  private enforceRetention(nowMs: number): void {
    const rawCutoff = nowMs - this.opts.retentionDays * DAY_MS;
    const dayCutoff = dayOf(nowMs) - this.opts.rollupDays;
    this.rollupRows();
    this.db.run('BEGIN');
    try {
      this.trimRaw('failure_events', rawCutoff, this.opts.maxRawEvents);
      this.trimRaw('success_events', rawCutoff, this.opts.maxRawSuccesses);
      for (const t of ['rollup_failures', 'rollup_successes'] as const) {
        const maxDay = sqlToInt(this.db.exec(`SELECT max(day) FROM ${t} WHERE day < ?`, [dayCutoff])[0]?.values[0]?.[0] ?? null);
        this.db.run(`DELETE FROM ${t} WHERE day < ?`, [dayCutoff]);
        const n = this.db.getRowsModified();
        if (n > 0) {
          this.counts[t] -= n;
          this.raiseCompleteSince(t, (maxDay + 1) * DAY_MS);
        }
      }
      // Row cap: whole oldest days go first (never today), from both roll-up tables together.
      const today = dayOf(nowMs);
      while (this.counts.rollup_failures + this.counts.rollup_successes > this.opts.maxRollupRows) {
        const oldest = sqlToInt(
          this.db.exec('SELECT min(d) FROM (SELECT min(day) AS d FROM rollup_failures UNION ALL SELECT min(day) FROM rollup_successes)')[0]?.values[0]?.[0] ?? null,
        );
        if (oldest >= today) break;
        for (const t of ['rollup_failures', 'rollup_successes'] as const) {
          this.db.run(`DELETE FROM ${t} WHERE day = ?`, [oldest]);
          this.counts[t] -= this.db.getRowsModified();
          this.raiseCompleteSince(t, (oldest + 1) * DAY_MS);
        }
      }
      this.db.run('COMMIT');
    } catch (err) {
      this.db.run('ROLLBACK');
      for (const t of TABLES) this.counts[t] = this.countRows(t);
      throw err;
    }
  }

  private trimRaw(table: 'failure_events' | 'success_events', cutoffMs: number, maxRows: number): void {
    const oldMax = this.db.exec(`SELECT max(ts_ms) FROM ${table} WHERE ts_ms < ?`, [cutoffMs])[0]?.values[0]?.[0];
    if (oldMax !== null && oldMax !== undefined) {
      this.db.run(`DELETE FROM ${table} WHERE ts_ms < ?`, [cutoffMs]);
      this.counts[table] -= this.db.getRowsModified();
      this.raiseCompleteSince(table, sqlToInt(oldMax) + 1);
    }
    const excess = this.counts[table] - maxRows;
    if (excess > 0) {
      const boundary = sqlToInt(this.db.exec(`SELECT ts_ms FROM ${table} ORDER BY ts_ms, id LIMIT 1 OFFSET ?`, [excess - 1])[0]?.values[0]?.[0]);
      this.db.run(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} ORDER BY ts_ms, id LIMIT ?)`, [excess]);
      this.counts[table] -= this.db.getRowsModified();
      this.raiseCompleteSince(table, boundary + 1);
    }
  }

  private raiseCompleteSince(table: Table, ms: number): void {
    if (ms <= this.completeSince[table]) return;
    this.completeSince[table] = ms;
    setMeta(this.db, `complete_since.${table}`, String(ms));
  }

  private countRows(t: Table): number {
    return sqlToInt(this.db.exec(`SELECT count(*) FROM ${t}`)[0]?.values[0]?.[0]);
  }

  /**
   * Connection settings that are not stored in the file. Re-applied after every export: older
   * sql.js versions closed and reopened the database in export(), which reset them (and freed
   * prepared statements — so no statement is kept across a flush, they are prepared per use).
   */
  private applySessionPragmas(): void {
    this.db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF');
  }

  private captureCounters(): void {
    if (!this.monitor || this.closed) return;
    const json = JSON.stringify(this.currentCounters());
    if (json === this.lastCountersJson) return;
    this.lastCountersJson = json;
    setMeta(this.db, 'counters', json);
    this.unsaved = true;
  }

  private currentCounters(): CounterMap {
    const out: CounterMap = { ...this.savedCounters };
    const live = this.monitor?.counters as MonitorCounters | undefined;
    if (live) for (const [k, v] of Object.entries(live)) if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /**
   * Forgets the history ("Reset Statistics"): empties the event, roll-up and totals tables and the
   * saved node totals and counters; keeps the schema, the node's pubkey, interned ids and aliases.
   * The file is rewritten at the next flush.
   */
  reset(): void {
    this.ensureOpen();
    this.pendingFailures = [];
    this.pendingSuccesses = [];
    this.dirtyChannels.clear();
    this.db.run('BEGIN');
    try {
      for (const t of [...TABLES, 'channel_totals', 'channel_reason_totals']) this.db.run(`DELETE FROM ${t}`);
      this.db.run("DELETE FROM meta WHERE key IN ('node_totals', 'counters') OR key LIKE 'complete_since.%'");
      this.db.run('COMMIT');
    } catch (err) {
      this.db.run('ROLLBACK');
      throw err;
    }
    this.totals.clear();
    Object.assign(this.node, { failed: 0, succeeded: 0, incomingLinkFailures: 0, missedFeesMsat: 0n, missedAmountMsat: 0n, earnedFeesMsat: 0n });
    this.node.failuresByReason.clear();
    this.nodeDirty = false;
    for (const t of TABLES) {
      this.counts[t] = 0;
      this.completeSince[t] = -Infinity;
    }
    this.rollupRowsStale = false;
    for (const k of Object.keys(this.savedCounters)) delete this.savedCounters[k];
    this.lastCountersJson = '';
    this.unsaved = true;
  }

  /** The earliest time the history knows of (a channel first seen, or the oldest raw event); undefined when empty. */
  historyStartMs(): number | undefined {
    this.ensureOpen();
    this.applyPending();
    let min = Infinity;
    for (const t of this.totals.values()) if (t.firstSeenMs > 0 && t.firstSeenMs < min) min = t.firstSeenMs;
    for (const t of ['failure_events', 'success_events'] as const) {
      const v = this.db.exec(`SELECT min(ts_ms) FROM ${t}`)[0]?.values[0]?.[0];
      if (v !== null && v !== undefined && sqlToInt(v) < min) min = sqlToInt(v);
    }
    return Number.isFinite(min) ? min : undefined;
  }

  /** The newest raw failure per (incoming, outgoing) pair within the window. */
  lastFailures(window: WindowName, nowMs = this.now()): { incomingChanId: bigint; outgoingChanId: bigint; lastMs: number }[] {
    this.ensureOpen();
    this.applyPending();
    const since = window === 'all' ? Number.MIN_SAFE_INTEGER : nowMs - WINDOW_MS[window];
    return this.all('SELECT in_ref, out_ref, max(ts_ms) FROM failure_events WHERE ts_ms >= ? GROUP BY out_ref, in_ref', [since], (r) => ({
      incomingChanId: this.chanById.get(sqlToInt(r[0])) ?? 0n,
      outgoingChanId: this.chanById.get(sqlToInt(r[1])) ?? 0n,
      lastMs: sqlToInt(r[2]),
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (they apply pending rows first, so unflushed outcomes are included)

  /** Per outgoing channel (channel 0 excluded: it is in `node`). Ranked like the StatsEngine. */
  windows(window: WindowName, nowMs = this.now()): WindowReport<ChannelWindow> {
    const { plan, complete, pairs } = this.aggregate(window, nowMs);
    const node = emptyTotals();
    const byOut = new Map<number, WindowTotals>();
    for (const p of pairs) {
      mergeTotals(node, p.totals);
      if (this.chanById.get(p.out) === 0n) continue;
      let t = byOut.get(p.out);
      if (!t) byOut.set(p.out, (t = emptyTotals()));
      mergeTotals(t, p.totals);
    }
    const rows: ChannelWindow[] = [...byOut].map(([ref, t]) => {
      const chanId = this.chanById.get(ref) ?? 0n;
      return { ...t, chanId, key: chanId.toString(), scid: formatScid(chanId), alias: this.aliasByRef.get(ref) };
    });
    rows.sort((a, b) => compareTotals(a, b) || (a.chanId < b.chanId ? -1 : a.chanId > b.chanId ? 1 : 0));
    return { window, nowMs, sinceMs: plan.sinceMs, complete, rows, node };
  }

  /** Per (incoming → outgoing) pair; outgoing 0 means it failed on the incoming link. */
  routePairs(window: WindowName, nowMs = this.now()): WindowReport<RoutePairWindow> {
    const { plan, complete, pairs } = this.aggregate(window, nowMs);
    const node = emptyTotals();
    const rows: RoutePairWindow[] = [];
    for (const p of pairs) {
      mergeTotals(node, p.totals);
      const outgoingChanId = this.chanById.get(p.out) ?? 0n;
      const incomingChanId = this.chanById.get(p.inn) ?? 0n;
      rows.push({
        ...p.totals,
        incomingChanId,
        outgoingChanId,
        incomingScid: formatScid(incomingChanId),
        outgoingScid: formatScid(outgoingChanId),
        incomingAlias: this.aliasByRef.get(p.inn),
        outgoingAlias: this.aliasByRef.get(p.out),
      });
    }
    rows.sort(
      (a, b) =>
        compareTotals(a, b) ||
        (a.outgoingChanId < b.outgoingChanId ? -1 : a.outgoingChanId > b.outgoingChanId ? 1 : 0) ||
        (a.incomingChanId < b.incomingChanId ? -1 : a.incomingChanId > b.incomingChanId ? 1 : 0),
    );
    return { window, nowMs, sinceMs: plan.sinceMs, complete, rows, node };
  }

  /** Raw failure events in the window, newest first. */
  failures(q: FailureQuery = {}): StoredFailure[] {
    this.ensureOpen();
    this.applyPending();
    const nowMs = q.nowMs ?? this.now();
    const window = q.window ?? '24h';
    const since = window === 'all' ? Number.MIN_SAFE_INTEGER : nowMs - WINDOW_MS[window];
    const limit = Math.max(0, Math.min(q.limit ?? 1000, 1_000_000));
    const where = ['ts_ms >= ?'];
    const params: SqlValue[] = [since];
    for (const [col, id] of [['out_ref', q.channel], ['in_ref', q.incomingChannel]] as const) {
      if (id === undefined) continue;
      const ref = this.chanRef.get(id);
      if (ref === undefined) return [];
      where.push(`${col} = ?`);
      params.push(ref);
    }
    params.push(limit);
    return this.all(`SELECT ${FAILURE_COLUMNS} FROM failure_events WHERE ${where.join(' AND ')} ORDER BY ts_ms DESC, id DESC LIMIT ?`, params, (r) => this.readFailure(r));
  }

  /**
   * Failures per bucket by reason. Buckets are multiples of bucketMs since the epoch (UTC); the first
   * is the one containing the window's start, counted whole; buckets run to now (or the newest event).
   * Day-multiple buckets over 7d/30d/all come from the roll-ups, everything else from raw events.
   */
  failureSeries(
    window: WindowName,
    bucketMs: number,
    opts: { nowMs?: number; channel?: bigint; maxBuckets?: number; source?: 'auto' | 'raw' } = {},
  ): FailureSeries {
    this.ensureOpen();
    if (!Number.isSafeInteger(bucketMs) || bucketMs < 1000) throw new RangeError('bucketMs must be an integer of at least 1000');
    this.applyPending();
    const nowMs = opts.nowMs ?? this.now();
    const useRollups = opts.source !== 'raw' && bucketMs % DAY_MS === 0 && window !== '1h' && window !== '24h';
    const table: Table = useRollups ? 'rollup_failures' : 'failure_events';
    let since: number;
    if (window === 'all') {
      const v = useRollups ? this.db.exec('SELECT min(day) FROM rollup_failures')[0]?.values[0]?.[0] : this.db.exec('SELECT min(ts_ms) FROM failure_events')[0]?.values[0]?.[0];
      since = v === null || v === undefined ? nowMs : useRollups ? sqlToInt(v) * DAY_MS : sqlToInt(v);
    } else since = nowMs - WINDOW_MS[window];
    const startMs = Math.floor(since / bucketMs) * bucketMs;
    const maxBuckets = opts.maxBuckets ?? 10_000;
    let filter = '';
    const params: SqlValue[] = [useRollups ? startMs / DAY_MS : startMs];
    if (opts.channel !== undefined) {
      const ref = this.chanRef.get(opts.channel);
      filter = ' AND out_ref = ?';
      params.push(ref ?? -1);
    }
    const counts = new Map<number, Map<string, number>>();
    let lastBucket = Math.floor(nowMs / bucketMs);
    const sql = useRollups
      ? `SELECT day * ${DAY_MS}, reason_ref, count FROM rollup_failures WHERE day >= ?${filter}`
      : `SELECT ts_ms, reason_ref, 1 FROM failure_events WHERE ts_ms >= ?${filter}`;
    this.each(sql, params, (r) => {
      const b = Math.floor(sqlToInt(r[0]) / bucketMs);
      lastBucket = Math.max(lastBucket, b);
      let m = counts.get(b);
      if (!m) counts.set(b, (m = new Map()));
      const reason = this.strById.get(sqlToInt(r[1])) ?? 'UNKNOWN';
      m.set(reason, (m.get(reason) ?? 0) + sqlToInt(r[2]));
    });
    const first = startMs / bucketMs;
    if (lastBucket - first + 1 > maxBuckets) throw new RangeError(`too many buckets (${lastBucket - first + 1} > ${maxBuckets}); use a larger bucketMs`);
    const reasons = new Set<string>();
    const buckets: SeriesBucket[] = [];
    for (let b = first; b <= lastBucket; b++) {
      const m = counts.get(b);
      const byReason: Record<string, number> = {};
      let total = 0;
      if (m) {
        for (const [r, c] of [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
          byReason[r] = c;
          total += c;
          reasons.add(r);
        }
      }
      buckets.push({ startMs: b * bucketMs, total, byReason });
    }
    const complete = startMs >= this.completeSince[table];
    return { window, bucketMs, nowMs, startMs, source: useRollups ? 'rollups' : 'raw', complete, reasons: [...reasons].sort(), buckets };
  }

  /**
   * Reads the window's rows and sums them per (outgoing, incoming) pair. Plain scans summed in JS:
   * amounts that are numbers are added as numbers while the sum stays exact (Sum), bigint only
   * beyond 2^53 — several times faster than a bigint per row, and faster than GROUP BY, which has
   * to sort (the roll-ups are keyed by day first).
   */
  private aggregate(window: WindowName, nowMs: number) {
    this.ensureOpen();
    this.applyPending();
    const plan = planWindow(window, nowMs);
    const byOut = new Map<number, Map<number, PairAcc>>();
    const acc = (out: number, inn: number): PairAcc => {
      let m = byOut.get(out);
      if (!m) byOut.set(out, (m = new Map()));
      let a = m.get(inn);
      if (!a) m.set(inn, (a = { out, inn, fails: new Map(), successes: 0, earned: new Sum(), forwarded: new Sum() }));
      return a;
    };
    const fail = (a: PairAcc, reason: number): FailAcc => {
      let f = a.fails.get(reason);
      if (!f) a.fails.set(reason, (f = { count: 0, fees: new Sum(), amount: new Sum() }));
      return f;
    };
    let complete = true;
    if (plan.raw) {
      const { fromMs, toMs } = plan.raw;
      complete &&= fromMs >= this.completeSince.failure_events && fromMs >= this.completeSince.success_events;
      this.each('SELECT out_ref, in_ref, reason_ref, missed_fee_msat, out_amt_msat FROM failure_events WHERE ts_ms >= ? AND ts_ms < ?', [fromMs, toMs], (r) => {
        const f = fail(acc(sqlToInt(r[0]), sqlToInt(r[1])), sqlToInt(r[2]));
        f.count++;
        const fee = r[3];
        if (typeof fee === 'number' ? fee > 0 : sqlToU64(fee) > 0n) {
          f.fees.add(fee);
          f.amount.add(r[4]);
        }
      });
      this.each('SELECT out_ref, in_ref, fee_msat, out_amt_msat FROM success_events WHERE ts_ms >= ? AND ts_ms < ?', [fromMs, toMs], (r) => {
        const a = acc(sqlToInt(r[0]), sqlToInt(r[1]));
        a.successes++;
        a.earned.add(r[2]);
        a.forwarded.add(r[3]);
      });
    }
    if (plan.rollupFromDay !== null) {
      const fromMs = plan.rollupFromDay * DAY_MS;
      complete &&= fromMs >= this.completeSince.rollup_failures && fromMs >= this.completeSince.rollup_successes;
      this.each('SELECT out_ref, in_ref, reason_ref, count, missed_fees_msat, missed_amount_msat FROM rollup_failures WHERE day >= ?', [plan.rollupFromDay], (r) => {
        const f = fail(acc(sqlToInt(r[0]), sqlToInt(r[1])), sqlToInt(r[2]));
        f.count += sqlToInt(r[3]);
        f.fees.add(r[4]);
        f.amount.add(r[5]);
      });
      this.each('SELECT out_ref, in_ref, count, fees_msat, amount_msat FROM rollup_successes WHERE day >= ?', [plan.rollupFromDay], (r) => {
        const a = acc(sqlToInt(r[0]), sqlToInt(r[1]));
        a.successes += sqlToInt(r[2]);
        a.earned.add(r[3]);
        a.forwarded.add(r[4]);
      });
    }
    const pairs: { out: number; inn: number; totals: WindowTotals }[] = [];
    for (const m of byOut.values()) {
      for (const a of m.values()) {
        const totals = emptyTotals();
        for (const [reason, f] of a.fails) addFailures(totals, this.strById.get(reason) ?? 'UNKNOWN', f.count, f.fees.value(), f.amount.value());
        addSuccesses(totals, a.successes, a.earned.value(), a.forwarded.value());
        pairs.push({ out: a.out, inn: a.inn, totals });
      }
    }
    return { plan, complete, pairs };
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private ensureOpen(): void {
    if (this.closed) throw new Error('the history store is closed');
  }

  private each(sql: string, params: SqlValue[], fn: (row: SqlValue[]) => void): void {
    const st = this.db.prepare(sql);
    try {
      st.bind(params);
      while (st.step()) fn(st.get());
    } finally {
      st.free();
    }
  }

  private all<T>(sql: string, params: SqlValue[], fn: (row: SqlValue[]) => T): T[] {
    const out: T[] = [];
    this.each(sql, params, (r) => out.push(fn(r)));
    return out;
  }

  private readFailure(r: SqlValue[]): StoredFailure {
    const reason = this.strById.get(sqlToInt(r[9])) ?? 'UNKNOWN';
    return {
      id: sqlToInt(r[0]),
      timestampMs: sqlToInt(r[1]),
      incomingChanId: this.chanById.get(sqlToInt(r[2])) ?? 0n,
      outgoingChanId: this.chanById.get(sqlToInt(r[3])) ?? 0n,
      incomingHtlcId: sqlToU64(r[4]),
      outgoingHtlcId: sqlToU64(r[5]),
      incomingAmtMsat: sqlToU64(r[6]),
      outgoingAmtMsat: sqlToU64(r[7]),
      missedFeeMsat: sqlToU64(r[8]),
      reason,
      category: categoryOf(reason),
      wireFailure: this.strById.get(sqlToInt(r[10])) ?? '',
      failureDetail: this.strById.get(sqlToInt(r[11])) ?? '',
      source: sqlToInt(r[12]) === SOURCE_CODE.downstream ? 'downstream' : 'link',
      amountsKnown: sqlToInt(r[13]) === 1,
      failureString: sqlToInt(r[14]) === 0 ? sqlToStr(r[15]) : (this.strById.get(sqlToInt(r[14])) ?? ''),
    };
  }

  /** The ref of a channel id, interning it (within the caller's transaction) when new. */
  private refOf(chanId: bigint, newRefs: bigint[]): number {
    const ref = this.chanRef.get(chanId);
    if (ref !== undefined) return ref;
    const id = sqlToInt(this.db.exec('INSERT INTO chan (chan_id) VALUES (?) RETURNING ref', [chanId.toString()])[0].values[0][0]);
    this.chanRef.set(chanId, id);
    this.chanById.set(id, chanId);
    newRefs.push(chanId);
    return id;
  }

  /**
   * fstr_ref (0: the text goes inline in failure_string): LND's fixed texts ("insufficient bandwidth
   * to route htlc") are interned; texts with numbers in them (amounts, fee rates, heights: nearly
   * always unique) stay inline, so the string table holds only the few fixed ones and stays small.
   */
  private failureStringRef(s: string): number {
    const ref = this.strRef.get(s);
    if (ref !== undefined) return ref;
    if (this.strRef.size >= MAX_INTERNED_STRINGS || s.length > 120 || /\d/.test(s)) return 0;
    return this.strOf(s);
  }

  private strOf(s: string): number {
    const ref = this.strRef.get(s);
    if (ref !== undefined) return ref;
    const id = sqlToInt(this.db.exec('INSERT INTO str (s) VALUES (?) RETURNING ref', [s])[0].values[0][0]);
    this.strRef.set(s, id);
    this.strById.set(id, s);
    return id;
  }

  private loadRefs(): void {
    this.chanRef.clear();
    this.chanById.clear();
    this.aliasByRef.clear();
    this.strRef.clear();
    this.strById.clear();
    this.each('SELECT ref, chan_id, alias FROM chan', [], (r) => {
      const ref = sqlToInt(r[0]);
      const id = sqlToU64(r[1]);
      this.chanRef.set(id, ref);
      this.chanById.set(ref, id);
      if (typeof r[2] === 'string') this.aliasByRef.set(ref, r[2]);
    });
    this.each('SELECT ref, s FROM str', [], (r) => {
      this.strRef.set(sqlToStr(r[1]), sqlToInt(r[0]));
      this.strById.set(sqlToInt(r[0]), sqlToStr(r[1]));
    });
  }

  private reloadRefs(): void {
    this.loadRefs();
  }

  private loadTotals(): void {
    this.totals.clear();
    const byRef = new Map<number, ChannelTotals>();
    this.each(
      'SELECT out_ref, first_seen_ms, last_failure_ms, last_activity_ms, failed, succeeded, missed_fees_msat, missed_amount_msat, earned_fees_msat FROM channel_totals',
      [],
      (r) => {
        const chanId = this.chanById.get(sqlToInt(r[0]));
        if (chanId === undefined) return;
        const t: ChannelTotals = {
          chanId,
          firstSeenMs: sqlToInt(r[1]),
          lastFailureMs: sqlToInt(r[2]),
          lastActivityMs: sqlToInt(r[3]),
          failed: sqlToInt(r[4]),
          succeeded: sqlToInt(r[5]),
          missedFeesMsat: sqlToU64(r[6]),
          missedAmountMsat: sqlToU64(r[7]),
          earnedFeesMsat: sqlToU64(r[8]),
          reasons: new Map(),
        };
        byRef.set(sqlToInt(r[0]), t);
        this.totals.set(chanId.toString(), t);
      },
    );
    this.each('SELECT out_ref, reason_ref, count, missed_fees_msat, missed_amount_msat FROM channel_reason_totals ORDER BY out_ref, ord', [], (r) => {
      const t = byRef.get(sqlToInt(r[0]));
      const reason = this.strById.get(sqlToInt(r[1]));
      if (!t || reason === undefined) return;
      t.reasons.set(reason, { count: sqlToInt(r[2]), missedFeesMsat: sqlToU64(r[3]), missedAmountMsat: sqlToU64(r[4]) });
    });
  }

  private loadNode(): NodeTotals {
    const n: NodeTotals = { failed: 0, succeeded: 0, incomingLinkFailures: 0, missedFeesMsat: 0n, missedAmountMsat: 0n, earnedFeesMsat: 0n, failuresByReason: new Map() };
    const raw = getMeta(this.db, 'node_totals');
    if (!raw) return n;
    try {
      const j = JSON.parse(raw) as Record<string, unknown>;
      n.failed = Number(j.failedForwards) || 0;
      n.succeeded = Number(j.successfulForwards) || 0;
      n.incomingLinkFailures = Number(j.incomingLinkFailures) || 0;
      n.missedFeesMsat = sqlToU64(String(j.missedFeesMsat ?? '0'));
      n.missedAmountMsat = sqlToU64(String(j.missedAmountMsat ?? '0'));
      n.earnedFeesMsat = sqlToU64(String(j.earnedFeesMsat ?? '0'));
      for (const [r, c] of Object.entries((j.failuresByReason ?? {}) as Record<string, unknown>)) n.failuresByReason.set(r, Number(c) || 0);
    } catch (err) {
      this.logger.warn(`stored node totals are unreadable (${(err as Error).message}); they restart from zero`);
    }
    return n;
  }
}

const FAILURE_COLUMNS =
  'id, ts_ms, in_ref, out_ref, in_htlc, out_htlc, in_amt_msat, out_amt_msat, missed_fee_msat, reason_ref, wire_ref, detail_ref, source, amounts_known, fstr_ref, failure_string';

/** Distinct strings interned (reasons and fixed failure strings); past it failure strings stay inline. */
const MAX_INTERNED_STRINGS = 4096;

/**
 * SQL for parameter ?i of an amount known to be a number (at most 2^53): sql.js binds one above
 * 2^31 as a REAL; the cast stores the INTEGER that U(i) stores, in fewer steps.
 */
function I(i: number): string {
  return `CAST(?${i} AS INTEGER)`;
}

/** Rows per multi-row INSERT: 16 to 256 measured alike (≈ 25 % less per row than one by one). */
const ROWS_PER_INSERT = 64;

/**
 * A table's batch of at least this many rows is written in bulk: multi-row INSERTs and the roll-ups
 * in SQL. Smaller ones go one row per INSERT and add their roll-ups in bigint, as that is cheaper
 * for them: preparing a 64-row INSERT costs ≈ 0.5 ms (what it saves on ≈ 1,000 rows), and after SQL
 * roll-ups their row counts are taken again (a count(*), ≈ 1–2 ms at 400,000 rows).
 */
export const BULK_ROWS = 1024;

interface RawInsertSql {
  width: number;
  /** ROWS_PER_INSERT rows whose amounts are all numbers. */
  many: string;
  /** One such row. */
  one: string;
  /** One row with an amount as decimal TEXT (kept as it is, U). */
  text: string;
}

function rawInsertSql(table: string, cols: string[], amounts: number[]): RawInsertSql {
  const row = (base: number, amount: (i: number) => string) =>
    `(${cols.map((_, j) => (amounts.includes(j + 1) ? amount(base + j + 1) : `?${base + j + 1}`)).join(', ')})`;
  const head = `INSERT INTO ${table} (${cols.join(', ')}) VALUES `;
  return {
    width: cols.length,
    many: head + Array.from({ length: ROWS_PER_INSERT }, (_, r) => row(r * cols.length, I)).join(', '),
    one: head + row(0, I),
    text: head + row(0, U),
  };
}

const INSERT_FAILURE = rawInsertSql(
  'failure_events',
  ['ts_ms', 'in_ref', 'out_ref', 'in_htlc', 'out_htlc', 'in_amt_msat', 'out_amt_msat', 'missed_fee_msat', 'reason_ref', 'wire_ref', 'detail_ref', 'source', 'amounts_known', 'fstr_ref', 'failure_string'],
  [4, 5, 6, 7, 8],
);

const INSERT_SUCCESS = rawInsertSql('success_events', ['ts_ms', 'in_ref', 'out_ref', 'in_amt_msat', 'out_amt_msat', 'fee_msat'], [4, 5, 6]);

/**
 * Inserts raw rows in stream order (ids are the order failures() and restoreInto() rely on): the
 * caller fills `row` and calls add(); in bulk, rows are buffered and written ROWS_PER_INSERT at a
 * time.
 */
class RawInserter {
  readonly row: SqlValue[];
  private readonly buf: SqlValue[];
  private n = 0;
  private many: Statement | undefined;
  private one: Statement | undefined;
  private text: Statement | undefined;

  constructor(
    private readonly prep: (sql: string) => Statement,
    private readonly sql: RawInsertSql,
    private readonly bulk: boolean,
  ) {
    this.row = new Array<SqlValue>(sql.width).fill(null);
    this.buf = new Array<SqlValue>(sql.width * ROWS_PER_INSERT).fill(null);
  }

  /** Queues `row`; `numeric`: its amounts are all numbers (else it goes alone, through U). */
  add(numeric: boolean): void {
    const w = this.sql.width;
    if (!numeric) {
      this.finish();
      (this.text ??= this.prep(this.sql.text)).run(this.row);
      return;
    }
    if (!this.bulk) {
      (this.one ??= this.prep(this.sql.one)).run(this.row);
      return;
    }
    const base = this.n * w;
    for (let j = 0; j < w; j++) this.buf[base + j] = this.row[j];
    if (++this.n === ROWS_PER_INSERT) {
      (this.many ??= this.prep(this.sql.many)).run(this.buf);
      this.n = 0;
    }
  }

  /** Writes the queued rows. */
  finish(): void {
    const w = this.sql.width;
    for (let r = 0; r < this.n; r++) (this.one ??= this.prep(this.sql.one)).run(this.buf.slice(r * w, (r + 1) * w));
    this.n = 0;
  }
}

const MAX_SAFE_SQL = String(Number.MAX_SAFE_INTEGER);

/** SQL of u64ToSql for an exact int64: INTEGER up to 2^53, decimal TEXT above. */
function u64Sql(e: string): string {
  return `iif(${e} <= ${MAX_SAFE_SQL}, ${e}, CAST(${e} AS TEXT))`;
}

/**
 * A stored roll-up amount SQL adds exactly as sqlToU64 + bigint would: an INTEGER we wrote (at
 * most 2^53), or decimal TEXT of up to 18 digits (CAST to INTEGER is exact below 2^63, and so is
 * the sum with one raw amount). Anything else (a REAL, longer TEXT, damage) is left to bigint.
 */
function addable(col: string): string {
  return `(typeof(${col}) = 'integer' AND ${col} BETWEEN 0 AND ${MAX_SAFE_SQL} OR typeof(${col}) = 'text' AND length(${col}) BETWEEN 1 AND 18 AND ${col} NOT GLOB '*[^0-9]*')`;
}

interface RollupUpsert {
  table: 'rollup_failures' | 'rollup_successes';
  /** Adds the raw rows with id >= ?1 to the roll-ups. */
  upsert: string;
}

/**
 * One upsert per raw row, in SQL: no GROUP BY (SQLite's sorter costs more than the upserts) and no
 * row through JS. The raw amounts are INTEGERs of at most 2^53 (the caller checks), so a new
 * roll-up row holds what u64ToSql would write; an existing one gets the exact sum. When a stored
 * value is not addable, count becomes NULL: the NOT NULL constraint fails the statement, and SQLite
 * undoes all of it (ABORT) for the caller's fallback.
 */
function rollupUpsert(table: RollupUpsert['table'], raw: string, keys: string[], values: [string, string], amountCols: [string, string]): RollupUpsert {
  const [fc, ac] = amountCols;
  const add = (col: string) => u64Sql(`CAST(${col} AS INTEGER) + excluded.${col}`);
  return {
    table,
    upsert: `INSERT INTO ${table} (${keys.join(', ')}, count, ${fc}, ${ac})
      SELECT ts_ms / ${DAY_MS}, ${keys.slice(1).join(', ')}, 1, ${values[0]}, ${values[1]} FROM ${raw} WHERE id >= ?1
      ON CONFLICT (${keys.join(', ')}) DO UPDATE SET
        count = iif(typeof(count) = 'integer' AND abs(count) < ${MAX_SAFE_SQL} AND ${addable(fc)} AND ${addable(ac)}, count + 1, NULL),
        ${fc} = ${add(fc)},
        ${ac} = ${add(ac)}`,
  };
}

const ROLLUP_FAILURES = rollupUpsert(
  'rollup_failures',
  'failure_events',
  ['day', 'out_ref', 'in_ref', 'reason_ref'],
  ['missed_fee_msat', 'iif(missed_fee_msat > 0, out_amt_msat, 0)'],
  ['missed_fees_msat', 'missed_amount_msat'],
);

const ROLLUP_SUCCESSES = rollupUpsert('rollup_successes', 'success_events', ['day', 'out_ref', 'in_ref'], ['fee_msat', 'out_amt_msat'], ['fees_msat', 'amount_msat']);

/**
 * SQL for parameter ?i of an amount: sql.js binds a JS number above 2^31 as a REAL (8 bytes); the
 * cast stores it as an INTEGER (6 bytes for most msat values), exactly, since we only bind safe
 * integers as numbers. Decimal TEXT (values above 2^53) is left as it is.
 */
function U(i: number): string {
  return `iif(typeof(?${i}) = 'real', CAST(?${i} AS INTEGER), ?${i})`;
}

/** An exact sum of stored amounts: numbers while the total stays a safe integer, bigint beyond. */
class Sum {
  private n = 0;
  private b = 0n;
  add(v: SqlValue): void {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      if (this.n + v > Number.MAX_SAFE_INTEGER) {
        this.b += BigInt(this.n);
        this.n = v;
      } else this.n += v;
    } else this.b += sqlToU64(v);
  }
  value(): bigint {
    return this.b + BigInt(this.n);
  }
}

interface FailAcc {
  count: number;
  fees: Sum;
  amount: Sum;
}

interface PairAcc {
  out: number;
  inn: number;
  fails: Map<number, FailAcc>;
  successes: number;
  earned: Sum;
  forwarded: Sum;
}

/** A batch's (count, fees, amount) per roll-up key (day and refs), summed in bigint. */
class RollupSums {
  private readonly sums = new Map<string, { key: number[]; count: number; fees: bigint; amt: bigint }>();

  add(key: number[], fees: bigint, amt: bigint): void {
    const k = key.join('|');
    let a = this.sums.get(k);
    if (!a) this.sums.set(k, (a = { key, count: 0, fees: 0n, amt: 0n }));
    a.count++;
    a.fees += fees;
    a.amt += amt;
  }

  /** Adds every key's sums to its roll-up row (addToRollup); returns how many rows are new. */
  addTo(get: Statement, put: Statement): number {
    let added = 0;
    for (const a of this.sums.values()) if (addToRollup(get, put, a.key, a)) added++;
    return added;
  }
}

/**
 * Adds a batch's (count, fees, amount) to the roll-up row at key (read, add, replace), exactly in
 * bigint. Returns true when the row is new.
 */
function addToRollup(get: Statement, put: Statement, key: SqlValue[], add: { count: number; fees: bigint; amt: bigint }): boolean {
  const old = getOne(get, key);
  const count = add.count + (old ? sqlToInt(old[0]) : 0);
  const fees = add.fees + (old ? sqlToU64(old[1]) : 0n);
  const amt = add.amt + (old ? sqlToU64(old[2]) : 0n);
  put.run([...key, count, u64ToSql(fees), u64ToSql(amt)]);
  return !old;
}

function getOne(st: Statement, params: SqlValue[]): SqlValue[] | undefined {
  st.bind(params);
  try {
    return st.step() ? st.get() : undefined;
  } finally {
    st.reset();
  }
}

function nodeToJson(n: NodeTotals) {
  return JSON.parse(
    JSON.stringify(
      {
        failedForwards: n.failed,
        successfulForwards: n.succeeded,
        incomingLinkFailures: n.incomingLinkFailures,
        missedFeesMsat: n.missedFeesMsat,
        missedAmountMsat: n.missedAmountMsat,
        earnedFeesMsat: n.earnedFeesMsat,
        failuresByReason: Object.fromEntries(n.failuresByReason),
      },
      bigintReplacer,
    ),
  ) as Record<string, unknown>;
}

function parseCounters(raw: string | undefined): CounterMap {
  if (!raw) return {};
  try {
    const j = JSON.parse(raw) as Record<string, unknown>;
    const out: CounterMap = {};
    for (const [k, v] of Object.entries(j)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    return out;
  } catch {
    return {};
  }
}

function toOutcome(f: StoredFailure): FailureOutcome {
  return {
    kind: 'failure',
    source: f.source,
    incomingChanId: f.incomingChanId,
    outgoingChanId: f.outgoingChanId,
    incomingHtlcId: f.incomingHtlcId,
    outgoingHtlcId: f.outgoingHtlcId,
    timestampNs: BigInt(f.timestampMs) * 1_000_000n,
    timestampMs: f.timestampMs,
    incomingAmtMsat: f.incomingAmtMsat,
    outgoingAmtMsat: f.outgoingAmtMsat,
    missedFeeMsat: f.missedFeeMsat,
    reason: f.reason,
    category: f.category,
    wireFailure: f.wireFailure,
    failureDetail: f.failureDetail,
    failureString: f.failureString,
    amountsKnown: f.amountsKnown,
  };
}
