import { strict as assert } from 'node:assert';
import { LndClient } from '../../src/core/lnd/client';
import type { Channel, ChannelEdge } from '../../src/core/lnd/types';
import { ChannelContextService, ContextLndApi, LndContextProvider, policySides, toJsonValue } from '../../src/core/context';
import { LndSimulator } from '../../src/core/sim';

describe('channel context from LND (simulator)', function () {
  let sim: LndSimulator;
  let client: LndClient;

  before(async () => {
    sim = await LndSimulator.start({ seed: 7, channels: 12 });
    client = LndClient.create({ server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex });
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  function service(api: ContextLndApi = client) {
    return new ChannelContextService({ provider: new LndContextProvider(api), refreshMs: 0 });
  }

  it('reads capacity, balances, reserve and outbound liquidity as LND reports them', async () => {
    const svc = service();
    await svc.refresh();
    assert.equal(svc.ourPubkey, sim.identityPubkey);
    assert.equal(svc.open().length, sim.channels.length);
    for (const v of sim.channels) {
      const c = svc.get(v.chanIdStr);
      assert.equal(c.capacitySat, BigInt(v.capacitySat), 'capacity never 0');
      assert.equal(c.localBalanceSat, BigInt(Math.floor(v.localBalanceMsat / 1000)));
      assert.equal(c.localReserveSat, BigInt(v.reserveSat));
      // local − reserve: LND's local_balance already excludes pending outgoing HTLCs
      const expected = BigInt(Math.max(0, Math.floor(v.localBalanceMsat / 1000) - v.reserveSat)) * 1000n;
      assert.equal(c.outboundMsat, expected);
      assert.equal(c.status, v.active ? 'active' : 'inactive');
      assert.equal(c.ourFees?.feeRatePpm, BigInt(v.policy.feeRatePpm));
    }
    svc.dispose();
  });

  it('chooses the peer policy by pubkey, not by node1/node2 position', async () => {
    const svc = service();
    await svc.refresh();
    for (const v of sim.channels) {
      const c = svc.get(v.chanIdStr);
      if (v.peerPolicy === null) {
        assert.equal(c.peerPolicy, null, `${v.chanIdStr}: no peer policy announced → null`);
      } else {
        assert.ok(c.peerPolicy, `${v.chanIdStr}: peer policy present`);
        assert.equal(c.peerPolicy.feeRatePpm, BigInt(v.peerPolicy.feeRatePpm));
        assert.equal(c.peerPolicy.timeLockDelta, v.peerPolicy.timeLockDelta);
      }
      assert.equal(c.ourPolicy?.feeRatePpm, BigInt(v.policy.feeRatePpm));
      assert.equal(c.ourPolicy?.maxHtlcMsat, BigInt(v.policy.maxHtlcMsat));
    }
    svc.dispose();
  });

  it('policySides: ours is the side with our pubkey, whichever node it is; a null policy stays null', () => {
    const pol = (rate: string) => ({
      time_lock_delta: 80, min_htlc: '1000', fee_base_msat: '0', fee_rate_milli_msat: rate, disabled: false,
      max_htlc_msat: '990000000', last_update: 1, inbound_fee_base_msat: 0, inbound_fee_rate_milli_msat: 0,
    });
    const edge = (n1: string, n2: string, p1: ReturnType<typeof pol> | null, p2: ReturnType<typeof pol> | null): ChannelEdge => ({
      channel_id: '1', chan_point: 'x:0', last_update: 1, node1_pub: n1, node2_pub: n2, capacity: '1000000', node1_policy: p1, node2_policy: p2,
    });
    const a = policySides(edge('02aa', '03bb', pol('100'), pol('200')), '03bb', '02aa');
    assert.equal(a.ours?.feeRatePpm, 200n);
    assert.equal(a.peers?.feeRatePpm, 100n);
    const b = policySides(edge('02aa', '03bb', pol('100'), pol('200')), '02aa', '03bb');
    assert.equal(b.ours?.feeRatePpm, 100n);
    assert.equal(b.peers?.feeRatePpm, 200n);
    const c = policySides(edge('02aa', '03bb', null, pol('200')), '03bb', '02aa');
    assert.equal(c.peers, null);
    assert.equal(c.ours?.feeRatePpm, 200n);
  });

  it('resolves alias SCIDs (alias_scids, peer_scid_alias, zero-conf confirmed) to the canonical chan_id', async () => {
    const svc = service();
    await svc.refresh();
    const zc = sim.channels.find((c) => c.aliasScids.length > 0);
    assert.ok(zc, 'the model has an alias-SCID channel');
    for (const a of zc.aliasScids) assert.equal(svc.resolve(a), zc.chanIdStr);
    if (zc.peerScidAlias !== null) assert.equal(svc.resolve(zc.peerScidAlias), zc.chanIdStr);
    assert.equal(svc.get(zc.aliasScids[0]!).chanId, zc.chanIdStr);
    assert.equal(svc.resolve(zc.chanIdStr), zc.chanIdStr);
    assert.equal(svc.resolve('12345'), '12345', 'unknown ids map to themselves');
    svc.dispose();
  });

  it('keeps hostile aliases as data and treats LND\'s lookup error text as no alias', async () => {
    const svc = service();
    await svc.refresh();
    const hostile = sim.channels.filter((c) => c.traits.includes('hostile-alias'));
    assert.ok(hostile.length > 0);
    for (const h of hostile) assert.equal(svc.get(h.chanIdStr).alias, h.peerAlias, 'alias kept byte for byte');
    const unannounced = sim.channels.find((c) => !c.peerAnnounced);
    assert.ok(unannounced);
    assert.equal(svc.get(unannounced.chanIdStr).alias, null);
    // JSON carries the alias as a string value, nothing else
    const json = JSON.stringify(toJsonValue(svc.get(hostile[0]!.chanIdStr)));
    assert.equal(JSON.parse(json).alias, hostile[0]!.peerAlias);
    svc.dispose();
  });

  it('falls back to GetNodeInfo for the alias when ListChannels has none', async () => {
    const stub: ContextLndApi = {
      getInfo: () => client.getInfo(),
      listChannels: async (r) => (await client.listChannels(r)).map((c): Channel => ({ ...c, peer_alias: '' })),
      getChanInfo: (id) => client.getChanInfo(id),
      getNodeInfo: (pk) => client.getNodeInfo(pk),
      feeReport: () => client.feeReport(),
    };
    const svc = service(stub);
    await svc.refresh();
    const v = sim.channels.find((c) => c.peerAnnounced && c.peerAlias !== '')!;
    assert.equal(svc.get(v.chanIdStr).alias, v.peerAlias);
    assert.equal(svc.get(v.chanIdStr).aliasSource, 'node_info');
    svc.dispose();
  });

  it('a channel that closed stays known as closed; an id never seen is unknown; changed fires', async () => {
    let hide: string | undefined;
    const stub: ContextLndApi = {
      getInfo: () => client.getInfo(),
      listChannels: async (r) => (await client.listChannels(r)).filter((c) => c.chan_id !== hide),
      getChanInfo: (id) => client.getChanInfo(id),
      getNodeInfo: (pk) => client.getNodeInfo(pk),
      feeReport: () => client.feeReport(),
    };
    const svc = service(stub);
    const changes: { added: string[]; closed: string[]; updated: string[] }[] = [];
    svc.on('changed', (c) => changes.push(c));
    await svc.refresh();
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.added.length, sim.channels.length);
    const victim = sim.channels[1]!;
    hide = victim.chanIdStr;
    await svc.refresh();
    assert.deepEqual(changes[1]!.closed, [victim.chanIdStr]);
    const closed = svc.get(victim.chanIdStr);
    assert.equal(closed.status, 'closed');
    assert.equal(closed.capacitySat, BigInt(victim.capacitySat), 'last known data kept');
    assert.ok(!svc.open().some((c) => c.chanId === victim.chanIdStr));
    assert.ok(svc.all().some((c) => c.chanId === victim.chanIdStr));
    const unknown = svc.get('999999999');
    assert.equal(unknown.status, 'unknown');
    assert.equal(unknown.capacitySat, 0n);
    svc.dispose();
  });

  it('sees balance changes on refresh (updated) and shares one load between concurrent refreshes', async () => {
    const svc = service();
    await svc.refresh();
    const v = sim.channels.find((c) => c.active && !c.zeroConf)!;
    sim.setLocalBalance(v.chanIdStr, Math.floor(v.capacitySat * 0.3) * 1000);
    const seen: string[][] = [];
    svc.on('changed', (c) => seen.push(c.updated));
    const [a, b] = [svc.refresh(), svc.refresh()];
    assert.equal(a, b);
    await a;
    assert.ok(seen[0]?.includes(v.chanIdStr));
    assert.equal(svc.get(v.chanIdStr).localBalanceSat, BigInt(Math.floor(v.capacitySat * 0.3)));
    svc.dispose();
  });

  it('reports a provider failure as an error event and keeps the last context', async () => {
    let fail = false;
    const stub: ContextLndApi = {
      getInfo: () => (fail ? Promise.reject(new Error('boom')) : client.getInfo()),
      listChannels: (r) => client.listChannels(r),
      getChanInfo: (id) => client.getChanInfo(id),
      getNodeInfo: (pk) => client.getNodeInfo(pk),
      feeReport: () => client.feeReport(),
    };
    const svc = service(stub);
    await svc.refresh();
    fail = true;
    const errors: Error[] = [];
    svc.on('error', (e) => errors.push(e));
    await assert.rejects(svc.refresh(), /boom/);
    assert.equal(errors.length, 1);
    assert.equal(svc.open().length, sim.channels.length);
    svc.dispose();
  });
});
