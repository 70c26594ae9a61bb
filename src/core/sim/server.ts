import * as crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { loadLndProtos } from '../lnd/protos';
import type { HtlcEvent } from '../lnd/types';
import { generateTlsCert, goHexDecodeError } from './certs';
import {
  SimEngine,
  type EngineOptions,
  type FailureMix,
  type ForwardHandle,
  type ForwardOptions,
  type ForwardRecord,
  type ForwardResult,
  type LinkFailOptions,
  type RebalanceOptions,
  type ScenarioKind,
  type SimCounters,
  type ChanRef,
  type Msat,
} from './engine';
import type { GroundTruth, TruthOptions } from './ledger';
import { checkMacaroon, mintMacaroon } from './macaroon';
import type { ChannelView, PolicyModel } from './model';
import { LND_ADMIN_PERMISSIONS, LND_METHOD_PERMISSIONS, LND_READ_PERMISSIONS, parsePermissions } from './permissions';
import { policyPackageDefinition, updateChannelPolicy, type PolicyUpdateReq } from './policyRpc';
import * as rpc from './rpc';

/** LND's exact error texts (all sent with gRPC status UNKNOWN unless noted). */
export const LND_ERRORS = Object.freeze({
  starting: 'the RPC server is in the process of starting up, but not yet ready to accept calls',
  locked: 'wallet locked, unlock it to enable full RPC access',
  noMacaroon: 'expected 1 macaroon, got 0',
  signatureMismatch: 'verification failed: signature mismatch after caveat verification',
  permissionDenied: 'permission denied',
  /** GetNodeInfo, status NOT_FOUND. */
  nodeNotFound: 'unable to find node',
  /** GetChanInfo, status NOT_FOUND. */
  edgeNotFound: 'edge not found',
  /** grpc-go's answer (status UNIMPLEMENTED) for a service the server does not register. */
  noRouter: 'unknown service routerrpc.Router',
});

/** The macaroon root key's file in a credentials folder (LND keeps its root key in macaroons.db). */
export const MACAROON_ROOT_KEY_FILE = 'macaroons.key';

/** 'hang': the port accepts calls but never answers unary ones (clients hit their deadline). */
export type SimMode = 'ok' | 'starting' | 'locked' | 'auth-fail' | 'down' | 'hang';

export interface SimulatorOptions extends EngineOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Port (default 0 = ephemeral). */
  port?: number;
  /** Start timer traffic at this rate (events/s); 0 = none (default). */
  eventsPerSecond?: number;
  /**
   * Serve routerrpc.Router (default true). false is an LND built without the router sub-server:
   * SubscribeHtlcEvents then fails with UNIMPLEMENTED "unknown service routerrpc.Router", before
   * any macaroon check (grpc-go answers unknown services without running interceptors).
   */
  routerRpc?: boolean;
  /** GetInfo.version (default SIM_LND_RELEASE.version, "0.21.0-beta commit=v0.21.0-beta"). */
  version?: string;
  /** GetInfo.commit_hash (default: SIM_LND_RELEASE.commitHash with the default version, else the model's). */
  commitHash?: string;
  /** Initial mode (default 'ok'); 'down' starts without listening (port must then be given). */
  mode?: SimMode;
  /** Reuse this TLS certificate and key (default: a fresh self-signed pair), e.g. across restarts. */
  tls?: { certPem: string; keyPem: string };
  /**
   * The 32-byte root key every macaroon is signed with (default: a fresh random one). Reusing it
   * across restarts keeps admin.macaroon, readonly.macaroon and baked macaroons valid, as LND's
   * macaroons.db does.
   */
  macaroonRootKey?: Buffer;
}

export interface CredentialPaths {
  certPath: string;
  /** admin.macaroon: LND's admin permissions. */
  macaroonPath: string;
  /** readonly.macaroon: LND's read permissions (every entity's read, offchain:read included). */
  readonlyMacaroonPath: string;
}

