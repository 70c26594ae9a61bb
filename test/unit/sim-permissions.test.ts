import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadLndProtos } from '../../src/core/lnd/protos';
import {
  LND_ADMIN_PERMISSIONS,
  LND_ERRORS,
  LND_METHOD_PERMISSIONS,
  LND_READ_PERMISSIONS,
  LndSimulator,
  MACAROON_ROOT_KEY_FILE,
  NO_HTLC_STREAM_PERMISSIONS,
  addFirstPartyCaveat,
  decodeMacaroon,
  decodeMacaroonId,
  encodeMacaroon,
  macaroonPermissions,
  macaroonSignature,
  policyPackageDefinition,
} from '../../src/core/sim';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * LND v0.21.0-beta: rpcserver.go MainRPCServerPermissions() and lnrpc/routerrpc/router_server.go
 * macPermissions, for the calls the simulator serves (copied by hand: the test must not read the
 * table it checks).
 */
const LND_TABLE: Record<string, string[]> = {
  '/lnrpc.Lightning/GetInfo': ['info:read'],
  '/lnrpc.Lightning/ListChannels': ['offchain:read'],
  '/lnrpc.Lightning/GetChanInfo': ['info:read'],
  '/lnrpc.Lightning/GetNodeInfo': ['info:read'],
  '/lnrpc.Lightning/FeeReport': ['offchain:read'],
  '/lnrpc.Lightning/UpdateChannelPolicy': ['offchain:write'],
  '/lnrpc.Lightning/ForwardingHistory': ['offchain:read'],
  '/routerrpc.Router/SubscribeHtlcEvents': ['offchain:read'],
};

/** lnd.go genDefaultMacaroons: readonly = readPermissions, admin = readPermissions + writePermissions. */
const LND_READONLY = ['address:read', 'info:read', 'invoices:read', 'macaroon:read', 'message:read', 'offchain:read', 'onchain:read', 'peers:read', 'signer:read'];
const LND_ADMIN = [
  ...LND_READONLY,
  'address:write',
  'info:write',
  'invoices:write',
  'macaroon:generate',
  'macaroon:write',
  'message:write',
  'offchain:write',
  'onchain:write',
  'peers:write',
  'signer:generate',
].sort();

/** What the monitor calls, with a valid request for each. */
const MONITOR_CALLS = ['GetInfo', 'SubscribeHtlcEvents', 'ListChannels', 'FeeReport', 'ForwardingHistory', 'GetChanInfo', 'GetNodeInfo'] as const;

const fullMethod = (m: string) => (m === 'SubscribeHtlcEvents' ? '/routerrpc.Router/SubscribeHtlcEvents' : `/lnrpc.Lightning/${m}`);

