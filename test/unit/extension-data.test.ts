// The extension's vscode-free parts: windowed stats, opportunity heuristics, escaping, exports and
// the webview protocol's validation.
import * as assert from 'node:assert/strict';
import type { FailureOutcome, SuccessOutcome } from '../../src/core/normalizer';
import { categoryOf } from '../../src/core/reasons';
import { escapeMarkdown, sanitizeText } from '../../src/extension/common/markdown';
import { HeuristicOpportunitySource } from '../../src/extension/data/heuristicOpportunities';
import { MemoryWindowSource } from '../../src/extension/data/memoryWindowSource';
import { toRow } from '../../src/extension/data/rows';
import type { ChannelContext, ChannelContextSource } from '../../src/extension/data/types';
import { csvField, opportunitiesToCsv } from '../../src/extension/export/exporter';
import { parseWebviewMessage } from '../../src/shared/protocol';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const CH_A = 968305345167917057n; // 880676x1x1
const CH_B = 968305345167917058n;

function fail(chan: bigint, minutesAgo: number, reason = 'INSUFFICIENT_BALANCE', feeMsat = 1000n, amtMsat = 1_000_000n): FailureOutcome {
  const ts = NOW - minutesAgo * 60_000;
  return {
    kind: 'failure', source: 'link', incomingChanId: 1n, outgoingChanId: chan, incomingHtlcId: 1n, outgoingHtlcId: 1n,
    timestampNs: BigInt(ts) * 1_000_000n, timestampMs: ts, incomingAmtMsat: amtMsat + feeMsat, outgoingAmtMsat: amtMsat,
    missedFeeMsat: feeMsat, reason, category: categoryOf(reason), wireFailure: 'TEMPORARY_CHANNEL_FAILURE', failureDetail: reason,
    failureString: '', amountsKnown: true,
  };
}
function ok(chan: bigint, minutesAgo: number): SuccessOutcome {
  const ts = NOW - minutesAgo * 60_000;
  return { kind: 'success', incomingChanId: 1n, outgoingChanId: chan, incomingHtlcId: 2n, outgoingHtlcId: 2n, timestampNs: 0n, timestampMs: ts, incomingAmtMsat: 2n, outgoingAmtMsat: 1n, feeMsat: 1n, amountsKnown: true };
}

describe('MemoryWindowSource', () => {
  it('counts failures per window and ranks channels by missed fees', () => {
    const w = new MemoryWindowSource({ now: () => NOW });
    w.ingest([fail(CH_A, 10), fail(CH_A, 120, 'FEE_INSUFFICIENT', 5000n), fail(CH_B, 5, 'INSUFFICIENT_BALANCE', 3000n), fail(0n, 1), ok(CH_A, 3)]);
    assert.equal(w.totals('1h').failures, 3, 'includes the incoming-link failure');
    assert.equal(w.totals('24h').failures, 4);
    const hour = w.channels('1h');
    assert.deepEqual(hour.map((c) => c.channelId), [CH_B.toString(), CH_A.toString()]);
    const day = w.channels('24h');
    assert.deepEqual(day.map((c) => c.channelId), [CH_A.toString(), CH_B.toString()]);
    assert.equal(day[0].missedFeesMsat, 6000n);
    assert.equal(day[0].successes, 1);
    assert.deepEqual(day[0].reasons.map((r) => r.reason).sort(), ['FEE_INSUFFICIENT', 'INSUFFICIENT_BALANCE']);
    assert.equal(w.recentFailures(CH_A.toString(), '1h', 10).length, 1);
    assert.equal(w.recentFailures(CH_A.toString(), 'all', 10).length, 2);
  });

  it('builds a failure time series by reason and notifies changed channels', () => {
    const w = new MemoryWindowSource({ now: () => NOW });
    const seen: string[][] = [];
    w.onDidChange((ids) => seen.push([...ids]));
    w.ingest([fail(CH_A, 10), fail(CH_A, 11), fail(CH_B, 30, 'FEE_INSUFFICIENT')]);
    const s = w.failureSeries('1h');
    const total = s.series.reduce((n, r) => n + r.counts.reduce((a, b) => a + b, 0), 0);
    assert.equal(total, 3);
    assert.equal(s.series[0].reason, 'INSUFFICIENT_BALANCE');
    assert.deepEqual(seen, [[CH_A.toString(), CH_B.toString()]]);
    w.reset();
    assert.equal(w.totals('all').failures, 0);
  });

  it('folds old minutes into hours and forgets what is past retention', () => {
    let now = NOW;
    const w = new MemoryWindowSource({ now: () => now, retentionMs: 2 * 86_400_000 });
    w.ingest([fail(CH_A, 60 * 30), fail(CH_A, 60 * 30 + 1), fail(CH_A, 5)]);
    now += 2 * 60_000;
    w.ingest([fail(CH_B, 0)]);
    assert.equal(w.channel(CH_A.toString(), 'all')!.failures, 3);
    assert.equal(w.channel(CH_A.toString(), '7d')!.failures, 3);
    now += 2 * 86_400_000;
    w.configure({});
    assert.equal(w.totals('7d').failures, 0);
  });
});

