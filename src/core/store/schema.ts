/**
 * The store's schema, versioned with PRAGMA user_version and identified by PRAGMA application_id.
 * Migrations only go forward: MIGRATIONS[i] takes a database at version i to version i + 1, inside
 * one transaction. Old versions are never edited once shipped — add a step instead (the tests open
 * a hand-made database of every older version).
 *
 * Conventions:
 * - Channel ids are interned in `chan` (decimal uint64 TEXT, never a number) and referred to by a
 *   small integer `ref`; reason / wire failure / failure detail names are interned in `str`, and so
 *   are LND's fixed failure strings (fstr_ref); a failure string with numbers in it is kept inline
 *   in failure_string with fstr_ref 0. Interning keeps raw rows about a third smaller, and the
 *   file's size is what every flush pays for.
 *   Channel id 0 (failed on the incoming link, no outgoing channel) is a regular ref.
 * - Amount and HTLC-id columns have no declared type (BLOB affinity): see values.ts.
 * - `day` is the UTC day number floor(ts_ms / 86,400,000).
 * - meta holds node totals and monitor counters as JSON (uint64 as decimal strings), the node's
 *   pubkey, and `complete_since.<table>`: the time from which that table holds every event
 *   (raised when retention deletes rows), so a window can say whether its answer is complete.
 */
import type { Database } from 'sql.js';
import { sqlToInt, sqlToU64, u64ToSql } from './values';
import { DAY_MS } from './windows';

/** "HTLC" in ASCII: PRAGMA application_id marks a file as ours. */
export const APPLICATION_ID = 0x48544c43;

export interface MigrationContext {
  nowMs: number;
  /** True when the database was empty (a new file): no history to convert. */
  fresh: boolean;
}

export interface Migration {
  /** The version this step produces. */
  to: number;
  description: string;
  up(db: Database, ctx: MigrationContext): void;
}

/** Version 1 as it shipped: kept verbatim (tests build a v1 file from it, too). */
export const SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
CREATE TABLE chan (ref INTEGER PRIMARY KEY, chan_id TEXT NOT NULL UNIQUE);
CREATE TABLE str (ref INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);
CREATE TABLE channel_totals (
  out_ref INTEGER PRIMARY KEY,
  first_seen_ms INTEGER NOT NULL,
  last_failure_ms INTEGER NOT NULL,
  last_activity_ms INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  succeeded INTEGER NOT NULL,
  missed_fees_msat NOT NULL,
  missed_amount_msat NOT NULL,
  earned_fees_msat NOT NULL
);
CREATE TABLE channel_reason_totals (
  out_ref INTEGER NOT NULL,
  reason_ref INTEGER NOT NULL,
  count INTEGER NOT NULL,
  missed_fees_msat NOT NULL,
  missed_amount_msat NOT NULL,
  ord INTEGER NOT NULL,
  PRIMARY KEY (out_ref, reason_ref)
) WITHOUT ROWID;
CREATE TABLE failure_events (
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  in_ref INTEGER NOT NULL,
  out_ref INTEGER NOT NULL,
  in_htlc NOT NULL,
  out_htlc NOT NULL,
  in_amt_msat NOT NULL,
  out_amt_msat NOT NULL,
  missed_fee_msat NOT NULL,
  reason_ref INTEGER NOT NULL,
  wire_ref INTEGER NOT NULL,
  detail_ref INTEGER NOT NULL,
  source INTEGER NOT NULL,
  amounts_known INTEGER NOT NULL,
  fstr_ref INTEGER NOT NULL,
  failure_string TEXT
);
CREATE INDEX failure_events_ts ON failure_events (ts_ms);
CREATE TABLE rollup_failures (
  day INTEGER NOT NULL,
  out_ref INTEGER NOT NULL,
  in_ref INTEGER NOT NULL,
  reason_ref INTEGER NOT NULL,
  count INTEGER NOT NULL,
  missed_fees_msat NOT NULL,
  PRIMARY KEY (day, out_ref, in_ref, reason_ref)
) WITHOUT ROWID;
`;

/** Version 2: successes (raw and daily per route pair), missed amounts in the roll-ups, aliases. */
export const SCHEMA_V2_DDL = `
ALTER TABLE rollup_failures ADD COLUMN missed_amount_msat NOT NULL DEFAULT 0;
ALTER TABLE chan ADD COLUMN alias TEXT;
CREATE TABLE success_events (
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  in_ref INTEGER NOT NULL,
  out_ref INTEGER NOT NULL,
  in_amt_msat NOT NULL,
  out_amt_msat NOT NULL,
  fee_msat NOT NULL
);
CREATE INDEX success_events_ts ON success_events (ts_ms);
CREATE TABLE rollup_successes (
  day INTEGER NOT NULL,
  out_ref INTEGER NOT NULL,
  in_ref INTEGER NOT NULL,
  count INTEGER NOT NULL,
  fees_msat NOT NULL,
  amount_msat NOT NULL,
  PRIMARY KEY (day, out_ref, in_ref)
) WITHOUT ROWID;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    description: 'totals, raw failure events, daily failure roll-ups',
    up(db) {
      db.exec(SCHEMA_V1);
    },
  },
  {
    to: 2,
    description: 'successes, missed amounts in roll-ups, channel aliases',
    up(db, ctx) {
      db.exec(SCHEMA_V2_DDL);
      if (ctx.fresh) return;
      backfillMissedAmounts(db);
      // v1 recorded no successes: they are complete from now on only.
      setMetaNumber(db, 'complete_since.success_events', ctx.nowMs);
      setMetaNumber(db, 'complete_since.rollup_successes', ctx.nowMs);
    },
  },
];

