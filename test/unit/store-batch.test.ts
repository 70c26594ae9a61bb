import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlValue } from 'sql.js';
import type { FailureOutcome, Outcome, SuccessOutcome } from '../../src/core/normalizer';
import { HtlcStore, loadSqlJs } from '../../src/core/store';
import { BULK_ROWS as BULK } from '../../src/core/store/store';
import { u64ToSql } from '../../src/core/store/values';
import { BIG, DAY, failure, prng, REASONS, rmDir, success, tmpDir, U64_MAX } from './store-helpers';

const NOW = Date.UTC(2026, 10, 27, 13, 37, 11, 123);
const MIDNIGHT = Math.floor(NOW / DAY) * DAY;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What u64ToSql stores, as [typeof, value] the way SQLite reports it. */
function stored(v: bigint): [string, SqlValue] {
  const x = u64ToSql(v);
  return [typeof x === 'number' ? 'integer' : 'text', x];
}

async function openFile(file: string): Promise<Database> {
  const SQL = await loadSqlJs();
  return new SQL.Database(fs.readFileSync(file));
}

function rows(db: Database, sql: string): SqlValue[][] {
  return db.exec(sql)[0]?.values ?? [];
}

const AMOUNTS = ['in_htlc', 'out_htlc', 'in_amt_msat', 'out_amt_msat', 'missed_fee_msat'];

/** The raw failures of a file in id order, refs resolved, each amount as [typeof, value]. */
function rawFailures(db: Database): unknown[] {
  return rows(
    db,
    `SELECT f.ts_ms, ci.chan_id, co.chan_id, ${AMOUNTS.map((c) => `typeof(f.${c}), f.${c}`).join(', ')}, r.s, w.s, d.s, f.source, f.amounts_known,
       typeof(f.failure_string), iif(f.fstr_ref = 0, f.failure_string, fs.s)
     FROM failure_events f JOIN chan ci ON ci.ref = f.in_ref JOIN chan co ON co.ref = f.out_ref JOIN str r ON r.ref = f.reason_ref
       JOIN str w ON w.ref = f.wire_ref JOIN str d ON d.ref = f.detail_ref LEFT JOIN str fs ON fs.ref = f.fstr_ref ORDER BY f.id`,
  );
}

function expectedFailure(o: FailureOutcome): unknown[] {
  const amounts = [o.incomingHtlcId, o.outgoingHtlcId, o.incomingAmtMsat, o.outgoingAmtMsat, o.missedFeeMsat].flatMap(stored);
  const inline = /\d/.test(o.failureString) || o.failureString.length > 120; // kept inline, not interned
  return [
    o.timestampMs,
    o.incomingChanId.toString(),
    o.outgoingChanId.toString(),
    ...amounts,
    o.reason,
    o.wireFailure,
    o.failureDetail,
    o.source === 'downstream' ? 1 : 0,
    o.amountsKnown ? 1 : 0,
    inline ? 'text' : 'null',
    o.failureString,
  ];
}

function rawSuccesses(db: Database): unknown[] {
  return rows(
    db,
    `SELECT s.ts_ms, ci.chan_id, co.chan_id, typeof(in_amt_msat), in_amt_msat, typeof(out_amt_msat), out_amt_msat, typeof(fee_msat), fee_msat
     FROM success_events s JOIN chan ci ON ci.ref = s.in_ref JOIN chan co ON co.ref = s.out_ref ORDER BY s.id`,
  );
}

function expectedSuccess(o: SuccessOutcome): unknown[] {
  return [o.timestampMs, o.incomingChanId.toString(), o.outgoingChanId.toString(), ...stored(o.incomingAmtMsat), ...stored(o.outgoingAmtMsat), ...stored(o.feeMsat)];
}

/** The roll-ups a file must hold for `outcomes`, summed in bigint, in key order. */
function expectedRollups(outcomes: readonly Outcome[]) {
  const f = new Map<string, { key: unknown[]; count: number; fees: bigint; amt: bigint }>();
  const s = new Map<string, { key: unknown[]; count: number; fees: bigint; amt: bigint }>();
  for (const o of outcomes) {
    const day = Math.floor(o.timestampMs / DAY);
    const key = o.kind === 'failure' ? [day, o.outgoingChanId.toString(), o.incomingChanId.toString(), o.reason] : [day, o.outgoingChanId.toString(), o.incomingChanId.toString()];
    const m = o.kind === 'failure' ? f : s;
    const k = key.join('|');
    let a = m.get(k);
    if (!a) m.set(k, (a = { key, count: 0, fees: 0n, amt: 0n }));
    a.count++;
    if (o.kind === 'failure') {
      a.fees += o.missedFeeMsat;
      if (o.missedFeeMsat > 0n) a.amt += o.outgoingAmtMsat;
    } else {
      a.fees += o.feeMsat;
      a.amt += o.outgoingAmtMsat;
    }
  }
  const list = (m: typeof f) => [...m.values()].map((a) => [...a.key, a.count, ...stored(a.fees), ...stored(a.amt)].map(String)).sort((x, y) => (x.join('|') < y.join('|') ? -1 : 1));
  return { failures: list(f), successes: list(s) };
}

