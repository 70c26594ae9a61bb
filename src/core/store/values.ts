/**
 * uint64 values (channel ids, msat amounts, HTLC ids) in SQLite, never through a lossy JS number.
 *
 * Amount columns are declared without a type (BLOB affinity: SQLite stores each value as given and
 * never converts it). A value up to Number.MAX_SAFE_INTEGER is stored as a number (compact, exact);
 * anything larger is stored as its decimal TEXT. Declaring them INTEGER would be wrong: with INTEGER
 * or NUMERIC affinity SQLite turns the text "18446744073709551615" into a REAL and loses digits.
 * Sums are done in JS with bigint, never with SQL SUM(); the one exception is the roll-up upsert of
 * store.ts (rollupUpsert), which adds in SQL only values it has checked to be exact in int64 there.
 */
import type { SqlValue } from 'sql.js';

/**
 * A non-negative integer for an amount/id column. Single values are uint64; sums (totals, roll-ups)
 * may exceed 2^64 — bigint has no limit, and neither does the decimal TEXT form.
 */
export function u64ToSql(v: bigint): number | string {
  // One conversion instead of two comparisons first (this runs for every amount of every row):
  // Number() is exact up to 2^53 - 1 and rounds anything larger to at least 2^53.
  const n = Number(v);
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) return n;
  if (v < 0n) throw new RangeError(`not a non-negative integer: ${v}`);
  return v.toString();
}

/** Reads a value written by u64ToSql (or a decimal TEXT) back as a bigint; NULL reads as 0. */
export function sqlToU64(v: SqlValue | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`stored value is not an exact uint64: ${v}`);
    return BigInt(v);
  }
  if (typeof v === 'string') {
    if (!/^\d{1,60}$/.test(v)) throw new RangeError(`stored value is not a non-negative integer: ${JSON.stringify(v)}`);
    return BigInt(v);
  }
  throw new RangeError('stored value is a blob, not a uint64');
}

/** Reads an INTEGER column that we only ever write with safe integers (counts, ms, days, refs). */
export function sqlToInt(v: SqlValue | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) return Number(v);
  throw new RangeError(`stored value is not an integer: ${String(v)}`);
}

export function sqlToStr(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return '';
}

/** JSON replacer: bigint as decimal strings (uint64 never goes through a JS number). */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
