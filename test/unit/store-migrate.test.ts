import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { StatsEngine } from '../../src/core/stats';
import { HtlcStore, loadSqlJs } from '../../src/core/store';
import { APPLICATION_ID, CURRENT_VERSION, migrate, MIGRATIONS, userVersion } from '../../src/core/store/schema';
import { BIG, DAY, rmDir, success, tmpDir, U64_MAX } from './store-helpers';

const NOW = Date.UTC(2026, 10, 27, 12);
const TODAY = Math.floor(NOW / DAY);

/** Schema version 1 exactly as it shipped, written out by hand (not imported). */
const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
CREATE TABLE chan (ref INTEGER PRIMARY KEY, chan_id TEXT NOT NULL UNIQUE);
CREATE TABLE str (ref INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);
CREATE TABLE channel_totals (out_ref INTEGER PRIMARY KEY, first_seen_ms INTEGER NOT NULL, last_failure_ms INTEGER NOT NULL,
  last_activity_ms INTEGER NOT NULL, failed INTEGER NOT NULL, succeeded INTEGER NOT NULL, missed_fees_msat NOT NULL,
  missed_amount_msat NOT NULL, earned_fees_msat NOT NULL);
CREATE TABLE channel_reason_totals (out_ref INTEGER NOT NULL, reason_ref INTEGER NOT NULL, count INTEGER NOT NULL,
  missed_fees_msat NOT NULL, missed_amount_msat NOT NULL, ord INTEGER NOT NULL, PRIMARY KEY (out_ref, reason_ref)) WITHOUT ROWID;
CREATE TABLE failure_events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, in_ref INTEGER NOT NULL, out_ref INTEGER NOT NULL,
  in_htlc NOT NULL, out_htlc NOT NULL, in_amt_msat NOT NULL, out_amt_msat NOT NULL, missed_fee_msat NOT NULL,
  reason_ref INTEGER NOT NULL, wire_ref INTEGER NOT NULL, detail_ref INTEGER NOT NULL, source INTEGER NOT NULL,
  amounts_known INTEGER NOT NULL, fstr_ref INTEGER NOT NULL, failure_string TEXT);
