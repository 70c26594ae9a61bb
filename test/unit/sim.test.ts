import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadLndProtos } from '../../src/core/lnd/protos';
import type { HtlcEvent } from '../../src/core/lnd/types';
import {
  HOSTILE_ALIASES,
  LND_ERRORS,
  LndSimulator,
  SimEngine,
  parseScid,
  requiredFeeMsat,
  type ChannelView,
  type GroundTruth,
} from '../../src/core/sim';
import { until, WAIT_MS } from './wait';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyObj = any;

interface Clients {
  ln: grpc.Client & Record<string, any>;
  router: grpc.Client & Record<string, any>;
  close(): void;
}

/** A plain grpc-js client, as an LND user would build it: TLS with the cert + macaroon metadata. */
function connect(address: string, certPem: string, macaroonHex?: string | null, serverName?: string): Clients {
  const { lnrpc, routerrpc } = loadLndProtos();
  let creds = grpc.credentials.createSsl(Buffer.from(certPem));
  if (macaroonHex != null) {
    creds = grpc.credentials.combineChannelCredentials(
      creds,
      grpc.credentials.createFromMetadataGenerator((_p, cb) => {
        const md = new grpc.Metadata();
        md.add('macaroon', macaroonHex);
        cb(null, md);
      }),
    );
  }
  const options: grpc.ChannelOptions = serverName ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName } : {};
  const ln = new lnrpc.Lightning(address, creds, options) as Clients['ln'];
  const router = new routerrpc.Router(address, creds, options) as Clients['router'];
  return { ln, router, close: () => (ln.close(), router.close()) };
}

/** A unary call; its deadline only ends a hang (a refused call fails at once, whatever the deadline). */
function unary(client: Clients['ln'], method: string, req: object = {}, timeoutMs = WAIT_MS): Promise<AnyObj> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: AnyObj) => (err ? reject(err) : resolve(res)));
  });
}

async function rejects(p: Promise<unknown>, code: number, details?: string): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    assert.equal(err.code, code, `code ${err.code} (${err.details})`);
    if (details !== undefined) assert.equal(err.details, details);
    return err;
  }
  assert.fail('expected the call to fail');
}

interface Sub {
  events: HtlcEvent[];
  call: grpc.ClientReadableStream<HtlcEvent>;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  ended: Promise<grpc.ServiceError | null>;
}

function subscribe(c: Clients): Sub {
  const call = c.router.SubscribeHtlcEvents({}) as grpc.ClientReadableStream<HtlcEvent>;
  const events: HtlcEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  call.on('data', (ev: HtlcEvent) => {
    events.push(ev);
    for (const w of waiters.slice()) if (events.length >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  const ended = new Promise<grpc.ServiceError | null>((resolve) => {
    call.on('error', (e: grpc.ServiceError) => resolve(e));
    call.on('end', () => resolve(null));
  });
  ended.catch(() => undefined);
  return {
    events,
    call,
    ended,
    waitFor: (n, timeoutMs = WAIT_MS) =>
      events.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`got ${events.length}/${n} events`)), timeoutMs);
            waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
          }),
  };
}

/** Strips what legitimately differs between two runs with the same seed. */
function stable(ev: HtlcEvent): object {
  const { timestamp_ns: _ts, ...rest } = ev;
  return rest;
}

/** An independent re-implementation of the monitor's expected counting, from a received stream. */
function recount(events: HtlcEvent[], resolve: (id: string) => string): Map<string, { reasons: Map<string, number>; settles: number; missed: bigint }> {
  const res = new Map<string, { reasons: Map<string, number>; settles: number; missed: bigint }>();
  const fwd = new Map<string, bigint>();
  const seen = new Set<string>();
  const get = (id: string) => {
    const k = resolve(id);
    let v = res.get(k);
    if (!v) res.set(k, (v = { reasons: new Map(), settles: 0, missed: 0n }));
    return v;
  };
  for (const ev of events) {
    if (ev.event_type !== 'FORWARD') continue;
    const ids = `${ev.incoming_channel_id}/${ev.outgoing_channel_id}/${ev.incoming_htlc_id}/${ev.outgoing_htlc_id}`;
    if (seen.has(`${ev.event}:${ids}`)) continue;
    seen.add(`${ev.event}:${ids}`);
    if (ev.event === 'forward_event') fwd.set(ids, BigInt(ev.forward_event!.info!.incoming_amt_msat) - BigInt(ev.forward_event!.info!.outgoing_amt_msat));
    else if (ev.event === 'settle_event') get(ev.outgoing_channel_id).settles++;
    else if (ev.event === 'forward_fail_event') {
      const s = get(ev.outgoing_channel_id);
      s.reasons.set('DOWNSTREAM', (s.reasons.get('DOWNSTREAM') ?? 0) + 1);
      s.missed += fwd.get(ids) ?? 0n;
    } else if (ev.event === 'link_fail_event' && ev.outgoing_channel_id !== '0') {
      const lf = ev.link_fail_event!;
      const detail = String(lf.failure_detail);
      const key = detail === 'NO_DETAIL' || detail === 'UNKNOWN' ? String(lf.wire_failure) : detail;
      const s = get(ev.outgoing_channel_id);
      s.reasons.set(key, (s.reasons.get(key) ?? 0) + 1);
      if (lf.info && lf.info.outgoing_amt_msat !== '0') s.missed += BigInt(lf.info.incoming_amt_msat) - BigInt(lf.info.outgoing_amt_msat);
    }
  }
  return res;
}

