import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { reportCommand, renderReportCsv, terminalSafe } from '../../src/cli/report';
import { UsageError } from '../../src/cli/args';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LndSimulator } from '../../src/core/sim';
import { startWatch } from './cli-session';
import { sleep, until } from './wait';

function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  return { io: { stdout: out, stderr: err }, text: () => o, errors: () => e };
}

describe('htlc-monitor report', function () {
  let sim: LndSimulator;
  before(async () => {
    sim = await LndSimulator.start({ seed: 5, channels: 14 });
  });
  after(async () => {
    await sim.stop();
  });

  it('watches, then prints JSON carrying every number (bigints as strings), with recommendations', async () => {
    const c = capture();
    const drained = sim.channels.find((x) => x.traits.includes('drained'))!;
    const inbound = sim.channels.find((x) => x.active && x.traits.length === 0 && !x.zeroConf)!;
    let injected = false;
    const code = await reportCommand(['--json', '--all', '--min-hours', '0.0001', '--min-failures', '3'], c.io, {
      connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
      onReady: (monitor) => {
        if (injected) return;
        injected = true;
        for (let i = 0; i < 4; i++)
          sim.linkFail({
            incomingChanId: inbound.chanIdStr,
            outgoingChanId: drained.chanIdStr,
            incomingAmtMsat: '500050000',
            outgoingAmtMsat: '500000000',
            wireFailure: 'TEMPORARY_CHANNEL_FAILURE',
            failureDetail: 'INSUFFICIENT_BALANCE',
          });
        // Report early (Ctrl-C) once the four are counted and --min-hours (0.36 s) has been
        // observed, rather than after a --duration the connection alone may outlast here.
        void Promise.all([until(() => monitor.counters.failures >= 4, 'the four failures counted'), sleep(400)]).finally(() => process.emit('SIGINT'));
      },
    });
    assert.equal(code, 0, c.errors());
    const doc = JSON.parse(c.text());
    assert.equal(doc.window, '24h');
    assert.equal(doc.view, 'full');
    const ch = doc.channels.find((x: { chanId: string }) => x.chanId === drained.chanIdStr);
    assert.ok(ch, 'the drained channel is in the report');
    assert.equal(ch.windows['24h'].failures, 4);
    assert.equal(ch.windows['24h'].missedFeesMsat, '200000');
    const rec = doc.recommendations.find((r: { kind: string }) => r.kind === 'rebalance-in');
    assert.ok(rec, 'rebalance-in advised');
    assert.equal(rec.details.target.chanId, drained.chanIdStr);
    assert.equal(typeof rec.details.amountSat, 'string');
  });

  it('text output: the summary, each recommendation with gain, urgency parts and evidence', async () => {
    const c = capture();
    const code = await reportCommand(['--duration', '0.5'], c.io, {
      connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
    });
    assert.equal(code, 0, c.errors());
    assert.match(c.text(), /Opportunities, window 24h/);
    assert.match(c.text(), /No failed forwards|Nothing to recommend yet|Nothing actionable/);
  });

  it('usage errors: bad window, both formats, --db with --duration or a missing file, missing flags', async () => {
    const c = capture();
    await assert.rejects(reportCommand(['--window', '2h'], c.io), UsageError);
    await assert.rejects(reportCommand(['--json', '--csv'], c.io), UsageError);
    await assert.rejects(reportCommand(['--db', 'x.sqlite', '--duration', '5'], c.io), /--duration/);
    assert.equal(await reportCommand(['--db', path.join(os.tmpdir(), 'htlc-no-such-file.sqlite')], c.io), 1);
    assert.match(c.errors(), /does not exist/);
    await assert.rejects(reportCommand([], c.io), /--lnd/);
    await assert.rejects(reportCommand(['--min-hours', '0', '--lnd', 'x:1'], c.io), /min-hours/);
    await assert.rejects(reportCommand(['--bogus'], c.io), UsageError);
  });

  it('aliases are neutralised for terminals and CSV', () => {
    assert.equal(terminalSafe('a\u001b[2Jb'), 'a?[2Jb');
    assert.equal(terminalSafe('x'.repeat(50), 10).length, 10);
    const csv = renderReportCsv({
      generatedAtMs: 0,
      window: '24h',
      coverage: { window: '24h', fromMs: 0, toMs: 0, observedMs: 0, source: 'memory' },
      minimums: { failures: 3, observedHours: 1 },
      view: 'full',
      channels: [
        {
          chanId: '1', scid: '0x0x1', alias: '=HYPERLINK("http://e","x")', status: 'active', capacitySat: 0n, outboundMsat: 0n, inboundMsat: 0n, ourFeePpm: null,
          windows: Object.fromEntries(['1h', '24h', '7d', '30d', 'all'].map((w) => [w, {
            window: w, observedHours: 0, failures: 1, successes: 0, successRate: 0, missedFeesMsat: 0n, missedAmountMsat: 0n, earnedFeesMsat: 0n, forwardedMsat: 0n,
            byCategory: Object.fromEntries(['liquidity', 'fee', 'policy', 'peer', 'downstream', 'other'].map((k) => [k, { count: 0, missedFeesMsat: 0n, missedAmountMsat: 0n }])),
            byReason: {},
          }])) as never,
          liquidity: null, feeOffers: null, recommendations: [], notes: [], actionable: false, urgency: 0,
        },
      ],
      routePairs: [],
      recommendations: [],
      summary: { channelsWithFailures: 1, channelsWithRecommendations: 0, missedFeesMsat: 0n, projectedGainSat30d: 0n, message: '' },
    });
    assert.match(csv, /"'=HYPERLINK\(""http:\/\/e"",""x""\)"/);
  });
});