interface StatusError {
  code: number;
  details: string;
  metadata?: grpc.Metadata;
}

type AnyWritable = grpc.ServerWritableStream<object, HtlcEvent | Buffer>;

function err(code: number, details: string): StatusError {
  return { code, details, metadata: new grpc.Metadata() };
}

/**
 * An LND look-alike gRPC server (routerrpc.Router/SubscribeHtlcEvents and lnrpc.Lightning GetInfo,
 * ListChannels, GetChanInfo, GetNodeInfo, FeeReport, ForwardingHistory and UpdateChannelPolicy)
 * over TLS with a fresh self-signed cert, checking a macaroon on every call as LND does, in front
 * of a {@link SimEngine}.
 *
 * ```ts
 * const sim = await LndSimulator.start({ seed: 1, channels: 12 });
 * // connect with sim.address, sim.certPem, sim.macaroonHex
 * sim.step(1000); sim.truth(); await sim.stop();
 * ```
 * Emits 'event' (HtlcEvent) for every event the engine emits, 'subscribe' / 'unsubscribe' (live
 * stream count) when streams come and go.
 */
export class LndSimulator extends EventEmitter {
  readonly engine: SimEngine;
  readonly host: string;
  /** Bound port (stays the same across setMode('down') → 'ok'). */
  port: number;
  readonly certPem: string;
  private readonly keyPem: string;
  /** admin.macaroon (LND's admin permissions) and its hex (what clients send). */
  readonly macaroon: Buffer;
  readonly macaroonHex: string;
  /** readonly.macaroon (LND's read permissions: every entity's read) and its hex. */
  readonly readonlyMacaroon: Buffer;
  readonly readonlyMacaroonHex: string;
  readonly version: string;
  readonly commitHash: string;
  /** Whether routerrpc.Router is served (see SimulatorOptions.routerRpc). */
  readonly routerRpc: boolean;
  private readonly rootKey: Buffer;

  private server: grpc.Server | undefined;
  private modeValue: SimMode = 'ok';
  private readonly streams = new Set<AnyWritable>();
  private replayNext = 0;
  private readonly streamSerialize: (v: HtlcEvent) => Buffer;
  private stopped = false;
  private modeChange: Promise<void> = Promise.resolve();

  private constructor(opts: SimulatorOptions, tls: { certPem: string; keyPem: string }) {
    super();
    this.engine = new SimEngine(opts);
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.certPem = tls.certPem;
    this.keyPem = tls.keyPem;
    if (opts.macaroonRootKey && opts.macaroonRootKey.length !== 32) throw new Error(`macaroonRootKey must be 32 bytes, got ${opts.macaroonRootKey.length}`);
    this.rootKey = Buffer.from(opts.macaroonRootKey ?? crypto.randomBytes(32));
    // nonces derived from the root key: the same key gives the same files, as a restarted LND
    // keeps its admin.macaroon and readonly.macaroon
    const nonce = (name: string) => crypto.createHmac('sha256', this.rootKey).update(name).digest().subarray(0, 16);
    this.macaroon = mintMacaroon(this.rootKey, LND_ADMIN_PERMISSIONS, nonce('admin.macaroon'));
    this.macaroonHex = this.macaroon.toString('hex');
    this.readonlyMacaroon = mintMacaroon(this.rootKey, LND_READ_PERMISSIONS, nonce('readonly.macaroon'));
    this.readonlyMacaroonHex = this.readonlyMacaroon.toString('hex');
    this.version = opts.version ?? rpc.SIM_LND_RELEASE.version;
    this.commitHash = opts.commitHash ?? (opts.version === undefined ? rpc.SIM_LND_RELEASE.commitHash : this.engine.model.commitHash);
    this.routerRpc = opts.routerRpc ?? true;
    const router = loadLndProtos().packageDefinition['routerrpc.Router'] as unknown as Record<string, MethodDefinition<object, object>>;
    this.streamSerialize = router.SubscribeHtlcEvents!.responseSerialize as unknown as (v: HtlcEvent) => Buffer;
    this.engine.validateRaw = (ev) => {
      this.streamSerialize(ev as HtlcEvent);
    };
    this.engine.addListener((ev) => {
      if (this.streams.size > 0) this.broadcast(ev);
      this.emit('event', ev);
    });
  }