function fileRollups(db: Database) {
  const list = (sql: string) => rows(db, sql).map((r) => r.map(String)).sort((x, y) => (x.join('|') < y.join('|') ? -1 : 1));
  return {
    failures: list(`SELECT r.day, co.chan_id, ci.chan_id, s.s, r.count, typeof(r.missed_fees_msat), r.missed_fees_msat, typeof(r.missed_amount_msat), r.missed_amount_msat
      FROM rollup_failures r JOIN chan co ON co.ref = r.out_ref JOIN chan ci ON ci.ref = r.in_ref JOIN str s ON s.ref = r.reason_ref`),
    successes: list(`SELECT r.day, co.chan_id, ci.chan_id, r.count, typeof(r.fees_msat), r.fees_msat, typeof(r.amount_msat), r.amount_msat
      FROM rollup_successes r JOIN chan co ON co.ref = r.out_ref JOIN chan ci ON ci.ref = r.in_ref`),
  };
}

describe('store: batched inserts and SQL roll-ups store exactly what one row at a time did', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('raw rows keep their order, values and SQL types across batch boundaries (uint64 above 2^53, failure strings)', async () => {
    const rnd = prng(7);
    const chans = [824639218392432641n, 2n, BIG, U64_MAX, 0n];
    const strings = ['', 'insufficient bandwidth to route htlc', 'fee 1000 msat below 2000', "it's \"quoted\" 1", 'ünïcödé 🎉 7', 'x'.repeat(130)];
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    let ts = NOW;
    /** nF failures and nS successes, interleaved; TEXT amounts at 64-row chunk edges and at random. */
    const gen = (nF: number, nS: number): Outcome[] => {
      const out: Outcome[] = [];
      for (let f = 0, s = 0; f < nF || s < nS; ) {
        if (rnd() < 0.5) ts -= 1000; // several rows per timestamp: ties are ordered by id
        const isFailure = s >= nS || (f < nF && rnd() < nF / (nF + nS));
        const big = [0, 63, 64, 130, nF - 1].includes(isFailure ? f : s) || rnd() < 0.05;
        const amt = () => (big && rnd() < 0.5 ? pick([BIG, MAX_SAFE + 1n, U64_MAX]) : BigInt(Math.floor(rnd() * 2 ** 40)));
        const outAmt = amt();
        if (isFailure) {
          out.push(
            failure({
              timestampMs: ts,
              // the first row brings two new channels: which is interned first shows
              outgoingChanId: f === 0 ? chans[0] : pick(chans),
              incomingChanId: f === 0 ? chans[1] : pick(chans),
              incomingHtlcId: big ? U64_MAX - BigInt(f) : BigInt(f),
              outgoingHtlcId: MAX_SAFE - BigInt(f % 2),
              outgoingAmtMsat: outAmt,
              incomingAmtMsat: outAmt + amt(),
              reason: pick(REASONS),
              failureString: pick(strings),
              amountsKnown: rnd() < 0.9,
            }),
          );
          f++;
        } else {
          out.push(success({ timestampMs: ts, outgoingChanId: pick(chans), incomingChanId: pick(chans), outgoingAmtMsat: outAmt, incomingAmtMsat: outAmt + amt() }));
          s++;
        }
      }
      return out;
    };
    // a bulk batch (whole 64-row INSERTs and a remainder), then one written row by row
    const outcomes = [...gen(BULK + 64 * 2 + 23, BULK + 17), ...gen(100, 40)];
    const file = path.join(dir, 'raw.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    const firstBatch = 2 * BULK + 64 * 2 + 40;
    store.record(outcomes.slice(0, firstBatch));
    store.applyPending();
    store.record(outcomes.slice(firstBatch));
    const fails = outcomes.filter((o): o is FailureOutcome => o.kind === 'failure');
    const got = store.failures({ window: 'all', limit: 100_000, nowMs: NOW });
    const newestFirst = fails.map((f, i) => ({ f, i })).sort((x, y) => y.f.timestampMs - x.f.timestampMs || y.i - x.i);
    assert.deepEqual(
      got.map(({ id: _id, ...f }) => f),
      newestFirst.map(({ f: { kind: _k, timestampNs: _ns, ...f } }) => f),
    );
    await store.close();

    const db = await openFile(file);
    try {
      assert.deepEqual(rawFailures(db), fails.map(expectedFailure));
      assert.deepEqual(rawSuccesses(db), outcomes.filter((o): o is SuccessOutcome => o.kind === 'success').map(expectedSuccess));
      // channels are interned as they always were: per applyPending the failures' (outgoing, then
      // incoming), then the successes'
      const order: string[] = [];
      for (const batch of [outcomes.slice(0, firstBatch), outcomes.slice(firstBatch)])
        for (const kind of ['failure', 'success'])
          for (const o of batch) if (o.kind === kind) for (const c of [o.outgoingChanId, o.incomingChanId]) if (!order.includes(c.toString())) order.push(c.toString());
      assert.deepEqual(rows(db, 'SELECT chan_id FROM chan ORDER BY ref').map((r) => r[0]), order);
    } finally {
      db.close();
    }
  });

  it('roll-ups equal bigint sums for new and existing keys, across 2^53 and 10^18, and through the bigint fallbacks', async () => {
    const file = path.join(dir, 'rollups.sqlite');
    const open = () => HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, retentionDays: 1000, rollupDays: 1000 });
    const rnd = prng(11);
    const chans = [1n, 2n, BIG];
    const all: Outcome[] = [];
    const batch = (n: number, amount: () => bigint): Outcome[] =>
      Array.from({ length: n }, (_, i) => {
        // yesterday, today, and both sides of midnight
        const ts = [MIDNIGHT - DAY + 5, MIDNIGHT - 1, MIDNIGHT, NOW][i % 4];
        const out = chans[Math.floor(rnd() * chans.length)];
        const inn = chans[Math.floor(rnd() * chans.length)];
        const a = amount();
        const fee = rnd() < 0.2 ? 0n : amount();
        return rnd() < 0.5
          ? failure({ timestampMs: ts, outgoingChanId: out, incomingChanId: inn, outgoingAmtMsat: a, incomingAmtMsat: a + fee, missedFeeMsat: fee, reason: REASONS[i % 2] })
          : success({ timestampMs: ts, outgoingChanId: out, incomingChanId: inn, outgoingAmtMsat: a, incomingAmtMsat: a + fee, feeMsat: fee });
      });
    const small = () => BigInt(Math.floor(rnd() * 1e9));
    const nearMax = () => MAX_SAFE - BigInt(Math.floor(rnd() * 1000));
    const check = async (store: HtlcStore, what: string) => {
      const exp = expectedRollups(all);
      await store.flush();
      assert.equal(store.sizes.rollupFailureRows, exp.failures.length, `${what}: failure roll-up rows`);
      assert.equal(store.sizes.rollupSuccessRows, exp.successes.length, `${what}: success roll-up rows`);
      const db = await openFile(file);
      try {
        assert.deepEqual(fileRollups(db), exp, what);
      } finally {
        db.close();
      }
    };

    let store = await open();
    const steps: [string, Outcome[]][] = [
      // BULK batches: about half of each is failures
      ['new keys (SQL)', batch(BULK * 3, small)],
      ['sums pass 2^53 and become TEXT (SQL)', batch(BULK * 3, nearMax)],
      ['small amounts added to TEXT sums (SQL)', batch(BULK * 3, small)],
      ['amounts above 2^53 in the batch (bigint)', batch(BULK * 3, () => (rnd() < 0.2 ? U64_MAX : small()))],
      ['stored sums past 10^18 (SQL fails, bigint)', batch(BULK * 3, small)],
      ['a small batch (bigint)', batch(100, small)],
    ];
    const spy = spyRollupInSql();
    try {
      for (const [what, outcomes] of steps) {
        all.push(...outcomes);
        store.record(outcomes);
        await check(store, what);
      }
    } finally {
      spy.restore();
    }
    // both ways were taken: SQL, and SQL failing over to bigint
    assert.ok(spy.calls.includes(true) && spy.calls.includes(false), String(spy.calls));
    await store.close();

    // a value the SQL add must not touch: an integral REAL (bigint reads it as a number)
    const db = await openFile(file);
    db.run('UPDATE rollup_failures SET missed_fees_msat = 5.0, missed_amount_msat = 7.0');
    db.run('UPDATE rollup_successes SET fees_msat = 5.0');
    assert.equal(rows(db, "SELECT count(*) FROM rollup_failures WHERE typeof(missed_fees_msat) <> 'real'")[0][0], 0);
    fs.writeFileSync(file, db.export());
    db.close();
    store = await open();
    const before = fileRollupsAfterEdit(await openFile(file));
    const more = batch(BULK * 3, small);
    store.record(more);
    await store.flush();
    const after = await openFile(file);
    try {
      const got = fileRollups(after);
      // every key: stored before + this batch, exactly, as u64ToSql writes it
      const add = expectedRollups(more);
      const sum = (base: string[][], delta: string[][], keyLen: number) => {
        const m = new Map(base.map((r) => [r.slice(0, keyLen).join('|'), r]));
        for (const d of delta) {
          const k = d.slice(0, keyLen).join('|');
          const b = m.get(k);
          if (!b) {
            m.set(k, d);
            continue;
          }
          const v = (i: number) => BigInt(b[i]) + BigInt(d[i]);
          m.set(k, [...d.slice(0, keyLen), String(Number(b[keyLen]) + Number(d[keyLen])), ...stored(v(keyLen + 2)).map(String), ...stored(v(keyLen + 4)).map(String)]);
        }
        return [...m.values()].sort((x, y) => (x.join('|') < y.join('|') ? -1 : 1));
      };
      assert.deepEqual(got.failures, sum(before.failures, add.failures, 4));
      assert.deepEqual(got.successes, sum(before.successes, add.successes, 3));
    } finally {
      after.close();
    }
    await store.close();
  });

  it('roll-up edge cases take the way that keeps them exact', async () => {
    const file = path.join(dir, 'edges.sqlite');
    const store = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW, retentionDays: 100_000, rollupDays: 100_000 });
    const all: Outcome[] = [];
    const pair = (out: bigint, amount: bigint, timestampMs = NOW): Outcome[] => [
      failure({ timestampMs, outgoingChanId: out, incomingChanId: 9n, outgoingAmtMsat: amount, incomingAmtMsat: amount * 2n, missedFeeMsat: amount }),
      success({ timestampMs, outgoingChanId: out, incomingChanId: 9n, outgoingAmtMsat: amount, incomingAmtMsat: amount * 2n, feeMsat: amount }),
    ];
    // makes a step a bulk batch: rows on a key of their own
    const filler = (): Outcome[] => Array.from({ length: BULK }, () => pair(100n, 1n)).flat();
    const steps: [string, Outcome[], boolean[]][] = [
      ['the largest INTEGER amounts (SQL)', pair(1n, MAX_SAFE), [true, true]],
      ['their sums pass 2^53 at the last add: TEXT (SQL)', pair(1n, MAX_SAFE - 1n), [true, true]],
      ['an amount above 2^53 in the batch (bigint)', pair(2n, U64_MAX), []],
      ['a small amount onto a 20-digit sum (SQL fails, bigint)', pair(2n, 3n), [false, false]],
      ['a small amount onto an 18-digit sum (SQL)', [...pair(3n, 10n ** 18n - 1n - MAX_SAFE), ...pair(3n, MAX_SAFE)], []],
      ['…and onto it again (SQL)', pair(3n, MAX_SAFE), [true, true]],
      ['sums past 10^18 within one statement (SQL fails, bigint)', Array.from({ length: 200 }, () => pair(5n, MAX_SAFE)).flat(), [false, false]],
      // SQL's integer division truncates: a day before 1970 is dayOf()'s only in bigint
      ['a time before 1970 (bigint)', pair(4n, 5n, -DAY - 5), []],
    ];
    const spy = spyRollupInSql();
    try {
      for (const [what, outcomes, ways] of steps) {
        spy.calls.length = 0;
        const withFiller = [...outcomes, ...filler()];
        all.push(...withFiller);
        store.record(withFiller);
        await store.flush();
        assert.deepEqual(spy.calls, ways, what);
        const db = await openFile(file);
        try {
          assert.deepEqual(fileRollups(db), expectedRollups(all), what);
        } finally {
          db.close();
        }
      }
    } finally {
      spy.restore();
    }
    await store.close();

    // a value bigint refuses (not an integer) is refused the same way, never summed by SQL
    const db = await openFile(file);
    db.run('UPDATE rollup_failures SET missed_fees_msat = 5.5 WHERE out_ref = (SELECT ref FROM chan WHERE chan_id = ?)', ['1']);
    fs.writeFileSync(file, db.export());
    db.close();
    const again = await HtlcStore.open(file, { flushIntervalMs: 0, now: () => NOW });
    again.record([...pair(1n, 1n).slice(0, 1), ...filler()]);
    assert.throws(() => again.applyPending(), /not an exact uint64/);
    await again.close();
  });
});

/** Records what each rollupInSql call returned (true: summed in SQL; false: left to bigint). */
function spyRollupInSql(): { calls: boolean[]; restore(): void } {
  const proto = HtlcStore.prototype as unknown as { rollupInSql: (...args: unknown[]) => boolean };
  const orig = proto.rollupInSql;
  const calls: boolean[] = [];
  proto.rollupInSql = function (this: unknown, ...args: unknown[]) {
    const r = orig.apply(this, args);
    calls.push(r);
    return r;
  };
  return { calls, restore: () => (proto.rollupInSql = orig) };
}

function fileRollupsAfterEdit(db: Database) {
  try {
    return fileRollups(db);
  } finally {
    db.close();
  }
}