export const CURRENT_VERSION = MIGRATIONS.length;

/** Tables each version must have (a file claiming a version without them is not ours). */
const TABLES_BY_VERSION: Record<number, string[]> = {
  1: ['meta', 'chan', 'str', 'channel_totals', 'channel_reason_totals', 'failure_events', 'rollup_failures'],
  2: ['meta', 'chan', 'str', 'channel_totals', 'channel_reason_totals', 'failure_events', 'rollup_failures', 'success_events', 'rollup_successes'],
};

/**
 * v1 roll-ups had no missed amount. It is rebuilt exactly for the days whose raw events are all
 * still there (days starting at or after complete_since.failure_events); older days keep 0 and the
 * roll-ups are marked complete only from the first rebuilt day.
 */
function backfillMissedAmounts(db: Database): void {
  const rawSince = getMetaNumber(db, 'complete_since.failure_events') ?? 0;
  const firstDay = Math.ceil(rawSince / DAY_MS);
  const sums = new Map<string, { key: [number, number, number, number]; amt: bigint }>();
  const st = db.prepare('SELECT ts_ms, out_ref, in_ref, reason_ref, out_amt_msat, missed_fee_msat FROM failure_events WHERE ts_ms >= ?');
  try {
    st.bind([firstDay * DAY_MS]);
    while (st.step()) {
      const r = st.get();
      if (sqlToU64(r[5]) <= 0n) continue;
      const key: [number, number, number, number] = [Math.floor(sqlToInt(r[0]) / DAY_MS), sqlToInt(r[1]), sqlToInt(r[2]), sqlToInt(r[3])];
      const k = key.join('|');
      const e = sums.get(k);
      if (e) e.amt += sqlToU64(r[4]);
      else sums.set(k, { key, amt: sqlToU64(r[4]) });
    }
  } finally {
    st.free();
  }
  const up = db.prepare('UPDATE rollup_failures SET missed_amount_msat = ? WHERE day = ? AND out_ref = ? AND in_ref = ? AND reason_ref = ?');
  try {
    for (const { key, amt } of sums.values()) up.run([u64ToSql(amt), ...key]);
  } finally {
    up.free();
  }
  const hasOlder = db.exec('SELECT 1 FROM rollup_failures WHERE day < ? LIMIT 1', [firstDay]).length > 0;
  if (hasOlder) {
    const prev = getMetaNumber(db, 'complete_since.rollup_failures') ?? 0;
    setMetaNumber(db, 'complete_since.rollup_failures', Math.max(prev, firstDay * DAY_MS));
  }
}

export function getMeta(db: Database, key: string): string | undefined {
  const r = db.exec('SELECT value FROM meta WHERE key = ?', [key]);
  const v = r[0]?.values[0]?.[0];
  return v === undefined || v === null ? undefined : String(v);
}

export function setMeta(db: Database, key: string, value: string): void {
  db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', [key, value]);
}

export function getMetaNumber(db: Database, key: string): number | undefined {
  const v = getMeta(db, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function setMetaNumber(db: Database, key: string, value: number): void {
  setMeta(db, key, String(value));
}

export function userVersion(db: Database): number {
  return sqlToInt(db.exec('PRAGMA user_version')[0]?.values[0]?.[0]);
}

/** Why a database is not ours, or undefined when it is (at a version we can read). */
export function checkOurs(db: Database): string | undefined {
  let version: number;
  let appId: number;
  try {
    appId = sqlToInt(db.exec('PRAGMA application_id')[0]?.values[0]?.[0]);
    version = userVersion(db);
  } catch (err) {
    return `not a SQLite database (${(err as Error).message})`;
  }
  if (appId !== APPLICATION_ID) {
    const tables = db.exec("SELECT count(*) FROM sqlite_master WHERE type = 'table'")[0]?.values[0]?.[0];
    return `a SQLite database of another application (application_id ${appId}, ${String(tables)} tables)`;
  }
  if (version < 1) return `an htlc-monitor database without a schema version`;
  if (version > CURRENT_VERSION) return `an htlc-monitor database of a newer version (${version}; this build reads up to ${CURRENT_VERSION})`;
  const names = new Set(db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values.map((v) => String(v[0])) ?? []);
  const missing = TABLES_BY_VERSION[version].filter((t) => !names.has(t));
  if (missing.length) return `an htlc-monitor database (version ${version}) missing tables: ${missing.join(', ')}`;
  const check = db.exec('PRAGMA quick_check')[0]?.values.map((v) => String(v[0])) ?? [];
  if (check.length !== 1 || check[0] !== 'ok') return `a damaged database (quick_check: ${check.slice(0, 3).join('; ')})`;
  return undefined;
}

/** Creates the schema in an empty database, or brings an older one forward; returns the steps run. */
export function migrate(db: Database, nowMs: number, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const from = userVersion(db);
  const ctx: MigrationContext = { nowMs, fresh: from === 0 };
  const ran: number[] = [];
  for (const m of migrations) {
    if (m.to <= from) continue;
    db.run('BEGIN');
    try {
      m.up(db, ctx);
      db.run(`PRAGMA user_version = ${m.to}`);
      if (m.to === 1) db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
      db.run('COMMIT');
    } catch (err) {
      db.run('ROLLBACK');
      throw new Error(`migration to schema version ${m.to} failed: ${(err as Error).message}`);
    }
    ran.push(m.to);
  }
  return ran;
}