describe('htlc-monitor report --db (from the stored history)', function () {
  let sim: LndSimulator;
  let dir: string;
  let file: string;
  let watched: { node: { failedForwards: number; missedFeesMsat: string }; channels: { channelId: string; failedForwards: number; missedFeesMsat: string }[] };
  before(async () => {
    sim = await LndSimulator.start({ seed: 23, channels: 12 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-report-db-'));
    file = path.join(dir, 'history.sqlite');
    const creds = await sim.writeCredentials(dir);
    await using run = await startWatch(['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath, '--json', '--db', file]);
    await sim.waitForStreams(1);
    const emitted = sim.step(3000, { flush: true });
    await run.untilMetric('events_received_total', (n) => n === 1 + emitted, 'the events read');
    const r = await run.stop();
    assert.equal(r.code, 0, r.err);
    watched = JSON.parse(r.out);
    assert.ok(watched.node.failedForwards > 0 && watched.channels.length > 0, r.out.slice(0, 300));
  });
  after(async () => {
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('without LND flags: every channel and number of the watch, from history alone (the file is left untouched)', async () => {
    const before = fs.readFileSync(file);
    const c = capture();
    assert.equal(await reportCommand(['--db', file, '--window', 'all', '--all', '--json'], c.io), 0, c.errors());
    const doc = JSON.parse(c.text());
    assert.equal(doc.coverage.source, 'store');
    for (const ch of watched.channels) {
      const r = doc.channels.find((x: { chanId: string }) => x.chanId === ch.channelId);
      assert.ok(r, `channel ${ch.channelId} is in the report`);
      assert.equal(r.windows.all.failures, ch.failedForwards);
      assert.equal(r.windows.all.missedFeesMsat, ch.missedFeesMsat);
      assert.equal(r.status, 'unknown');
    }
    assert.equal(doc.recommendations.length, 0, 'no advice without channel context');
    assert.deepEqual(fs.readFileSync(file), before);
    assert.ok(!fs.existsSync(`${file}.lock`));
    const t = capture();
    assert.equal(await reportCommand(['--db', file, '--window', '24h', '--all'], t.io), 0, t.errors());
    assert.match(t.text(), /Opportunities, window 24h/);
    assert.match(t.errors(), /stored history alone/);
  });

  it('with LND flags: the same numbers with channel context (aliases, status) from LND', async () => {
    const c = capture();
    const code = await reportCommand(['--db', file, '--window', '24h', '--all', '--json'], c.io, {
      connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
    });
    assert.equal(code, 0, c.errors());
    const doc = JSON.parse(c.text());
    let known = 0;
    for (const ch of watched.channels) {
      const r = doc.channels.find((x: { chanId: string }) => x.chanId === ch.channelId);
      assert.ok(r, `channel ${ch.channelId}`);
      assert.equal(r.windows['24h'].failures, ch.failedForwards);
      if (r.status !== 'unknown') known++;
    }
    assert.ok(known > 0, 'channels known to LND carry their context');
    const csv = capture();
    assert.equal(await reportCommand(['--db', file, '--csv', '--all'], csv.io, { connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex } }), 0);
    assert.match(csv.text(), /^window,channel_id,scid/);
  });
});