function assertTruthMatches(truth: GroundTruth, events: HtlcEvent[], resolve: (id: string) => string): void {
  const mine = recount(events, resolve);
  for (const [id, t] of Object.entries(truth.channels)) {
    const m = mine.get(id);
    const reasons = Object.fromEntries([...(m?.reasons ?? new Map()).entries()].sort());
    assert.deepEqual(reasons, Object.fromEntries(Object.entries(t.failuresByReasonKey).sort()), `reasons of ${id}`);
    assert.equal(m?.settles ?? 0, t.settles, `settles of ${id}`);
    assert.equal(m?.missed ?? 0n, t.missedFeesMsat, `missed fees of ${id}`);
  }
  for (const id of mine.keys()) assert.ok(truth.channels[id], `truth lacks ${id}`);
}

describe('LND simulator', function () {
  let sim: LndSimulator;
  let other: LndSimulator;
  const open: Clients[] = [];
  const client = (mac: string | null = sim.macaroonHex, address = sim.address, cert = sim.certPem, name?: string) => {
    const c = connect(address, cert, mac, name);
    open.push(c);
    return c;
  };

  before(async () => {
    [sim, other] = await Promise.all([LndSimulator.start({ seed: 7 }), LndSimulator.start({ seed: 8 })]);
  });
  after(async () => {
    await Promise.all([sim?.stop(), other?.stop()]);
  });
  afterEach(async () => {
    sim.stopTraffic();
    for (const c of open.splice(0)) c.close();
    if (sim.mode !== 'ok') await sim.setMode('ok');
    // the server has noticed the closed streams before the next test counts them
    await until(() => sim.liveStreams === 0, 'the streams of the last test closed');
  });

  describe('TLS and macaroons', () => {
    it('serves on 127.0.0.1 with an ephemeral port and a cert for localhost, 127.0.0.1 and ::1', () => {
      assert.match(sim.address, /^127\.0\.0\.1:\d+$/);
      assert.ok(sim.port > 0);
      const x = new crypto.X509Certificate(sim.certPem);
      assert.equal(x.checkHost('localhost'), 'localhost');
      assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(x.checkIP('::1'), '::1');
      assert.match(sim.macaroonHex, /^[0-9a-f]{64,}$/);
      assert.ok(Buffer.from(sim.macaroonHex, 'hex').length >= 32);
      assert.notEqual(sim.macaroonHex, sim.readonlyMacaroonHex);
      assert.notEqual(sim.macaroonHex, other.macaroonHex);
      assert.match(sim.identityPubkey, /^0[23][0-9a-f]{64}$/);
    });

    it('verifies against certPem for 127.0.0.1 and for localhost', async () => {
      const info = await unary(client().ln, 'GetInfo');
      assert.equal(info.identity_pubkey, sim.identityPubkey);
      assert.equal(info.alias, 'sim-routing-node');
      const viaName = await unary(client(sim.macaroonHex, sim.address, sim.certPem, 'localhost').ln, 'GetInfo');
      assert.equal(viaName.identity_pubkey, sim.identityPubkey);
      const viaDns = await unary(client(sim.macaroonHex, `localhost:${sim.port}`).ln, 'GetInfo');
      assert.equal(viaDns.identity_pubkey, sim.identityPubkey);
    });

    it("refuses a connection made with another simulator's cert", async () => {
      await rejects(unary(client(sim.macaroonHex, sim.address, other.certPem).ln, 'GetInfo'), grpc.status.UNAVAILABLE);
    });

    it('answers missing, wrong and under-permitted macaroons with LND texts (status UNKNOWN)', async () => {
      await rejects(unary(client(null).ln, 'GetInfo'), grpc.status.UNKNOWN, 'expected 1 macaroon, got 0');
      await rejects(unary(client(other.macaroonHex).ln, 'GetInfo'), grpc.status.UNKNOWN, 'verification failed: signature mismatch after caveat verification');
      await rejects(unary(client('zz').ln, 'GetInfo'), grpc.status.UNKNOWN, "encoding/hex: invalid byte: U+007A 'z'");
      await rejects(unary(client('0201036c6e640000').ln, 'GetInfo'), grpc.status.UNKNOWN, 'unmarshal v2: invalid macaroon header');
      const noOffchain = client(sim.bakeMacaroon(['info:read', 'onchain:read', 'peers:read']).toString('hex'));
      assert.equal((await unary(noOffchain.ln, 'GetInfo')).identity_pubkey, sim.identityPubkey);
      await rejects(unary(noOffchain.ln, 'ListChannels'), grpc.status.UNKNOWN, 'permission denied');
      await rejects(unary(noOffchain.ln, 'ForwardingHistory'), grpc.status.UNKNOWN, 'permission denied');
      const s = subscribe(noOffchain);
      const e = await s.ended;
      assert.equal(e?.code, grpc.status.UNKNOWN);
      assert.equal(e?.details, 'permission denied');
      assert.equal(s.events.length, 0);
    });

    it("setMode: 'starting', 'locked', 'auth-fail' answer with LND's errors", async () => {
      const c = client();
      await sim.setMode('starting');
      await rejects(unary(c.ln, 'GetInfo'), grpc.status.UNKNOWN, LND_ERRORS.starting);
      assert.equal((await subscribe(c).ended)?.details, LND_ERRORS.starting);
      await sim.setMode('locked');
      await rejects(unary(c.ln, 'ListChannels'), grpc.status.UNKNOWN, 'wallet locked, unlock it to enable full RPC access');
      await sim.setMode('auth-fail');
      await rejects(unary(c.ln, 'GetInfo'), grpc.status.UNKNOWN, LND_ERRORS.signatureMismatch);
      await sim.setMode('ok');
      assert.ok((await unary(c.ln, 'GetInfo')).synced_to_chain);
    });

    it("setMode('down') closes the port and 'ok' rebinds the same one", async () => {
      const port = sim.port;
      const s = subscribe(client());
      await s.waitFor(1);
      await sim.setMode('down');
      assert.ok((await s.ended) !== null, 'stream ends with an error');
      await rejects(unary(client().ln, 'GetInfo'), grpc.status.UNAVAILABLE);
      await sim.setMode('ok');
      assert.equal(sim.port, port);
      assert.equal((await unary(client().ln, 'GetInfo')).identity_pubkey, sim.identityPubkey);
    });

    it('writes tls.cert and binary macaroons like LND', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-creds-'));
      try {
        const p = await sim.writeCredentials(dir);
        assert.equal(fs.readFileSync(p.certPath, 'utf8'), sim.certPem);
        const mac = fs.readFileSync(p.macaroonPath);
        assert.equal(mac.toString('hex'), sim.macaroonHex);
        assert.equal(mac[0], 0x02, 'macaroon v2 binary');
        assert.equal(fs.readFileSync(p.readonlyMacaroonPath).toString('hex'), sim.readonlyMacaroonHex);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('SubscribeHtlcEvents', () => {
    it('starts with subscribed_event, then delivers stepped events with uint64 strings intact', async () => {
      const s = subscribe(client());
      await s.waitFor(1);
      assert.equal(s.events[0]!.event, 'subscribed_event');
      assert.equal(s.events[0]!.event_type, 'UNKNOWN');
      const before = sim.history().length;
      const n = sim.step(200, { flush: true });
      await s.waitFor(1 + n);
      const sent = sim.history(n);
      assert.equal(sim.history().length, Math.min(before + n, 10_000));
      assert.deepEqual(s.events.slice(1).map((e) => [e.event, e.incoming_channel_id, e.outgoing_channel_id, e.incoming_htlc_id, e.outgoing_htlc_id, e.timestamp_ns]),
        sent.map((e) => [e.event, e.incoming_channel_id, e.outgoing_channel_id, e.incoming_htlc_id, e.outgoing_htlc_id, e.timestamp_ns]));
      const big = s.events.find((e) => BigInt(e.outgoing_channel_id) > 2n ** 53n);
      assert.ok(big, 'a channel id above 2^53');
      assert.ok(sim.channels.some((c) => c.chanIdStr === big.outgoing_channel_id) || big.outgoing_channel_id.length >= 17);
      // timestamps strictly increase
      for (let i = 2; i < s.events.length; i++) assert.ok(BigInt(s.events[i]!.timestamp_ns) > BigInt(s.events[i - 1]!.timestamp_ns));
      const ts = BigInt(s.events[1]!.timestamp_ns);
      assert.ok(ts > BigInt(Date.now() - 60_000) * 1_000_000n && ts < BigInt(Date.now() + 1000) * 1_000_000n, 'wall clock ns');
      // decoded events equal what the simulator emitted (apart from Buffer/oneof cosmetics)
      const norm = (e: HtlcEvent) => JSON.parse(JSON.stringify(e));
      assert.deepEqual(s.events.slice(1).map(norm), sent.map(norm));
      s.call.cancel();
    });

    it('passes unknown enum numbers through (emitRaw)', async () => {
      const s = subscribe(client());
      await s.waitFor(1);
      const ch = sim.channels[1]!;
      sim.emitRaw({
        incoming_channel_id: sim.channels[0]!.chanIdStr,
        outgoing_channel_id: ch.chanIdStr,
        incoming_htlc_id: '424242',
        outgoing_htlc_id: '0',
        event_type: 'FORWARD',
        link_fail_event: { info: { incoming_timelock: 1, outgoing_timelock: 1, incoming_amt_msat: '2000', outgoing_amt_msat: '1000' }, wire_failure: 1234, failure_detail: 999, failure_string: 'new' },
      });
      sim.emitRaw({ event_type: 77, incoming_channel_id: '18446744073709551615', forward_fail_event: {} });
      await s.waitFor(3);
      const lf = s.events[1]!.link_fail_event!;
      assert.equal(lf.wire_failure, 1234);
      assert.equal(lf.failure_detail, 999);
      assert.equal(s.events[2]!.event_type, 77);
      assert.equal(s.events[2]!.incoming_channel_id, '18446744073709551615');
      assert.equal(sim.truth().channels[ch.chanIdStr]!.failuresByReasonKey['FAILURE_DETAIL_999'], 1);
      assert.throws(() => sim.emitRaw({ event_type: 'FORWARD', forward_event: 5 as never }), /object expected/);
      s.call.cancel();
    });

    it('cutStreams ends live streams with UNAVAILABLE after delivering what was written', async () => {
      const s = subscribe(client());
      await s.waitFor(1);
      await sim.waitForStreams(1);
      const n = sim.step(20, { flush: true });
      assert.equal(sim.cutStreams(), 1);
      const e = await s.ended;
      assert.equal(e?.code, grpc.status.UNAVAILABLE);
      assert.equal(s.events.length, 1 + n);
      assert.equal(sim.liveStreams, 0);
    });

    it('replayOnNextSubscribe resends the last n events after subscribed_event', async () => {
      sim.step(30, { flush: true });
      const last = sim.history(5);
      sim.replayOnNextSubscribe(5);
      const s = subscribe(client());
      await s.waitFor(6);
      assert.equal(s.events[0]!.event, 'subscribed_event');
      assert.deepEqual(s.events.slice(1, 6).map((e) => e.timestamp_ns), last.map((e) => e.timestamp_ns));
      s.call.cancel();
      const s2 = subscribe(client());
      await s2.waitFor(1);
      // events stepped now come after anything replayed to this stream: when they are in, so
      // would a replay be (no waiting for a replay that should not come)
      const n = sim.step(3, { flush: true });
      await s2.waitFor(1 + n);
      assert.deepEqual(s2.events.slice(1).map((e) => e.timestamp_ns), sim.history(n).map((e) => e.timestamp_ns), 'only the next subscription replays');
      s2.call.cancel();
    });

    // how close to the rate it gets is a measurement: bench/sim.bench.ts
    it('streams timer traffic (startTraffic) until stopTraffic', async () => {
      const s = subscribe(client());
      await s.waitFor(1);
      sim.startTraffic(2000);
      await s.waitFor(100);
      sim.stopTraffic();
      s.call.cancel();
    });
  });

  describe('lnrpc calls answered from the model', () => {
    let views: readonly ChannelView[];
    before(() => {
      sim.step(3000, { flush: true });
      views = sim.channels;
    });

    it('GetInfo counts channels and peers', async () => {
      const info = await unary(client().ln, 'GetInfo');
      assert.equal(info.num_active_channels + info.num_inactive_channels, 12);
      assert.equal(info.num_inactive_channels, views.filter((c) => !c.active).length);
      assert.equal(info.chains[0].network, 'mainnet');
      assert.ok(info.block_height > 870_000);
    });

    it('GetInfo answers as one real LND release: v0.21.0-beta, the first with wallet_synced', async () => {
      const info = await unary(client().ln, 'GetInfo');
      assert.equal(info.version, '0.21.0-beta commit=v0.21.0-beta');
      assert.equal(info.commit_hash, '0c4a70340d21d5cd87bb77b940acb02c90f4e8e7', "the v0.21.0-beta tag's commit");
      assert.equal(info.wallet_synced, true);
      const { packageDefinition } = loadLndProtos();
      const resp = (packageDefinition['lnrpc.Lightning'] as any).GetInfo.responseType.type;
      assert.equal(resp.field.find((f: any) => f.name === 'wallet_synced').number, 23, 'added to lnrpc in v0.21.0');
    });

    it('ListChannels honours active_only/inactive_only and peer_alias_lookup', async () => {
      const c = client();
      const all = (await unary(c.ln, 'ListChannels')).channels as AnyObj[];
      assert.equal(all.length, 12);
      assert.ok(all.every((ch) => ch.peer_alias === ''), 'no alias without lookup');
      const withAlias = (await unary(c.ln, 'ListChannels', { peer_alias_lookup: true })).channels as AnyObj[];
      for (const alias of HOSTILE_ALIASES) assert.ok(withAlias.some((ch) => ch.peer_alias === alias), alias);
      const active = (await unary(c.ln, 'ListChannels', { active_only: true })).channels as AnyObj[];
      const inactive = (await unary(c.ln, 'ListChannels', { inactive_only: true })).channels as AnyObj[];
      assert.equal(active.length + inactive.length, 12);
      assert.ok(inactive.length >= 1 && inactive.every((ch) => !ch.active));
      await rejects(unary(c.ln, 'ListChannels', { active_only: true, inactive_only: true }), grpc.status.UNKNOWN);
      const byPeer = (await unary(c.ln, 'ListChannels', { peer: Buffer.from(views[2]!.peerPubkey, 'hex') })).channels as AnyObj[];
      assert.deepEqual(byPeer.map((ch) => ch.chan_id), [views[2]!.chanIdStr]);
      for (const ch of all) {
        const v = views.find((x) => x.chanIdStr === ch.chan_id)!;
        assert.ok(v, ch.chan_id);
        assert.ok(BigInt(ch.chan_id) > 2n ** 53n);
        assert.ok(parseScid(ch.chan_id).block >= 750_000 && parseScid(ch.chan_id).block <= 870_000);
        assert.equal(ch.local_balance, String(Math.floor(v.localBalanceMsat / 1000)));
        assert.equal(ch.remote_pubkey, v.peerPubkey);
        assert.equal(ch.local_constraints.chan_reserve_sat, String(Math.floor(v.capacitySat / 100)));
      }
      const zc = all.find((ch) => ch.zero_conf)!;
      assert.ok(zc, 'a zero-conf channel');
      assert.equal(zc.alias_scids.length, 1);
      assert.ok(parseScid(zc.alias_scids[0]).block >= 16_000_000);
      assert.equal(zc.zero_conf_confirmed_scid, zc.chan_id);
      assert.notEqual(zc.peer_scid_alias, '0');
      assert.ok(zc.private);
    });

    it('ListChannels shows in-flight HTLCs on both channels', async () => {
      const [a, b] = views.filter((v) => v.active && !v.policy.disabled);
      const h = sim.forward({ incomingChanId: a!.chanId, outgoingChanId: b!.chanId, amtMsat: 20_000_000 });
      try {
        const chans = (await unary(client().ln, 'ListChannels')).channels as AnyObj[];
        const outHtlc = chans.find((ch) => ch.chan_id === b!.chanIdStr).pending_htlcs.find((p: AnyObj) => !p.incoming && p.htlc_index === h.outgoingHtlcId);
        const inHtlc = chans.find((ch) => ch.chan_id === a!.chanIdStr).pending_htlcs.find((p: AnyObj) => p.incoming && p.htlc_index === h.incomingHtlcId);
        assert.ok(outHtlc && inHtlc);
        assert.equal(outHtlc.amount, '20000');
        assert.equal(outHtlc.forwarding_channel, a!.chanIdStr);
        assert.equal(outHtlc.hash_lock.length, 32);
        assert.ok(Number(chans.find((ch) => ch.chan_id === b!.chanIdStr).unsettled_balance) >= 20000);
      } finally {
        h.settle();
      }
    });

    it('FeeReport lists our outbound and inbound fees', async () => {
      const rep = await unary(client().ln, 'FeeReport');
      assert.equal(rep.channel_fees.length, 12);
      for (const f of rep.channel_fees) {
        const v = views.find((x) => x.chanIdStr === f.chan_id)!;
        assert.equal(f.base_fee_msat, String(v.policy.feeBaseMsat));
        assert.equal(f.fee_per_mil, String(v.policy.feeRatePpm));
        assert.equal(f.inbound_fee_per_mil, v.policy.inboundFeeRatePpm);
        assert.equal(f.channel_point, v.channelPoint);
      }
      assert.ok(rep.channel_fees.some((f: AnyObj) => f.inbound_fee_per_mil < 0), 'an inbound discount');
      const dayMsat = sim.forwardingLog().reduce((s, r) => s + r.feeMsat, 0);
      assert.equal(rep.day_fee_sum, String(Math.floor(dayMsat / 1000)));
    });

    it('GetChanInfo orders nodes by pubkey and puts each policy on its side', async () => {
      const c = client();
      let sawNull = false;
      for (const v of views) {
        const edge = await unary(c.ln, 'GetChanInfo', { chan_id: v.chanIdStr });
        assert.equal(edge.channel_id, v.chanIdStr);
        assert.ok(Buffer.compare(Buffer.from(edge.node1_pub, 'hex'), Buffer.from(edge.node2_pub, 'hex')) < 0);
        const ours = edge.node1_pub === sim.identityPubkey ? edge.node1_policy : edge.node2_policy;
        const theirs = edge.node1_pub === sim.identityPubkey ? edge.node2_policy : edge.node1_policy;
        assert.equal(ours.fee_rate_milli_msat, String(v.policy.feeRatePpm));
        assert.equal(ours.max_htlc_msat, String(v.policy.maxHtlcMsat));
        if (v.peerPolicy) assert.equal(theirs.fee_rate_milli_msat, String(v.peerPolicy.feeRatePpm));
        else (assert.equal(theirs, null), (sawNull = true));
      }
      assert.ok(sawNull, 'one channel without peer policy');
      const zc = views.find((v) => v.zeroConf)!;
      assert.equal((await unary(c.ln, 'GetChanInfo', { chan_id: zc.aliasScids[0]!.toString() })).channel_id, zc.chanIdStr);
      await rejects(unary(c.ln, 'GetChanInfo', { chan_id: '12345' }), grpc.status.NOT_FOUND, 'edge not found');
    });

    it('GetNodeInfo gives aliases and LND errors for unknown nodes', async () => {
      const c = client();
      const v = views[0]!;
      const info = await unary(c.ln, 'GetNodeInfo', { pub_key: v.peerPubkey });
      assert.equal(info.node.alias, HOSTILE_ALIASES[0]);
      assert.equal(info.node.pub_key, v.peerPubkey);
      await rejects(unary(c.ln, 'GetNodeInfo', { pub_key: '02' + '11'.repeat(32) }), grpc.status.NOT_FOUND, 'unable to find node');
      const unannounced = views.find((x) => !x.peerAnnounced)!;
      await rejects(unary(c.ln, 'GetNodeInfo', { pub_key: unannounced.peerPubkey }), grpc.status.NOT_FOUND, 'unable to find node');
    });

    it('GetNodeInfo: num_channels and total_capacity count what include_channels lists, plus our private channels (as LND)', async () => {
      const c = client();
      const peer = views.find((v) => v.peerAnnounced && !v.private)!;
      const info = await unary(c.ln, 'GetNodeInfo', { pub_key: peer.peerPubkey, include_channels: true });
      assert.ok(info.num_channels > 3, `a routing peer has channels besides ours (${info.num_channels})`);
      assert.equal(info.channels.length, info.num_channels, 'no private channel with this peer: all are listed');
      assert.equal(info.channels.reduce((s: bigint, e: AnyObj) => s + BigInt(e.capacity), 0n), BigInt(info.total_capacity));
      const ids = info.channels.map((e: AnyObj) => BigInt(e.channel_id));
      assert.deepEqual([...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), ids, 'in channel id order');
      assert.equal(new Set(ids).size, ids.length);
      for (const e of info.channels) assert.ok(e.node1_pub === peer.peerPubkey || e.node2_pub === peer.peerPubkey, 'every listed edge is the peer\'s');
      assert.ok(info.channels.some((e: AnyObj) => e.channel_id === peer.chanIdStr), 'ours with it is listed');
      // every listed channel is in the graph: GetChanInfo answers with the same edge
      for (const e of info.channels.slice(0, 5)) assert.deepEqual(await unary(c.ln, 'GetChanInfo', { chan_id: e.channel_id }), e);
      // the same answer every time; without include_channels the counts stay, the list is empty
      const again = await unary(c.ln, 'GetNodeInfo', { pub_key: peer.peerPubkey });
      assert.deepEqual([again.num_channels, again.total_capacity, again.channels], [info.num_channels, info.total_capacity, []]);

      const self = await unary(c.ln, 'GetNodeInfo', { pub_key: sim.identityPubkey, include_channels: true });
      const priv = views.filter((v) => v.private);
      assert.ok(priv.length > 0);
      assert.equal(self.num_channels, views.length, 'our private channels are in our graph');
      assert.equal(self.channels.length, views.length - priv.length, 'but are not listed (unannounced)');
      assert.equal(BigInt(self.total_capacity), views.reduce((s, v) => s + BigInt(v.capacitySat), 0n));
    });

    it('ForwardingHistory matches the settled forwards that were streamed, with paging', async () => {
      const c = client();
      const settles = sim.history(10_000).filter((e) => e.event_type === 'FORWARD' && e.event === 'settle_event');
      const log = sim.forwardingLog();
      assert.ok(log.length >= settles.length && settles.length > 100);
      const startSec = Math.floor(log[0]!.tsMs / 1000);
      const all: AnyObj[] = [];
      let offset = 0;
      for (;;) {
        const page = await unary(c.ln, 'ForwardingHistory', { start_time: String(startSec), index_offset: offset, num_max_events: 500, peer_alias_lookup: true });
        all.push(...page.forwarding_events);
        assert.equal(page.last_offset_index, offset + page.forwarding_events.length);
        if (page.forwarding_events.length < 500) break;
        offset = page.last_offset_index;
      }
      assert.equal(all.length, log.length);
      const byKey = new Map(all.map((f) => [`${f.chan_id_in}/${f.chan_id_out}/${f.incoming_htlc_id}/${f.outgoing_htlc_id}`, f]));
      for (const s of settles) {
        const f = byKey.get(`${s.incoming_channel_id}/${s.outgoing_channel_id}/${s.incoming_htlc_id}/${s.outgoing_htlc_id}`);
        assert.ok(f, 'every streamed settle is in the history');
        assert.equal(f.timestamp_ns, s.timestamp_ns);
        assert.equal(BigInt(f.fee_msat), BigInt(f.amt_in_msat) - BigInt(f.amt_out_msat));
        assert.equal(f.amt_in, String(BigInt(f.amt_in_msat) / 1000n));
        assert.equal(f.timestamp, String(BigInt(f.timestamp_ns) / 1_000_000_000n));
      }
      assert.ok(all.some((f) => HOSTILE_ALIASES.includes(f.peer_alias_out)), 'peer aliases looked up');
      // default page size 100; a time window in the future is empty
      assert.equal((await unary(c.ln, 'ForwardingHistory', { start_time: String(startSec) })).forwarding_events.length, 100);
      const future = await unary(c.ln, 'ForwardingHistory', { start_time: String(Math.floor(Date.now() / 1000) + 3600) });
      assert.equal(future.forwarding_events.length, 0);
    });
  });

  describe('traffic model and ground truth (in-process)', () => {
    it('is deterministic for a seed', () => {
      const a = new SimEngine({ seed: 42 });
      const b = new SimEngine({ seed: 42 });
      const c = new SimEngine({ seed: 43 });
      assert.deepEqual(a.channels, b.channels);
      a.step(500);
      b.step(500);
      c.step(500);
      assert.deepEqual(a.history().map(stable), b.history().map(stable));
      assert.notDeepEqual(a.history().map(stable), c.history().map(stable));
      assert.notEqual(a.model.identityPubkey, c.model.identityPubkey);
    });

    it('produces LND-shaped events with consistent ids, fees and balances', () => {
      const e = new SimEngine({ seed: 3, historySize: 100_000 });
      const n = e.step(5000, { flush: true });
      const evs = e.history(n);
      const fwd = new Map<string, HtlcEvent>();
      const kinds = new Set<string>();
      for (const ev of evs) {
        const ids = `${ev.incoming_channel_id}/${ev.outgoing_channel_id}/${ev.incoming_htlc_id}/${ev.outgoing_htlc_id}`;
        if (ev.event_type !== 'FORWARD') continue;
        if (ev.event === 'forward_event') {
          fwd.set(ids, ev);
          const info = ev.forward_event!.info!;
          const inCh = e.model.byScid.get(ev.incoming_channel_id)!;
          const outCh = e.model.byScid.get(ev.outgoing_channel_id)!;
          const amtOut = Number(info.outgoing_amt_msat);
          assert.equal(Number(info.incoming_amt_msat) - amtOut, requiredFeeMsat(outCh.policy, inCh.policy, amtOut), 'fee per policy');
          assert.ok(info.incoming_timelock >= info.outgoing_timelock + outCh.policy.timeLockDelta);
        } else if (ev.event === 'settle_event' || ev.event === 'forward_fail_event') {
          assert.ok(fwd.has(ids), 'resolution carries the forward ids');
          assert.equal(ev.outgoing_htlc_id, fwd.get(ids)!.outgoing_htlc_id);
        } else if (ev.event === 'link_fail_event') {
          const lf = ev.link_fail_event!;
          kinds.add(`${String(lf.wire_failure)}/${String(lf.failure_detail)}`);
          assert.equal(ev.outgoing_htlc_id, '0');
          assert.ok(lf.info && Number(lf.info.incoming_amt_msat) > 0);
          assert.ok(lf.failure_string.length > 0);
          if (ev.outgoing_channel_id === '0') assert.equal(lf.info.outgoing_amt_msat, '0');
          else assert.ok(Number(lf.info.outgoing_amt_msat) > 0);
        }
      }
      for (const k of [
        'TEMPORARY_CHANNEL_FAILURE/INSUFFICIENT_BALANCE',
        'TEMPORARY_CHANNEL_FAILURE/HTLC_EXCEEDS_MAX',
        'FEE_INSUFFICIENT/NO_DETAIL',
        'AMOUNT_BELOW_MINIMUM/NO_DETAIL',
        'INCORRECT_CLTV_EXPIRY/NO_DETAIL',
        'UNKNOWN_NEXT_PEER/NO_DETAIL',
        'UNKNOWN_NEXT_PEER/LINK_NOT_ELIGIBLE',
        'CHANNEL_DISABLED/NO_DETAIL',
      ]) assert.ok(kinds.has(k), k);
      assert.ok([...kinds].some((k) => k.endsWith('/ONION_DECODE')));
      assert.ok(evs.some((ev) => ev.event_type === 'SEND') && evs.some((ev) => ev.event_type === 'RECEIVE'));
      assert.ok(evs.some((ev) => ev.event === 'final_htlc_event' && ev.event_type === 'UNKNOWN'));
      const zc = e.channels.find((c) => c.zeroConf)!;
      assert.ok(evs.some((ev) => ev.incoming_channel_id === zc.aliasScids[0]!.toString() || ev.outgoing_channel_id === zc.aliasScids[0]!.toString()), 'alias SCID in events');
      for (const c of e.channels) {
        assert.equal(c.localBalanceMsat + c.remoteBalanceMsat + c.pendingInMsat + c.pendingOutMsat + c.commitFeeSat * 1000, c.capacitySat * 1000, 'balance conserved');
        assert.ok(c.localBalanceMsat >= 0 && c.remoteBalanceMsat >= 0);
        assert.equal(c.pendingHtlcCount, 0);
      }
      const resolve = (id: string) => e.model.byScid.get(id)?.chanIdStr ?? id;
      assertTruthMatches(e.truth(), evs, resolve);
      const raw = e.truth({ resolveAliases: false });
      assert.ok(raw.channels[zc.aliasScids[0]!.toString()], 'unresolved truth keeps the alias');
    });

    it('scripted scenarios produce exact events and ground truth', () => {
      const e = new SimEngine({ seed: 5 });
      const [a, b] = [e.channels[0]!, e.channels[1]!];
      const ok = e.forwardSettle({ incomingChanId: a.chanId, outgoingChanId: b.chanId, amtMsat: 100_000_000 });
      assert.deepEqual(ok.events.map((x) => x.event), ['forward_event', 'settle_event']);
      assert.equal(ok.feeMsat, String(requiredFeeMsat(b.policy as never, a.policy as never, 100_000_000)));
      assert.equal(e.channel(b.chanId)!.localBalanceMsat, b.localBalanceMsat - 100_000_000);
      const ds = e.forwardFailDownstream({ incomingChanId: a.chanIdStr, outgoingChanId: b.chanIdStr, amtMsat: 5_000_000, feeMsat: 777 });
      assert.deepEqual(ds.events.map((x) => x.event), ['forward_event', 'forward_fail_event']);
      e.linkFail({ incomingChanId: a.chanId, outgoingChanId: b.chanId, incomingAmtMsat: 1_000_500, outgoingAmtMsat: 1_000_000, wireFailure: 'TEMPORARY_CHANNEL_FAILURE', failureDetail: 'INSUFFICIENT_BALANCE' });
      e.linkFail({ incomingChanId: a.chanId, outgoingChanId: 0, incomingAmtMsat: 5000, outgoingAmtMsat: 0, wireFailure: 'INVALID_ONION_HMAC', failureDetail: 'ONION_DECODE' });
      const h = e.forward({ incomingChanId: a.chanId, outgoingChanId: b.chanId, amtMsat: 1_000_000, feeMsat: 10 });
      assert.equal(e.channel(b.chanId)!.pendingHtlcCount, 1);
      h.fail();
      assert.equal(h.state, 'failed');
      assert.throws(() => h.settle());
      // a replayed duplicate is not counted twice
      e.emitRaw({ ...ds.events[1]! });
      const t = e.truth();
      assert.deepEqual(t.channels[b.chanIdStr], {
        failuresByReasonKey: { DOWNSTREAM: 2, INSUFFICIENT_BALANCE: 1 },
        linkFailuresByWireDetail: { 'TEMPORARY_CHANNEL_FAILURE/INSUFFICIENT_BALANCE': 1 },
        linkFailures: 1,
        downstream: 2,
        settles: 1,
        forwards: 3,
        missedFeesMsat: 777n + 500n + 10n,
        earnedFeesMsat: BigInt(ok.feeMsat),
      });
      assert.deepEqual(t.node, { failuresByReasonKey: { ONION_DECODE: 1 }, linkFailures: 1 });
      assert.equal(t.duplicatesIgnored, 1);
      const reb = e.rebalance({ fromChanId: a.chanId, toChanId: b.chanId, amtMsat: 1_000_000 });
      assert.deepEqual(reb.map((x) => `${String(x.event_type)}:${x.event}`), ['SEND:forward_event', 'RECEIVE:settle_event', 'UNKNOWN:final_htlc_event', 'SEND:settle_event']);
      assert.deepEqual(e.truth().channels[b.chanIdStr], t.channels[b.chanIdStr], 'rebalances are not forwards');
    });

  });
});
