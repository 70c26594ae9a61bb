import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChannelContextService, LndManageJProvider } from '../../src/core/context';

// Bodies shaped like lnd-manageJ's DTOs (ChannelsDto, ChannelDetailsDto, BalanceInformationDto,
// PoliciesDto/PolicyDto, ChannelStatusDto, FlowReportDto, RatingDto): real field names.
const CHAN_A = '712345x123x1';
const CHAN_A_SHORT = ((712345n << 40n) | (123n << 16n) | 1n).toString();
const CHAN_B = '800000x5x0';
const CHAN_B_SHORT = ((800000n << 40n) | (5n << 16n) | 0n).toString();

function details(short: string, compact: string, extra: Record<string, unknown> = {}) {
  return {
    channelIdShort: short,
    channelIdCompact: compact,
    channelIdCompactLnd: compact.replace(/x/g, ':'),
    channelPoint: 'abcd:1',
    openHeight: 712345,
    remotePubkey: '02' + 'ab'.repeat(32),
    openInitiator: 'LOCAL',
    remoteAlias: '<script>alert(1)</script>',
    capacitySat: '5000000',
    totalSentSat: '100',
    totalReceivedSat: '200',
    status: { private: false, active: true, closed: false, openClosed: 'OPEN' },
    balance: {
      localBalanceSat: '1200000',
      localReserveSat: '50000',
      localAvailableSat: '1150000',
      remoteBalanceSat: '3790000',
      remoteReserveSat: '50000',
      remoteAvailableSat: '3740000',
    },
    onChainCosts: { openCostsSat: '0', closeCostsSat: '0', sweepCostsSat: '0' },
    policies: {
      local: { feeRatePpm: 250, baseFeeMilliSat: '1000', inboundFeeRatePpm: -20, inboundBaseFeeMilliSat: '0', enabled: true, timeLockDelta: 40, minHtlcMilliSat: '1000', maxHtlcMilliSat: '4950000000' },
      remote: { feeRatePpm: 900, baseFeeMilliSat: '0', inboundFeeRatePpm: 0, inboundBaseFeeMilliSat: '0', enabled: false, timeLockDelta: 144, minHtlcMilliSat: '1', maxHtlcMilliSat: '4950000000' },
    },
    closeDetails: { initiator: 'UNKNOWN', height: 0 },
    feeReport: { earnedMilliSat: '1234', sourcedMilliSat: '0' },
    numUpdates: 42,
    warnings: [],
    ...extra,
  };
}

describe('lnd-manageJ provider (local HTTP stub)', () => {
  let server: http.Server;
  let base: string;
  const hits: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      const send = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      switch (req.url) {
        case '/api/status/open-channels/':
          return send(200, { channels: [CHAN_A, CHAN_B] });
        case `/api/channel/${CHAN_A_SHORT}/details`:
          // newer lnd-manageJ: flow report and rating inside the details
          return send(200, details(CHAN_A_SHORT, CHAN_A, {
            flowReport: { forwardedSentMilliSat: '5000', forwardedReceivedMilliSat: '7000', forwardingFeesReceivedMilliSat: '12', rebalanceSentMilliSat: '0', rebalanceFeesSentMilliSat: '0', rebalanceReceivedMilliSat: '0', rebalanceSupportSentMilliSat: '0', rebalanceSupportFeesSentMilliSat: '0', rebalanceSupportReceivedMilliSat: '0', receivedViaPaymentsMilliSat: '0', totalSentMilliSat: '5000', totalReceivedMilliSat: '7000' },
            rating: { rating: 1234, message: '', details: { 'earned': '12' } },
          }));
        case `/api/channel/${CHAN_B_SHORT}/details`:
          // older lnd-manageJ: no flowReport / rating in the details → separate endpoints
          return send(200, details(CHAN_B_SHORT, CHAN_B, { remoteAlias: 'bob', status: { private: true, active: false, closed: false, openClosed: 'OPEN' } }));
        case `/api/channel/${CHAN_B_SHORT}/flow-report`:
          return send(200, { forwardedSentMilliSat: '1', forwardedReceivedMilliSat: '2', forwardingFeesReceivedMilliSat: '3', rebalanceSentMilliSat: '4', rebalanceFeesSentMilliSat: '0', rebalanceReceivedMilliSat: '5', rebalanceSupportSentMilliSat: '0', rebalanceSupportFeesSentMilliSat: '0', rebalanceSupportReceivedMilliSat: '0', receivedViaPaymentsMilliSat: '0', totalSentMilliSat: '6', totalReceivedMilliSat: '7' });
        case `/api/channel/${CHAN_B_SHORT}/rating`:
          return send(200, { rating: -1, message: 'Unable to compute rating', details: {} });
        case '/slow/api/status/open-channels/':
          // never answers: only the client's timeout can end the call, however slow this machine
          req.on('close', () => res.destroy());
          return;
        default:
          return send(404, { error: 'not found' });
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('maps the DTO fields (capacitySat, balance.*Sat, policies.local/remote, remoteAlias, status)', async () => {
    const p = new LndManageJProvider({ baseUrl: base });
    const snap = await p.load();
    assert.deepEqual(snap.warnings, []);
    assert.equal(snap.channels.length, 2);
    const a = snap.channels.find((c) => c.chanId === CHAN_A_SHORT)!;
    assert.equal(a.scid, CHAN_A);
    assert.equal(a.capacitySat, 5_000_000n);
    assert.equal(a.localBalanceSat, 1_200_000n);
    assert.equal(a.localReserveSat, 50_000n);
    assert.equal(a.outboundMsat, 1_150_000_000n);
    assert.equal(a.alias, '<script>alert(1)</script>', 'kept as data');
    assert.equal(a.ourFees?.feeRatePpm, 250n);
    assert.equal(a.ourFees?.inboundFeeRatePpm, -20n);
    assert.equal(a.ourPolicy?.maxHtlcMsat, 4_950_000_000n);
    assert.equal(a.peerPolicy?.feeRatePpm, 900n);
    assert.equal(a.peerPolicy?.disabled, true);
    assert.equal(a.flow?.forwardingFeesReceivedMsat, 12n);
    assert.equal(a.rating?.rating, 1234);
    assert.equal(a.status, 'active');
    const b = snap.channels.find((c) => c.chanId === CHAN_B_SHORT)!;
    assert.equal(b.status, 'inactive');
    assert.equal(b.private, true);
    assert.equal(b.flow?.rebalanceReceivedMsat, 5n);
    assert.equal(b.rating?.rating, -1);
    assert.ok(hits.includes(`/api/channel/${CHAN_B_SHORT}/flow-report`));
    assert.ok(!hits.includes(`/api/channel/${CHAN_A_SHORT}/flow-report`), 'not fetched when the details carry it');
  });

  it('plugs into ChannelContextService behind the same provider interface', async () => {
    const svc = new ChannelContextService({ provider: new LndManageJProvider({ baseUrl: base + '/' }), refreshMs: 0 });
    await svc.refresh();
    assert.equal(svc.get(CHAN_A_SHORT).source, 'lnd-managej');
    assert.equal(svc.get(CHAN_B_SHORT).alias, 'bob');
    svc.dispose();
  });

  it('times out instead of hanging', async () => {
    const p = new LndManageJProvider({ baseUrl: `${base}/slow`, timeoutMs: 200 });
    await assert.rejects(p.load(), /abort|timeout/i);
  });

  it('refuses a non-http URL', () => {
    assert.throws(() => new LndManageJProvider({ baseUrl: 'file:///etc/passwd' }), /http/);
  });
});