describe('HeuristicOpportunitySource', () => {
  it('recommends by the dominant category, with evidence and urgency', () => {
    const w = new MemoryWindowSource({ now: () => NOW });
    w.ingest([fail(CH_A, 1, 'INSUFFICIENT_BALANCE', 9000n), fail(CH_A, 2, 'INSUFFICIENT_BALANCE', 9000n), fail(CH_B, 1, 'DOWNSTREAM', 100n)]);
    const ctx: ChannelContext = { channelId: CH_A.toString(), alias: 'alice', capacitySat: 1_000_000n, localBalanceSat: 10_000n, remoteBalanceSat: 990_000n };
    const source: ChannelContextSource = { get: (id) => (id === ctx.channelId ? ctx : undefined), onDidChange: () => ({ dispose() {} }), refresh: async () => {}, dispose() {} };
    const opps = new HeuristicOpportunitySource(w, source).opportunities('24h', NOW);
    assert.equal(opps[0].channelId, CH_A.toString());
    assert.equal(opps[0].action, 'rebalance');
    assert.equal(opps[0].urgency, 'high');
    assert.equal(opps[0].alias, 'alice');
    assert.ok(opps[0].evidence.some((e) => /local balance 10,000 sat of 1,000,000 sat/.test(e)), opps[0].evidence.join('\n'));
    assert.equal(opps[1].actionable, false);
    assert.equal(opps[1].urgency, 'low');
    const row = toRow(opps[0], 1);
    assert.equal(row.missedFeesMsat, '18000');
  });
});

describe('escaping', () => {
  it('makes aliases inert Markdown', () => {
    const e = escapeMarkdown('**bold** [x](http://e) <img src=x onerror=alert(1)> $(zap) | `c`');
    assert.ok(!e.includes('<img'));
    assert.ok(!/(^|[^\\])\*\*/.test(e));
    assert.ok(!/(^|[^\\])\[/.test(e));
    assert.ok(!/(^|[^\\])\|/.test(e));
    assert.ok(!/(^|[^\\])\$\(/.test(e));
  });
  it('strips control and bidi characters', () => {
    assert.equal(sanitizeText('a\u202eb\nc\u0000d'), 'ab c d');
  });
  it('neutralises CSV formulas and quotes', () => {
    assert.equal(csvField('=HYPERLINK("http://e","x")'), `"'=HYPERLINK(""http://e"",""x"")"`);
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    const csv = opportunitiesToCsv([{ channelId: '1', scid: '0x0x1', alias: '@x', rank: 1, failures: 1, successes: 0, missedFeesMsat: '1500', missedAmountMsat: '0', topReason: null, action: 'none', recommendation: 'r', urgency: 'low', actionable: false, evidence: [] }]);
    assert.match(csv, /^rank,/);
    assert.match(csv, /,"'@x",1,0,1\.500,0\.000,/);
  });
});

describe('webview protocol', () => {
  it('accepts well-formed messages and rejects the rest', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', window: '7d', actionableOnly: true }), { type: 'ready', window: '7d', actionableOnly: true });
    assert.deepEqual(parseWebviewMessage({ type: 'setWindow', window: '1h' }), { type: 'setWindow', window: '1h' });
    assert.equal(parseWebviewMessage({ type: 'setWindow', window: '2h' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'export', format: 'xml' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'revealChannel', channelId: '../etc' }), undefined);
    assert.equal(parseWebviewMessage('ready'), undefined);
    assert.equal(parseWebviewMessage(null), undefined);
  });
});
