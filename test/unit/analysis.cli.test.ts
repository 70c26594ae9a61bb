import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { reportCommand, renderReportCsv, terminalSafe } from '../../src/cli/report';
import { UsageError } from '../../src/cli/args';
import { LndSimulator } from '../../src/core/sim';

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
  this.timeout(30_000);
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
    const code = await reportCommand(['--json', '--all', '--duration', '1.5', '--min-hours', '0.0001', '--min-failures', '3'], c.io, {
      connection: { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
      onReady: () => {
        for (let i = 0; i < 4; i++)
          sim.linkFail({
            incomingChanId: inbound.chanIdStr,
            outgoingChanId: drained.chanIdStr,
            incomingAmtMsat: '500050000',
            outgoingAmtMsat: '500000000',
            wireFailure: 'TEMPORARY_CHANNEL_FAILURE',
            failureDetail: 'INSUFFICIENT_BALANCE',
          });
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

  it('usage errors: bad window, both formats, --db without the store, missing flags', async () => {
    const c = capture();
    await assert.rejects(reportCommand(['--window', '2h'], c.io), UsageError);
    await assert.rejects(reportCommand(['--json', '--csv'], c.io), UsageError);
    await assert.rejects(reportCommand(['--db', 'x.sqlite'], c.io), /store/);
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