  /** Generates TLS material and macaroons, builds the model and starts listening. */
  static async start(opts: SimulatorOptions = {}): Promise<LndSimulator> {
    const tls = opts.tls ?? (await generateTlsCert());
    const sim = new LndSimulator(opts, tls);
    const mode = opts.mode ?? 'ok';
    if (mode === 'down') {
      if (!sim.port) throw new Error("mode 'down' at start needs an explicit port");
      sim.modeValue = 'down';
    } else {
      await sim.listen();
      sim.modeValue = mode;
    }
    if (opts.eventsPerSecond && opts.eventsPerSecond > 0) sim.startTraffic(opts.eventsPerSecond);
    return sim;
  }

  /** "127.0.0.1:54321". */
  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  get identityPubkey(): string {
    return this.engine.model.identityPubkey;
  }

  get alias(): string {
    return this.engine.model.alias;
  }

  get mode(): SimMode {
    return this.modeValue;
  }

  /** Number of live SubscribeHtlcEvents streams. */
  get liveStreams(): number {
    return this.streams.size;
  }

  // ---------------------------------------------------------------- server lifecycle

  private buildServer(): grpc.Server {
    const server = new grpc.Server({ 'grpc.max_send_message_length': 200 * 1024 * 1024 });
    const { routerrpc, lnrpc } = loadLndProtos();
    // stream events are serialized once per event for all streams: pass Buffers through
    const sub = routerrpc.Router.service.SubscribeHtlcEvents!;
    const routerDef: grpc.ServiceDefinition = {
      ...routerrpc.Router.service,
      SubscribeHtlcEvents: {
        ...sub,
        responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : sub.responseSerialize(v)),
      },
    };
    server.addService(routerDef, {
      SubscribeHtlcEvents: (call: AnyWritable) => this.onSubscribe(call),
    });
    const policyDef = policyPackageDefinition()['lnrpc.Lightning'] as grpc.ServiceDefinition;
    server.addService({ ...lnrpc.Lightning.service, ...policyDef }, {
      GetInfo: this.unary('GetInfo', () => rpc.getInfo(this.engine, this.version, this.commitHash)),
      ListChannels: this.unary('ListChannels', (req) => rpc.listChannels(this.engine, req as rpc.ListChannelsReq)),
      GetChanInfo: this.unary('GetChanInfo', (req) => rpc.getChanInfo(this.engine, req as { chan_id?: string; chan_point?: string })),
      GetNodeInfo: this.unary('GetNodeInfo', (req) => rpc.getNodeInfo(this.engine, req as { pub_key?: string; include_channels?: boolean })),
      FeeReport: this.unary('FeeReport', () => rpc.feeReport(this.engine)),
      ForwardingHistory: this.unary('ForwardingHistory', (req) => rpc.forwardingHistory(this.engine, req as rpc.ForwardingHistoryReq)),
      UpdateChannelPolicy: this.unary('UpdateChannelPolicy', (req) => updateChannelPolicy(this.engine, req as PolicyUpdateReq)),
    });
    return server;
  }

  private async listen(): Promise<void> {
    const server = this.buildServer();
    const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(this.certPem), private_key: Buffer.from(this.keyPem) }], false);
    const target = this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
    const wantPort = this.port;
    let lastErr: Error | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        const port = await new Promise<number>((resolve, reject) => {
          server.bindAsync(target, creds, (e, p) => (e ? reject(e) : resolve(p)));
        });
        this.port = port;
        this.server = server;
        return;
      } catch (e) {
        lastErr = e as Error;
        if (!wantPort) break; // an ephemeral bind does not get better by retrying
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    server.forceShutdown();
    throw new Error(`simulator could not listen on ${target}: ${lastErr?.message ?? 'unknown error'}`);
  }

  private closeServer(): void {
    for (const s of this.streams) this.detach(s);
    this.streams.clear();
    if (this.server) {
      this.server.forceShutdown();
      this.server = undefined;
    }
  }

  /**
   * 'ok' serves normally; 'starting' / 'locked' answer every call with LND's UNKNOWN texts;
   * 'auth-fail' rejects every macaroon with the signature-mismatch error; 'hang' never answers
   * unary calls and holds new streams open without writing to them (a wedged LND: clients hit
   * their deadline); 'down' closes the
   * listener and all streams (connects fail). Leaving 'down' rebinds the same port.
   */
  setMode(mode: SimMode): Promise<void> {
    const next = this.modeChange.then(async () => {
      if (this.stopped) throw new Error('simulator stopped');
      if (mode === this.modeValue) return;
      if (mode === 'down') {
        this.modeValue = 'down';
        this.closeServer();
        return;
      }
      if (this.modeValue === 'down') await this.listen();
      this.modeValue = mode;
    });
    this.modeChange = next.catch(() => undefined);
    return next;
  }

  /** Stops traffic and shuts the server down (forceShutdown). Idempotent. */
  async stop(): Promise<void> {
    this.engine.stopTraffic();
    await this.modeChange;
    if (this.stopped) return;
    this.stopped = true;
    this.closeServer();
  }

  /**
   * Writes tls.cert, admin.macaroon and readonly.macaroon (binary) into `dir` (created if needed),
   * and tls.key and the macaroon root key (MACAROON_ROOT_KEY_FILE) when `withKey`, so a restarted
   * simulator can reuse them, as LND reuses its own.
   */
  async writeCredentials(dir: string, withKey = false): Promise<CredentialPaths> {
    await fs.mkdir(dir, { recursive: true });
    if (withKey) {
      await fs.writeFile(path.join(dir, 'tls.key'), this.keyPem, { mode: 0o600 });
      await fs.writeFile(path.join(dir, MACAROON_ROOT_KEY_FILE), this.rootKey, { mode: 0o600 });
    }
    const certPath = path.join(dir, 'tls.cert');
    const macaroonPath = path.join(dir, 'admin.macaroon');
    const readonlyMacaroonPath = path.join(dir, 'readonly.macaroon');
    await fs.writeFile(certPath, this.certPem);
    await fs.writeFile(macaroonPath, this.macaroon, { mode: 0o600 });
    await fs.writeFile(readonlyMacaroonPath, this.readonlyMacaroon, { mode: 0o600 });
    return { certPath, macaroonPath, readonlyMacaroonPath };
  }

  /**
   * A new macaroon with these permissions, as `lncli bakemacaroon` makes one: `entity:action`
   * pairs (e.g. 'info:read', 'offchain:write') or `uri:/package.Service/Method` for single calls.
   * Validated with LND's rules and texts (throws on an unknown entity or action, or a `uri:` for
   * a call this node does not serve).
   */
  bakeMacaroon(permissions: readonly string[]): Buffer {
    const known = new Set(Object.keys(LND_METHOD_PERMISSIONS).filter((m) => this.routerRpc || !m.startsWith('/routerrpc.')));
    return mintMacaroon(this.rootKey, parsePermissions(permissions, known));
  }

  // ---------------------------------------------------------------- auth

  /**
   * LND's interceptor order: RPC state first, then the method's required permissions, then the
   * macaroon (rpcperms/interceptor.go checkMacaroon, macaroons/service.go ValidateMacaroon and
   * CheckMacAuth). `fullMethod` is the gRPC path, e.g. /lnrpc.Lightning/GetInfo.
   */
  private authorize(fullMethod: string, md: grpc.Metadata): StatusError | undefined {
    const UNKNOWN = grpc.status.UNKNOWN;
    if (this.modeValue === 'starting') return err(UNKNOWN, LND_ERRORS.starting);
    if (this.modeValue === 'locked') return err(UNKNOWN, LND_ERRORS.locked);
    const required = LND_METHOD_PERMISSIONS[fullMethod];
    if (!required) return err(UNKNOWN, `${fullMethod}: unknown permissions required for method`);
    const values = md.get('macaroon');
    if (values.length !== 1) return err(UNKNOWN, `expected 1 macaroon, got ${values.length}`);
    if (this.modeValue === 'auth-fail') return err(UNKNOWN, LND_ERRORS.signatureMismatch);
    const raw = values[0];
    const hex = Buffer.isBuffer(raw) ? raw.toString('hex') : String(raw);
    const hexErr = goHexDecodeError(hex);
    if (hexErr) return err(UNKNOWN, hexErr);
    const denied = checkMacaroon(this.rootKey, Buffer.from(hex, 'hex'), required, fullMethod);
    return denied === undefined ? undefined : err(UNKNOWN, denied);
  }

  private unary(method: string, fn: (req: object) => object): grpc.handleUnaryCall<object, object> {
    const fullMethod = `/lnrpc.Lightning/${method}`;
    return (call, callback) => {
      if (this.modeValue === 'hang') return; // never answered: the client's deadline ends it
      const denied = this.authorize(fullMethod, call.metadata);
      if (denied) {
        callback(denied, null);
        return;
      }
      try {
        callback(null, fn(call.request));
      } catch (e) {
        if (e instanceof rpc.SimRpcError) callback(err(e.code, e.details), null);
        else callback(err(grpc.status.UNKNOWN, (e as Error).message ?? String(e)), null);
      }
    };
  }

  // ---------------------------------------------------------------- streams

  private onSubscribe(call: AnyWritable): void {
    if (!this.routerRpc) {
      call.emit('error', err(grpc.status.UNIMPLEMENTED, LND_ERRORS.noRouter));
      return;
    }
    if (this.modeValue === 'hang') return; // held open, silent, until the client gives up or we stop
    const denied = this.authorize('/routerrpc.Router/SubscribeHtlcEvents', call.metadata);
    if (denied) {
      call.emit('error', denied);
      return;
    }
    this.streams.add(call);
    const onGone = () => this.detach(call);
    call.on('cancelled', onGone);
    call.on('close', onGone);
    call.on('finish', onGone);
    call.on('error', onGone);
    call.write({
      incoming_channel_id: '0',
      outgoing_channel_id: '0',
      incoming_htlc_id: '0',
      outgoing_htlc_id: '0',
      timestamp_ns: this.engine.nextTimestampNs(),
      event_type: 'UNKNOWN',
      subscribed_event: {},
      event: 'subscribed_event',
    });
    if (this.replayNext > 0) {
      const n = this.replayNext;
      this.replayNext = 0;
      for (const ev of this.engine.history(n)) call.write(this.streamSerialize(ev));
    }
    this.emit('subscribe', this.streams.size);
  }

  private detach(call: AnyWritable): void {
    if (this.streams.delete(call)) this.emit('unsubscribe', this.streams.size);
  }

  private broadcast(ev: HtlcEvent): void {
    const buf = this.streamSerialize(ev);
    for (const s of this.streams) {
      if (s.cancelled || s.writableEnded) {
        this.detach(s);
        continue;
      }
      s.write(buf);
    }
  }

  /** Ends every live stream with status UNAVAILABLE (events already written are delivered first). Returns how many. */
  cutStreams(details = 'simulated stream cut: transport is closing'): number {
    const list = [...this.streams];
    for (const s of list) {
      this.detach(s);
      s.emit('error', err(grpc.status.UNAVAILABLE, details));
    }
    return list.length;
  }

  /**
   * Writes `buf` as one message, as is, to every live stream: for protobuf the client's protos do
   * not know (a future oneof member, a new field, unknown enum numbers) or bytes that are not a
   * valid message at all. Bypasses the engine: not in history(), replays or truth(). Returns how
   * many streams got it.
   */
  emitRawBytes(buf: Buffer | Uint8Array): number {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
    let n = 0;
    for (const s of this.streams) {
      if (s.cancelled || s.writableEnded) {
        this.detach(s);
        continue;
      }
      s.write(b);
      n++;
    }
    return n;
  }

  /** The next subscription gets the last `n` history events right after its subscribed_event. */
  replayOnNextSubscribe(n: number): void {
    this.replayNext = Math.max(0, Math.floor(n));
  }

  /**
   * Resolves once at least `n` streams are live (rejects after timeoutMs). The default leaves a
   * loaded machine all the time it needs to connect: it only turns a hang into an error.
   */
  waitForStreams(n = 1, timeoutMs = 60_000): Promise<void> {
    if (this.streams.size >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onSub = (count: number) => {
        if (count >= n) {
          clearTimeout(timer);
          this.off('subscribe', onSub);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.off('subscribe', onSub);
        reject(new Error(`timed out waiting for ${n} stream(s); ${this.streams.size} live`));
      }, timeoutMs);
      this.on('subscribe', onSub);
    });
  }

  // ---------------------------------------------------------------- engine delegation

  /** Read-only snapshots of the channels. */
  get channels(): readonly ChannelView[] {
    return this.engine.channels;
  }
  channel(ref: ChanRef): ChannelView | undefined {
    return this.engine.channel(ref);
  }
  /** See SimEngine.step. */
  step(n = 1, opts?: { flush?: boolean }): number {
    return this.engine.step(n, opts);
  }
  flush(): number {
    return this.engine.flush();
  }
  runScenario(kind?: ScenarioKind): number {
    return this.engine.runScenario(kind);
  }
  startTraffic(eventsPerSecond: number): void {
    this.engine.startTraffic(eventsPerSecond);
  }
  stopTraffic(): void {
    this.engine.stopTraffic();
  }
  setFailureMix(mix: FailureMix): void {
    this.engine.setFailureMix(mix);
  }
  forward(opts?: ForwardOptions): ForwardHandle {
    return this.engine.forward(opts);
  }
  forwardSettle(opts?: ForwardOptions): ForwardResult {
    return this.engine.forwardSettle(opts);
  }
  forwardFailDownstream(opts?: ForwardOptions): ForwardResult {
    return this.engine.forwardFailDownstream(opts);
  }
  linkFail(opts: LinkFailOptions): HtlcEvent[] {
    return this.engine.linkFail(opts);
  }
  rebalance(opts: RebalanceOptions): HtlcEvent[] {
    return this.engine.rebalance(opts);
  }
  emitRaw(ev: Partial<HtlcEvent> & Record<string, unknown>): HtlcEvent {
    return this.engine.emitRaw(ev);
  }
  history(n?: number): HtlcEvent[] {
    return this.engine.history(n);
  }
  truth(opts?: TruthOptions): GroundTruth {
    return this.engine.truth(opts);
  }
  counters(): SimCounters {
    return this.engine.counters();
  }
  forwardingLog(): readonly ForwardRecord[] {
    return this.engine.forwardingLog();
  }
  setChannelActive(ref: ChanRef, active: boolean): void {
    this.engine.setChannelActive(ref, active);
  }
  updatePolicy(ref: ChanRef, patch: Partial<PolicyModel>): void {
    this.engine.updatePolicy(ref, patch);
  }
  setLocalBalance(ref: ChanRef, localMsat: Msat): void {
    this.engine.setLocalBalance(ref, localMsat);
  }
}