CREATE INDEX failure_events_ts ON failure_events (ts_ms);
CREATE TABLE rollup_failures (day INTEGER NOT NULL, out_ref INTEGER NOT NULL, in_ref INTEGER NOT NULL, reason_ref INTEGER NOT NULL,
  count INTEGER NOT NULL, missed_fees_msat NOT NULL, PRIMARY KEY (day, out_ref, in_ref, reason_ref)) WITHOUT ROWID;
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = 1;
`;

/**
 * A v1 file with: channel 5 (two reasons, one total above 2^64 − it is a sum), channel U64_MAX,
 * raw events kept from yesterday 12:00 on (older ones were trimmed), roll-ups for 3 days.
 */
function buildV1(db: Database): void {
  db.exec(V1);
  db.run(`INSERT INTO chan (ref, chan_id) VALUES (1, '5'), (2, '7'), (3, '${U64_MAX}')`);
  db.run(`INSERT INTO str (ref, s) VALUES (1, 'INSUFFICIENT_BALANCE'), (2, 'FEE_INSUFFICIENT'), (3, 'TEMPORARY_CHANNEL_FAILURE'), (4, '')`);
  const big = (U64_MAX + 10n).toString(); // a sum can exceed 2^64
  db.run(`INSERT INTO channel_totals VALUES (1, ?, ?, ?, 4, 2, ?, ?, 700)`, [NOW - 3 * DAY, NOW - 1000, NOW - 1000, big, (BIG * 3n).toString()]);
  db.run(`INSERT INTO channel_totals VALUES (3, ?, ?, ?, 1, 0, 9, 1000, 0)`, [NOW - DAY, NOW - DAY, NOW - DAY]);
  db.run(`INSERT INTO channel_reason_totals VALUES (1, 2, 1, ?, ?, 0), (1, 1, 3, 5, 7, 1), (3, 1, 1, 9, 1000, 0)`, [big, (BIG * 3n).toString()]);
  db.run(`INSERT INTO meta VALUES ('node_totals', ?)`, [
    JSON.stringify({ failedForwards: 5, successfulForwards: 2, incomingLinkFailures: 0, missedFeesMsat: '20', missedAmountMsat: '1007', earnedFeesMsat: '700', failuresByReason: { INSUFFICIENT_BALANCE: 4, FEE_INSUFFICIENT: 1 } }),
  ]);
  db.run(`INSERT INTO meta VALUES ('complete_since.failure_events', ?)`, [String((TODAY - 1) * DAY + DAY / 2)]);
  // raw: yesterday afternoon and today (yesterday is partial: raw from 12:00 only)
  const ev = (ts: number, out: number, fee: number, outAmt: string | number) =>
    db.run(`INSERT INTO failure_events (ts_ms, in_ref, out_ref, in_htlc, out_htlc, in_amt_msat, out_amt_msat, missed_fee_msat, reason_ref, wire_ref, detail_ref, source, amounts_known, fstr_ref, failure_string)
      VALUES (?, 2, ?, 1, 2, 0, ?, ?, 1, 3, 1, 0, 1, 4, NULL)`, [ts, out, outAmt, fee]);
  ev((TODAY - 1) * DAY + DAY / 2 + 5, 1, 2, 100);
  ev(TODAY * DAY + 10, 1, 1, 3);
  ev(TODAY * DAY + 20, 1, 2, (BIG * 3n).toString());
  ev(TODAY * DAY + 30, 3, 9, 1000);
  db.run(`INSERT INTO rollup_failures VALUES (?, 1, 2, 1, 7, 11), (?, 1, 2, 1, 1, 2), (?, 1, 2, 1, 2, 3), (?, 3, 2, 1, 1, 9)`, [TODAY - 2, TODAY - 1, TODAY, TODAY]);
}

function tableInfo(db: Database) {
  const tables = db.exec("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")[0].values.map((v) => String(v[0]));
  return tables.map((t) => [t, db.exec(`PRAGMA table_info(${t})`)[0]?.values ?? db.exec(`PRAGMA index_info(${t})`)[0]?.values]);
}

describe('store: migrations', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('has one step per version, numbered in order', () => {
    assert.deepEqual(MIGRATIONS.map((m) => m.to), Array.from({ length: CURRENT_VERSION }, (_, i) => i + 1));
  });

  it('a hand-made v1 file opens, migrates to the current version, and its data survives', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    buildV1(db);
    const file = path.join(dir, 'v1.sqlite');
    const original = db.export();
    fs.writeFileSync(file, original);
    db.close();

    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    assert.equal(store.migratedFrom, 1);
    assert.equal(store.movedAside, undefined);
    assert.deepEqual(new Uint8Array(fs.readFileSync(`${file}.v1.bak`)), new Uint8Array(original), 'the v1 file is kept');

    const engine = new StatsEngine({ now: () => NOW });
    store.restoreInto(engine);
    const ch5 = engine.channel(5n)!;
    assert.equal(ch5.failedForwards, 4);
    assert.equal(ch5.successfulForwards, 2);
    assert.equal(ch5.missedFeesMsat, U64_MAX + 10n);
    assert.equal(ch5.missedAmountMsat, BIG * 3n);
    assert.deepEqual([...ch5.failuresByReason.keys()], ['FEE_INSUFFICIENT', 'INSUFFICIENT_BALANCE'], 'reason order kept');
    assert.equal(ch5.recentFailures().length, 3);
    assert.equal(engine.channel(U64_MAX)!.missedFeesMsat, 9n);
    assert.deepEqual(engine.ranked().map((c) => c.key), ['5', U64_MAX.toString()]);
    assert.equal(engine.node.failedForwards, 5);
    assert.equal(engine.node.earnedFeesMsat, 700n);

    // roll-ups: counts and fees kept; missed amounts rebuilt for today (raw complete), not yesterday
    const all = store.windows('all', NOW);
    assert.equal(all.node.failures, 11);
    assert.equal(all.node.missedFeesMsat, 25n);
    const today = store.windows('24h', TODAY * DAY + 40);
    assert.equal(today.node.missedAmountMsat, 100n + 3n + BIG * 3n + 1000n, "raw events since yesterday 00:00:00.040");
    const sevenDays = store.windows('7d', NOW);
    assert.equal(sevenDays.complete, false, 'older roll-ups have no missed amounts: not complete');
    assert.equal(sevenDays.rows.find((r) => r.key === '5')!.missedAmountMsat, 3n + BIG * 3n, 'today rebuilt, older days 0');
    // successes: absent in v1, recorded from now on
    store.record([success({ timestampMs: NOW, outgoingChanId: 5n, incomingChanId: 7n })]);
    assert.equal(store.windows('1h', NOW + 1).node.successes, 1);
    assert.equal(store.windows('1h', NOW + 1).complete, false, 'successes are complete only since the migration');
    assert.equal(store.windows('1h', NOW + 3_600_000).complete, true);
    await store.close();

    const SQL2 = await loadSqlJs();
    const after = new SQL2.Database(fs.readFileSync(file));
    assert.equal(userVersion(after), CURRENT_VERSION);
    after.close();
    const again = await HtlcStore.open(file, { readOnly: true, now: () => NOW });
    assert.equal(again.migratedFrom, undefined);
    assert.equal(again.windows('1h', NOW + 1).node.successes, 1);
    await again.close();
  });

  it('every older version migrates to exactly the schema of a new file', async () => {
    const SQL = await loadSqlJs();
    const fresh = new SQL.Database();
    migrate(fresh, NOW);
    const want = tableInfo(fresh);
    fresh.close();
    for (let v = 1; v < CURRENT_VERSION; v++) {
      const db = new SQL.Database();
      migrate(db, NOW, MIGRATIONS.slice(0, v));
      assert.equal(userVersion(db), v);
      const file = path.join(dir, `v${v}.sqlite`);
      fs.writeFileSync(file, db.export());
      db.close();
      const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
      assert.equal(store.migratedFrom, v);
      await store.close();
      const migrated = new SQL.Database(fs.readFileSync(file));
      assert.equal(userVersion(migrated), CURRENT_VERSION);
      assert.deepEqual(tableInfo(migrated), want, `from v${v}`);
      migrated.close();
    }
  });

  it('the hand-written v1 matches the shipped migration step', async () => {
    const SQL = await loadSqlJs();
    const a = new SQL.Database();
    a.exec(V1);
    const b = new SQL.Database();
    migrate(b, NOW, MIGRATIONS.slice(0, 1));
    assert.deepEqual(tableInfo(a), tableInfo(b));
    a.close();
    b.close();
  });
});