describe('simulator: LND macaroons and permissions', function () {
  this.timeout(20_000);
  let sim: LndSimulator;
  let other: LndSimulator;
  const open: grpc.Client[] = [];

  before(async () => {
    [sim, other] = await Promise.all([LndSimulator.start({ seed: 31 }), LndSimulator.start({ seed: 32 })]);
  });
  after(async () => {
    for (const c of open) c.close();
    await Promise.all([sim.stop(), other.stop()]);
  });

  function clients(mac: Buffer | string, s = sim) {
    const hex = Buffer.isBuffer(mac) ? mac.toString('hex') : mac;
    const { lnrpc, routerrpc } = loadLndProtos();
    const creds = grpc.credentials.combineChannelCredentials(
      grpc.credentials.createSsl(Buffer.from(s.certPem)),
      grpc.credentials.createFromMetadataGenerator((_p, cb) => {
        const md = new grpc.Metadata();
        md.add('macaroon', hex);
        cb(null, md);
      }),
    );
    const ln = new lnrpc.Lightning(s.address, creds) as any;
    const router = new routerrpc.Router(s.address, creds) as any;
    const Policy = (grpc.loadPackageDefinition(policyPackageDefinition()) as any).lnrpc.Lightning;
    const policy = new Policy(s.address, creds) as any;
    open.push(ln, router, policy);
    return { ln, router, policy };
  }

  function request(method: string, s = sim): object {
    const ch = s.channels[0]!;
    if (method === 'GetChanInfo') return { chan_id: ch.chanIdStr };
    if (method === 'GetNodeInfo') return { pub_key: ch.peerPubkey };
    if (method === 'UpdateChannelPolicy') return { global: true, base_fee_msat: '1000', fee_rate_ppm: 100, time_lock_delta: 80 };
    return {};
  }

  /** 'ok' or the error's `code: details`; a stream is ok once its first message arrives. */
  function call(mac: Buffer | string, method: string, s = sim): Promise<string> {
    const c = clients(mac, s);
    if (method === 'SubscribeHtlcEvents') {
      return new Promise((resolve) => {
        const st = c.router.SubscribeHtlcEvents({});
        st.once('data', () => {
          st.cancel();
          resolve('ok');
        });
        st.on('error', (e: grpc.ServiceError) => resolve(e.code === grpc.status.CANCELLED ? 'ok' : `${e.code}: ${e.details}`));
      });
    }
    const svc = method === 'UpdateChannelPolicy' ? c.policy : c.ln;
    return new Promise((resolve) => {
      svc[method](request(method, s), { deadline: Date.now() + 5000 }, (e: grpc.ServiceError | null) => resolve(e ? `${e.code}: ${e.details}` : 'ok'));
    });
  }

  const DENIED = `${grpc.status.UNKNOWN}: permission denied`;

  it("the permission table is LND's for every call the simulator serves", () => {
    const table = Object.fromEntries(Object.entries(LND_METHOD_PERMISSIONS).map(([m, ops]) => [m, ops.map((o) => `${o.entity}:${o.action}`)]));
    assert.deepEqual(table, LND_TABLE);
    const { lnrpc, routerrpc } = loadLndProtos();
    const simOnly = policyPackageDefinition()['lnrpc.Lightning'] as grpc.ServiceDefinition;
    const served = [...Object.values(lnrpc.Lightning.service), ...Object.values(routerrpc.Router.service), ...Object.values(simOnly)].map((d) => d.path).sort();
    assert.deepEqual(served, Object.keys(LND_TABLE).sort(), 'every served call has an entry, and no entry is for a call not served');
  });

  it("admin.macaroon and readonly.macaroon carry LND's permissions, readable like lncli printmacaroon", () => {
    assert.deepEqual(macaroonPermissions(sim.readonlyMacaroon).sort(), LND_READONLY);
    assert.deepEqual(macaroonPermissions(sim.macaroon).sort(), LND_ADMIN);
    assert.deepEqual(LND_READ_PERMISSIONS.map((o) => `${o.entity}:${o.action}`).sort(), LND_READONLY);
    assert.deepEqual(LND_ADMIN_PERMISSIONS.map((o) => `${o.entity}:${o.action}`).sort(), LND_ADMIN);
    for (const mac of [sim.macaroon, sim.readonlyMacaroon]) {
      const m = decodeMacaroon(mac);
      assert.equal(mac[0], 2, 'binary v2');
      assert.equal(m.location, 'lnd');
      assert.equal(m.id[0], 3, 'bakery version 3 identifier');
      assert.equal(decodeMacaroonId(m.id).storageId.toString(), '0', "LND's default root key id");
      assert.equal(decodeMacaroonId(m.id).nonce.length, 16);
      assert.equal(m.caveats.length, 0);
      assert.equal(m.signature.length, 32);
      assert.ok(encodeMacaroon(m).equals(mac), 'decodes and re-encodes byte for byte');
    }
  });

  it('signs like libmacaroons (the reference vector: HMAC chain from the derived key)', () => {
    const key = Buffer.from('this is our super secret key; only we should know it');
    const id = Buffer.from('we used our secret key');
    assert.equal(macaroonSignature(key, id).toString('hex'), 'e3d9e02908526c4c0039ae15114115d97fdd68bf2ba379b342aaf0f617d0552f');
    assert.equal(macaroonSignature(key, id, [Buffer.from('account = 3735928559')]).toString('hex'), '1efe4763f290dbce0c1d08477367e11f4eee456a64933cf662d79772dbb82128');
  });

  it('readonly.macaroon is accepted for every call the monitor makes', async () => {
    const results = await Promise.all(MONITOR_CALLS.map((m) => call(sim.readonlyMacaroon, m)));
    assert.deepEqual(Object.fromEntries(MONITOR_CALLS.map((m, i) => [m, results[i]])), Object.fromEntries(MONITOR_CALLS.map((m) => [m, 'ok'])));
  });

  it('readonly.macaroon is refused for a write call (UpdateChannelPolicy needs offchain:write); admin.macaroon is not', async () => {
    assert.equal(await call(sim.readonlyMacaroon, 'UpdateChannelPolicy'), DENIED);
    assert.equal(await call(sim.bakeMacaroon(['offchain:read', 'info:read']), 'UpdateChannelPolicy'), DENIED);
    assert.equal(await call(sim.macaroon, 'UpdateChannelPolicy'), 'ok');
    assert.equal(await call(sim.bakeMacaroon(['offchain:write']), 'UpdateChannelPolicy'), 'ok');
  });

  it('a baked macaroon without offchain:read is refused exactly where LND refuses it', async () => {
    const mac = sim.bakeMacaroon(['info:read', 'onchain:read', 'peers:read', 'invoices:read']);
    const got = Object.fromEntries(await Promise.all(MONITOR_CALLS.map(async (m) => [m, await call(mac, m)] as const)));
    assert.deepEqual(got, {
      GetInfo: 'ok',
      SubscribeHtlcEvents: DENIED,
      ListChannels: DENIED,
      FeeReport: DENIED,
      ForwardingHistory: DENIED,
      GetChanInfo: 'ok',
      GetNodeInfo: 'ok',
    });
  });

  it('each call needs exactly its table entry: granted alone it passes, everything else without it is denied', async () => {
    for (const m of [...MONITOR_CALLS, 'UpdateChannelPolicy']) {
      const required = LND_TABLE[fullMethod(m)]!;
      assert.equal(await call(sim.bakeMacaroon(required), m), 'ok', `${m} with ${required.join(' ')}`);
      const rest = LND_ADMIN.filter((p) => !required.includes(p));
      assert.equal(await call(sim.bakeMacaroon(rest), m), DENIED, `${m} with everything but ${required.join(' ')}`);
    }
  });

  it('uri: permissions grant single calls; NO_HTLC_STREAM_PERMISSIONS reads everything but the stream', async () => {
    const onlyHistory = sim.bakeMacaroon(['uri:/lnrpc.Lightning/ForwardingHistory']);
    assert.equal(await call(onlyHistory, 'ForwardingHistory'), 'ok');
    assert.equal(await call(onlyHistory, 'ListChannels'), DENIED);
    assert.equal(await call(onlyHistory, 'GetInfo'), DENIED);
    const noStream = sim.bakeMacaroon(NO_HTLC_STREAM_PERMISSIONS);
    for (const m of MONITOR_CALLS) assert.equal(await call(noStream, m), m === 'SubscribeHtlcEvents' ? DENIED : 'ok', m);
  });

  it("refuses another node's macaroon, a forged permission and an expired caveat with LND's texts", async () => {
    const MISMATCH = `${grpc.status.UNKNOWN}: ${LND_ERRORS.signatureMismatch}`;
    assert.equal(await call(other.readonlyMacaroon, 'GetInfo'), MISMATCH);
    // widening a macaroon breaks its signature: swap readonly's identifier for admin's
    const ro = decodeMacaroon(sim.readonlyMacaroon);
    const forged = encodeMacaroon({ ...ro, id: decodeMacaroon(sim.macaroon).id });
    assert.equal(await call(forged, 'GetInfo'), MISMATCH);
    // narrowing works for anyone: a time-before caveat, still valid, then expired
    const future = addFirstPartyCaveat(sim.readonlyMacaroon, `time-before ${new Date(Date.now() + 3600_000).toISOString()}`);
    assert.equal(await call(future, 'GetInfo'), 'ok');
    const past = `time-before ${new Date(Date.now() - 1000).toISOString()}`;
    assert.equal(await call(addFirstPartyCaveat(sim.readonlyMacaroon, past), 'GetInfo'), `${grpc.status.UNKNOWN}: caveat "${past}" not satisfied: macaroon has expired`);
    assert.equal(await call(addFirstPartyCaveat(sim.readonlyMacaroon, 'ipaddr 10.0.0.1'), 'GetInfo'), `${grpc.status.UNKNOWN}: caveat "ipaddr 10.0.0.1" not satisfied: caveat not recognized`);
    assert.equal(await call('02', 'GetInfo'), `${grpc.status.UNKNOWN}: unmarshal v2: section extends past end of buffer`);
    assert.equal(await call('ff', 'GetInfo'), `${grpc.status.UNKNOWN}: cannot determine data format of binary-encoded macaroon`);
  });

  it("bakeMacaroon validates like LND's BakeMacaroon", () => {
    assert.throws(() => sim.bakeMacaroon([]), /^Error: permission list cannot be empty\. specify at least one action\/entity pair\. supported actions are \[read write generate\], supported entities are \[onchain offchain address message peers info invoices signer macaroon uri\]$/);
    assert.throws(() => sim.bakeMacaroon(['channels:read']), /^Error: invalid permission entity\. supported actions/);
    assert.throws(() => sim.bakeMacaroon(['offchain:delete']), /^Error: invalid permission action\. supported actions/);
    assert.throws(() => sim.bakeMacaroon(['uri:/lnrpc.Lightning/Nope']), /^Error: invalid permission action, must be an existing URI in the format \/package\.Service\/MethodName$/);
    assert.deepEqual(macaroonPermissions(sim.bakeMacaroon(['offchain:read', 'info:read', 'offchain:read'])), ['info:read', 'offchain:read'], 'sorted, without duplicates');
  });

  it('an LND without routerrpc: SubscribeHtlcEvents is UNIMPLEMENTED whatever the macaroon; the rest answers', async () => {
    const bare = await LndSimulator.start({ seed: 33, routerRpc: false });
    try {
      const UNIMPL = `${grpc.status.UNIMPLEMENTED}: unknown service routerrpc.Router`;
      assert.equal(await call(bare.readonlyMacaroon, 'SubscribeHtlcEvents', bare), UNIMPL);
      assert.equal(await call('', 'SubscribeHtlcEvents', bare), UNIMPL, 'grpc-go answers before any interceptor');
      for (const m of MONITOR_CALLS.filter((x) => x !== 'SubscribeHtlcEvents')) assert.equal(await call(bare.readonlyMacaroon, m, bare), 'ok', m);
      assert.throws(() => bare.bakeMacaroon(['uri:/routerrpc.Router/SubscribeHtlcEvents']), /must be an existing URI/);
    } finally {
      await bare.stop();
    }
  });

  it('the same root key gives the same macaroons, and baked ones stay valid (credentials reused across restarts)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-perm-'));
    try {
      const a = await LndSimulator.start({ seed: 34 });
      const baked = a.bakeMacaroon(['info:read']);
      await a.writeCredentials(dir, true);
      await a.stop();
      const rootKey = fs.readFileSync(path.join(dir, MACAROON_ROOT_KEY_FILE));
      assert.equal(rootKey.length, 32);
      const b = await LndSimulator.start({ seed: 34, macaroonRootKey: rootKey });
      try {
        assert.ok(b.macaroon.equals(fs.readFileSync(path.join(dir, 'admin.macaroon'))));
        assert.ok(b.readonlyMacaroon.equals(fs.readFileSync(path.join(dir, 'readonly.macaroon'))));
        assert.equal(await call(baked, 'GetInfo', b), 'ok');
        assert.notEqual(sim.readonlyMacaroonHex, b.readonlyMacaroonHex, 'another root key, other macaroons');
      } finally {
        await b.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('simulator: UpdateChannelPolicy (LND semantics)', function () {
  this.timeout(20_000);
  let sim: LndSimulator;
  let policy: any;
  let ln: any;

  before(async () => {
    sim = await LndSimulator.start({ seed: 41 });
    const creds = grpc.credentials.combineChannelCredentials(
      grpc.credentials.createSsl(Buffer.from(sim.certPem)),
      grpc.credentials.createFromMetadataGenerator((_p, cb) => {
        const md = new grpc.Metadata();
        md.add('macaroon', sim.macaroonHex);
        cb(null, md);
      }),
    );
    const Policy = (grpc.loadPackageDefinition(policyPackageDefinition()) as any).lnrpc.Lightning;
    policy = new Policy(sim.address, creds);
    ln = new (loadLndProtos().lnrpc.Lightning)(sim.address, creds);
  });
  after(async () => {
    policy.close();
    ln.close();
    await sim.stop();
  });

  const update = (req: object): Promise<any> =>
    new Promise((resolve, reject) => policy.UpdateChannelPolicy(req, (e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r))));
  const unary = (method: string, req: object = {}): Promise<any> =>
    new Promise((resolve, reject) => ln[method](req, (e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r))));

  it('global: every channel gets the new fees and time lock delta (FeeReport and GetChanInfo show them)', async () => {
    const res = await update({ global: true, base_fee_msat: '1500', fee_rate_ppm: 321, time_lock_delta: 90 });
    assert.deepEqual(res.failed_updates, []);
    const report = await unary('FeeReport');
    assert.equal(report.channel_fees.length, sim.channels.length);
    for (const f of report.channel_fees) assert.deepEqual([f.base_fee_msat, f.fee_per_mil], ['1500', '321']);
    const ch = sim.channels[1]!;
    const edge = await unary('GetChanInfo', { chan_id: ch.chanIdStr });
    const ours = edge.node1_pub === sim.identityPubkey ? edge.node1_policy : edge.node2_policy;
    assert.equal(ours.time_lock_delta, 90);
    assert.equal(ours.fee_rate_milli_msat, '321');
  });

  it('chan_point: only that channel; fee_rate converts to ppm; an unknown point is NOT_FOUND in failed_updates', async () => {
    const [a, b] = [sim.channels[2]!, sim.channels[3]!];
    const [txid, out] = a.channelPoint.split(':') as [string, string];
    const before = b.policy.feeRatePpm;
    const res = await update({ chan_point: { funding_txid_str: txid, output_index: Number(out) }, fee_rate: 0.000777, time_lock_delta: 40 });
    assert.deepEqual(res.failed_updates, []);
    assert.equal(sim.channel(a.chanIdStr)!.policy.feeRatePpm, 777);
    assert.equal(sim.channel(b.chanIdStr)!.policy.feeRatePpm, before);
    const bytes = Buffer.from(txid, 'hex').reverse();
    const missing = await update({ chan_point: { funding_txid_bytes: bytes, output_index: 9 }, fee_rate_ppm: 1, time_lock_delta: 40 });
    assert.equal(missing.failed_updates.length, 1);
    assert.equal(missing.failed_updates[0].reason, 'UPDATE_FAILURE_NOT_FOUND');
    assert.equal(missing.failed_updates[0].update_error, 'not found');
    assert.equal(missing.failed_updates[0].outpoint.txid_str, txid);
    assert.equal(missing.failed_updates[0].outpoint.output_index, 9);
  });

  it('limits out of range are failed updates and leave the channel as it was', async () => {
    const ch = sim.channels[0]!;
    const [txid, out] = ch.channelPoint.split(':') as [string, string];
    const max = Math.floor(ch.capacitySat * 0.99) * 1000;
    const res = await update({ chan_point: { funding_txid_str: txid, output_index: Number(out) }, fee_rate_ppm: 5, time_lock_delta: 40, max_htlc_msat: String(max + 1000) });
    assert.equal(res.failed_updates[0].reason, 'UPDATE_FAILURE_INVALID_PARAMETER');
    assert.equal(res.failed_updates[0].update_error, `max htlc size of ${max + 1000} mSAT is above max pending amount of ${max} mSAT`);
    assert.notEqual(sim.channel(ch.chanIdStr)!.policy.feeRatePpm, 5);
  });

  it("refuses bad requests with LND's texts", async () => {
    const fails = async (req: object, code: number, details: string) => {
      const e = await update(req).then(
        () => assert.fail('expected an error'),
        (x: grpc.ServiceError) => x,
      );
      assert.deepEqual([e.code, e.details], [code, details]);
    };
    await fails({ global: true, fee_rate_ppm: 1, time_lock_delta: 10 }, grpc.status.UNKNOWN, 'time lock delta of 10 is too small, minimum supported is 24');
    await fails({ global: true, fee_rate: 0.001, fee_rate_ppm: 1, time_lock_delta: 40 }, grpc.status.INVALID_ARGUMENT, 'cannot set both FeeRate and FeeRatePpm at the same time');
    await fails({ global: true, fee_rate: 1e-7, time_lock_delta: 40 }, grpc.status.UNKNOWN, 'fee rate of 1e-07 is too small, min fee rate is 1e-06');
    await fails({ global: true, time_lock_delta: 40, inbound_fee: { base_fee_msat: 5 } }, grpc.status.UNKNOWN, 'positive values for inbound base fee msat are not supported: 5');
    await fails({ time_lock_delta: 40 }, grpc.status.UNKNOWN, 'unknown scope: <nil>');
  });
});
