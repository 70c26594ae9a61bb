import * as crypto from 'node:crypto';
import type { EnumValue, HtlcEvent, HtlcInfo } from '../lnd/types';
import { eventTypeTable, enumName, reasonKey } from './enums';
import { eventMember, forwardKey, TruthLedger, type GroundTruth, type TruthOptions } from './ledger';
import {
  bandwidthMsat,
  buildNodeModel,
  channelView,
  findChannel,
  requiredFeeMsat,
  type ChannelView,
  type NodeModel,
  type PolicyModel,
  type SimChannel,
} from './model';
import { Prng } from './prng';

/**
 * The simulator's engine: node model + deterministic HTLC traffic + event history + ground truth.
 * It has no network parts, so benchmarks can drive it in-process (`new SimEngine(...).step(n)`);
 * {@link LndSimulator} puts a gRPC server in front of it.
 *
 * Events are produced exactly as LND's routerrpc.SubscribeHtlcEvents delivers them (shape as
 * @grpc/proto-loader decodes them with keepCase/longs: String/enums: String/defaults/oneofs):
 * - success: forward_event (FORWARD, info with both amounts/timelocks) … later settle_event with
 *   the same four ids, then final_htlc_event (UNKNOWN, incoming ids only, settled: true);
 * - downstream failure: forward_event … later forward_fail_event (same ids), final (settled: false);
 * - local failure: link_fail_event (FORWARD, outgoing_htlc_id 0, info, wire_failure +
 *   failure_detail + failure_string), final (settled: false); failures on the incoming link have
 *   outgoing_channel_id "0" and info.outgoing_amt_msat "0";
 * - rebalances: SEND forward_event/settle_event (incoming 0) and RECEIVE settle_event (outgoing 0).
 * HTLC ids are per-channel counters; timestamp_ns is wall-clock ns, strictly increasing.
 */

/** The kinds of HTLC scenario the traffic generator draws from (weights in {@link FailureMix}). */
export type ScenarioKind =
  | 'settle'
  | 'downstream'
  | 'probe'
  | 'insufficientBalance'
  | 'feeInsufficient'
  | 'amountBelowMin'
  | 'htlcExceedsMax'
  | 'cltv'
  | 'expiryTooSoon'
  | 'unknownNextPeer'
  | 'linkNotEligible'
  | 'channelDisabled'
  | 'onionDecode'
  | 'rebalance';

/** Relative weights of scenario kinds; missing kinds keep their default, 0 disables one. */
export type FailureMix = Partial<Record<ScenarioKind, number>>;

export const DEFAULT_FAILURE_MIX: Readonly<Record<ScenarioKind, number>> = Object.freeze({
  settle: 58,
  downstream: 14,
  probe: 5,
  insufficientBalance: 4,
  feeInsufficient: 5,
  amountBelowMin: 1,
  htlcExceedsMax: 1.5,
  cltv: 1.5,
  expiryTooSoon: 0.5,
  unknownNextPeer: 1.5,
  linkNotEligible: 0.5,
  channelDisabled: 0.5,
  onionDecode: 1,
  rebalance: 3,
});

const SCENARIO_KINDS = Object.keys(DEFAULT_FAILURE_MIX) as ScenarioKind[];

export interface EngineOptions {
  /** Seed for the model and the traffic (default 1). */
  seed?: number | string;
  /** Number of channels (default 12, at least 2). */
  channels?: number;
  /** Our node alias (default "sim-routing-node"). */
  alias?: string;
  /** GetInfo chains[0].network (default "mainnet"). */
  network?: string;
  failureMix?: FailureMix;
  /** Events kept for history()/replays (default 10,000). */
  historySize?: number;
  /** Settled forwards kept for ForwardingHistory/FeeReport (default 1,000,000). */
  forwardingLogSize?: number;
  /** A forwarded HTLC stays in flight for 0..maxResolveDelay further scenarios (default 3). */
  maxResolveDelay?: number;
  /** Emit final_htlc_event after each resolved incoming HTLC (default true, as LND). */
  finalHtlcEvents?: boolean;
  /** Wall clock in ms (default Date.now); timestamps are derived from it. */
  now?: () => number;
}

/** A channel reference: chan_id / alias SCID as bigint, decimal string or safe number. */
export type ChanRef = bigint | string | number;
/** A msat amount. */
export type Msat = bigint | string | number;

export interface ForwardOptions {
  /** Default: a random active channel with enough inbound for the amount. */
  incomingChanId?: ChanRef;
  /** Default: a random other channel. May name a SCID we have no channel for. */
  outgoingChanId?: ChanRef;
  /** Outgoing amount (default random 10k–500k sat). */
  amtMsat?: Msat;
  /** incoming − outgoing (default: our fee per policy of the outgoing/incoming channel). */
  feeMsat?: Msat;
  incomingTimelock?: number;
  outgoingTimelock?: number;
  /** Name channels by their alias SCID when they have one (default false). */
  useAlias?: boolean;
  /** Also emit final_htlc_event on resolution (default false for scripted forwards). */
  finalEvent?: boolean;
}

export interface ForwardResult {
  incomingChannelId: string;
  outgoingChannelId: string;
  incomingHtlcId: string;
  outgoingHtlcId: string;
  incomingAmtMsat: string;
  outgoingAmtMsat: string;
  feeMsat: string;
  events: HtlcEvent[];
}

export interface ForwardHandle extends ForwardResult {
  readonly state: 'in-flight' | 'settled' | 'failed';
  /** Emits settle_event (+ final if asked); returns the events emitted. */
  settle(): HtlcEvent[];
  /** Emits forward_fail_event (+ final if asked); returns the events emitted. */
  fail(): HtlcEvent[];
}

export interface LinkFailOptions {
  incomingChanId: ChanRef;
  /** 0 / "0" for a failure on the incoming link. */
  outgoingChanId: ChanRef;
  /** Default: the incoming channel's next counter (0 if the channel is unknown). */
  incomingHtlcId?: Msat;
  incomingAmtMsat: Msat;
  outgoingAmtMsat: Msat;
  incomingTimelock?: number;
  outgoingTimelock?: number;
  /** Name (e.g. "TEMPORARY_CHANNEL_FAILURE") or number (unknown numbers are sent as is). */
  wireFailure: EnumValue;
  failureDetail: EnumValue;
  /** Default: LND-like text for the pair. */
  failureString?: string;
  /** Default "FORWARD". */
  eventType?: EnumValue;
  /** Send info: null (default: info with the amounts/timelocks). */
  omitInfo?: boolean;
  finalEvent?: boolean;
}

export interface RebalanceOptions {
  /** Channel we send from (SEND, outgoing). */
  fromChanId: ChanRef;
  /** Channel we receive on (RECEIVE, incoming). */
  toChanId: ChanRef;
  amtMsat: Msat;
  /** Routing fee paid to other nodes (default 0.05%). */
  feeMsat?: Msat;
  /** The payment attempt fails (SEND forward_fail_event), no balance change. */
  fail?: boolean;
}

/** One settled forward as kept for ForwardingHistory. */
export interface ForwardRecord {
  readonly timestampNs: string;
  readonly tsMs: number;
  readonly tsSubNs: number;
  readonly chanIdIn: string;
  readonly chanIdOut: string;
  readonly amtInMsat: number;
  readonly amtOutMsat: number;
  readonly feeMsat: number;
  readonly incomingHtlcId: number;
  readonly outgoingHtlcId: number;
}

export interface SimCounters {
  /** Events emitted through the engine (history; excludes subscribed_event and replays). */
  events: number;
  /** By oneof member ("forward_event", …, "none"). */
  byMember: Record<string, number>;
  /** By event_type name (or number). */
  byEventType: Record<string, number>;
  /** Generated scenarios by kind (what the generator intended). */
  scenarios: Record<string, number>;
  /** FORWARD link_fail_events by reason key (see reasonKey). */
  linkFailsByReason: Record<string, number>;
  /** HTLCs currently in flight. */
  inFlight: number;
  /** Raw events sent with emitRaw. */
  raw: number;
}

/** A pending (in-flight) HTLC as listed in ListChannels.pending_htlcs. */
export interface PendingHtlcView {
  chanIdStr: string;
  incoming: boolean;
  amountMsat: number;
  hashLock: Buffer;
  expirationHeight: number;
  htlcIndex: number;
  forwardingChannel: string;
  forwardingHtlcIndex: number;
}

interface InFlight {
  inCh: SimChannel | undefined;
  outCh: SimChannel | undefined;
  inIdStr: string;
  outIdStr: string;
  inHtlc: number;
  outHtlc: number;
  inHtlcStr: string;
  outHtlcStr: string;
  amtIn: number;
  amtOut: number;
  inCltv: number;
  outCltv: number;
  outcome: 'settle' | 'fail';
  /** Scenario index at which it resolves; Infinity for scripted handles. */
  dueAt: number;
  preimage: Buffer;
  finalEvent: boolean;
}

type Listener = (ev: HtlcEvent) => void;

const LND_FAILURE_STRINGS: Record<string, string> = {
  INSUFFICIENT_BALANCE: 'insufficient bandwidth to route htlc',
  HTLC_EXCEEDS_MAX: 'htlc exceeds maximum policy amount',
  LINK_NOT_ELIGIBLE: 'link not eligible',
  ONION_DECODE: 'could not decode onion',
  ON_CHAIN_TIMEOUT: 'htlc timed out on-chain',
  INCOMPLETE_FORWARD: 'incomplete forward',
  HTLC_ADD_FAILED: 'htlc add failed',
  FORWARDS_DISABLED: 'node configured to disable forwards',
  CIRCULAR_ROUTE: 'circular route',
  FEE_INSUFFICIENT: 'FeeInsufficient',
  AMOUNT_BELOW_MINIMUM: 'AmountBelowMinimum',
  INCORRECT_CLTV_EXPIRY: 'IncorrectCltvExpiry',
  EXPIRY_TOO_SOON: 'ExpiryTooSoon',
  UNKNOWN_NEXT_PEER: 'UnknownNextPeer',
  CHANNEL_DISABLED: 'ChannelDisabled',
  TEMPORARY_CHANNEL_FAILURE: 'TemporaryChannelFailure',
};

/** LND-like failure_string for a (wire, detail) pair (display text only). */
export function lndFailureString(wire: EnumValue, detail: EnumValue): string {
  const d = typeof detail === 'string' ? LND_FAILURE_STRINGS[detail] : undefined;
  if (d && detail !== 'NO_DETAIL' && detail !== 'UNKNOWN') return d;
  if (typeof wire === 'string') return LND_FAILURE_STRINGS[wire] ?? wire;
  return `unknown failure code ${String(wire)}`;
}

/** Blocks before expiry at which LND refuses to forward (outgoing CLTV reject delta). */
const OUTGOING_CLTV_REJECT_DELTA = 13;

function toNum(v: Msat, what: string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative safe integer, got ${String(v)}`);
  return n;
}

function refStr(v: ChanRef): string {
  return typeof v === 'string' ? v : BigInt(v).toString();
}

export class SimEngine {
  readonly model: NodeModel;
  readonly seed: number | string;
  private readonly prng: Prng;
  private readonly now: () => number;
  private readonly listeners: Listener[] = [];
  private readonly ledger = new TruthLedger();

  // history ring
  private readonly histCap: number;
  private readonly hist: (HtlcEvent | undefined)[];
  private histPos = 0;
  private histLen = 0;

  // forwarding log
  private readonly fwdLogCap: number;
  private fwdLog: ForwardRecord[] = [];

  // clock
  private lastMs = 0;
  private subNs = 0;

  // generator state
  private mixKinds: ScenarioKind[] = [];
  private mixCum: number[] = [];
  private mixTotal = 0;
  private scenarioIndex = 0;
  private inFlight: InFlight[] = [];
  private readonly maxResolveDelay: number;
  private readonly finalEvents: boolean;
  private cumDirty = true;
  private inCum: number[] = [];
  private inChans: SimChannel[] = [];
  private outCum: number[] = [];

  // counters
  private emittedCount = 0;
  private rawCount = 0;
  private readonly byMember = new Map<string, number>();
  private readonly byEventType = new Map<string, number>();
  private readonly scenarioCounts = new Map<string, number>();
  private readonly linkFailsByReason = new Map<string, number>();

  // traffic timer
  private timer: NodeJS.Timeout | undefined;
  private trafficRate = 0;

  private capture: HtlcEvent[] | undefined;

  /** Set by the server to reject raw events that cannot be serialized (throws). */
  validateRaw: ((ev: object) => void) | undefined;

  constructor(opts: EngineOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.model = buildNodeModel({ seed: this.seed, channels: opts.channels ?? 12, alias: opts.alias, network: opts.network });
    this.prng = new Prng(`traffic:${String(this.seed)}`);
    this.now = opts.now ?? Date.now;
    this.histCap = Math.max(1, opts.historySize ?? 10_000);
    this.hist = new Array<HtlcEvent | undefined>(this.histCap);
    this.fwdLogCap = Math.max(1, opts.forwardingLogSize ?? 1_000_000);
    this.maxResolveDelay = Math.max(0, opts.maxResolveDelay ?? 3);
    this.finalEvents = opts.finalHtlcEvents ?? true;
    this.setFailureMix(opts.failureMix ?? {});
  }

  // ---------------------------------------------------------------- listeners, clock, history

  /** Registers a listener for every emitted event; returns an unsubscribe function. */
  addListener(fn: Listener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The engine's wall clock (ms); FeeReport windows use it. */
  nowMs(): number {
    return this.now();
  }

  /** Next timestamp_ns: wall-clock ms * 1e6 + a sub-ms counter, strictly increasing. */
  nextTimestampNs(): string {
    const ms = Math.floor(this.now());
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.subNs = 0;
    } else if (++this.subNs >= 1_000_000) {
      this.lastMs++;
      this.subNs = 0;
    }
    if (this.subNs === 0) return `${this.lastMs}000000`;
    return `${this.lastMs}${String(this.subNs).padStart(6, '0')}`;
  }

  private out(ev: HtlcEvent, raw = false): void {
    if (this.capture) this.capture.push(ev);
    if (raw) this.ledger.observe(ev, false, this.inHistory);
    else this.ledger.observe(ev);
    this.hist[this.histPos] = ev;
    this.histPos = this.histPos + 1 === this.histCap ? 0 : this.histPos + 1;
    if (this.histLen < this.histCap) this.histLen++;
    this.emittedCount++;
    const member = ev.event ?? eventMember(ev);
    this.byMember.set(member, (this.byMember.get(member) ?? 0) + 1);
    const et = String(ev.event_type);
    this.byEventType.set(et, (this.byEventType.get(et) ?? 0) + 1);
    if (member === 'link_fail_event' && (ev.event_type === 'FORWARD' || ev.event_type === 3)) {
      const k = reasonKey(ev.link_fail_event?.wire_failure, ev.link_fail_event?.failure_detail);
      this.linkFailsByReason.set(k, (this.linkFailsByReason.get(k) ?? 0) + 1);
    }
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]!(ev);
  }

  /** Whether an event with this oneof member and these four ids is in the history. */
  private readonly inHistory = (member: string, ids: string): boolean => {
    for (let i = 0; i < this.histLen; i++) {
      const e = this.hist[i]!;
      if ((e.event ?? eventMember(e)) !== member) continue;
      if (forwardKey(e) === ids) return true;
    }
    return false;
  };

  /** The last `n` emitted events (default all kept), oldest first. */
  history(n?: number): HtlcEvent[] {
    const count = Math.min(this.histLen, n === undefined ? this.histLen : Math.max(0, Math.floor(n)));
    const res: HtlcEvent[] = new Array(count);
    let idx = (this.histPos - count + this.histCap) % this.histCap;
    for (let i = 0; i < count; i++) {
      res[i] = this.hist[idx]!;
      idx = idx + 1 === this.histCap ? 0 : idx + 1;
    }
    return res;
  }

  // ---------------------------------------------------------------- views

  /** Read-only snapshots of all channels. */
  get channels(): readonly ChannelView[] {
    return this.model.channels.map((c) => channelView(this.model, c));
  }

  /** Snapshot of the channel a SCID (chan_id or alias) names. */
  channel(ref: ChanRef): ChannelView | undefined {
    const ch = findChannel(this.model, refStr(ref));
    return ch ? channelView(this.model, ch) : undefined;
  }

  /** Settled forwards (oldest first), as ForwardingHistory serves them. */
  forwardingLog(): readonly ForwardRecord[] {
    return this.fwdLog;
  }

  /** HTLCs in flight (for ListChannels.pending_htlcs). */
  pendingHtlcs(): PendingHtlcView[] {
    const res: PendingHtlcView[] = [];
    for (const f of this.inFlight) {
      const hashLock = crypto.createHash('sha256').update(f.preimage).digest();
      if (f.inCh) {
        res.push({ chanIdStr: f.inCh.chanIdStr, incoming: true, amountMsat: f.amtIn, hashLock, expirationHeight: f.inCltv, htlcIndex: f.inHtlc, forwardingChannel: f.outIdStr, forwardingHtlcIndex: f.outHtlc });
      }
      if (f.outCh) {
        res.push({ chanIdStr: f.outCh.chanIdStr, incoming: false, amountMsat: f.amtOut, hashLock, expirationHeight: f.outCltv, htlcIndex: f.outHtlc, forwardingChannel: f.inIdStr, forwardingHtlcIndex: f.inHtlc });
      }
    }
    return res;
  }

  /** Ground truth of what a monitor must have counted (see GroundTruth). */
  truth(opts: TruthOptions = {}): GroundTruth {
    const resolve = opts.resolveAliases === false ? undefined : (id: string) => findChannel(this.model, id)?.chanIdStr ?? id;
    return this.ledger.snapshot(resolve);
  }

  counters(): SimCounters {
    const obj = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    return {
      events: this.emittedCount,
      byMember: obj(this.byMember),
      byEventType: obj(this.byEventType),
      scenarios: obj(this.scenarioCounts),
      linkFailsByReason: obj(this.linkFailsByReason),
      inFlight: this.inFlight.length,
      raw: this.rawCount,
    };
  }

  // ---------------------------------------------------------------- model mutation (tests)

  private must(ref: ChanRef): SimChannel {
    const ch = findChannel(this.model, refStr(ref));
    if (!ch) throw new Error(`no channel ${refStr(ref)}`);
    return ch;
  }

  /** Marks a channel's peer online/offline (inactive channels fail with LINK_NOT_ELIGIBLE). */
  setChannelActive(ref: ChanRef, active: boolean): void {
    this.must(ref).active = active;
    this.cumDirty = true;
  }

  /** Changes our policy on a channel (e.g. { disabled: true } or { feeRatePpm: 500 }). */
  updatePolicy(ref: ChanRef, patch: Partial<PolicyModel>): void {
    const ch = this.must(ref);
    Object.assign(ch.policy, patch);
    this.cumDirty = true;
  }

  /** Sets our settled local balance (msat); the remote side absorbs the difference. */
  setLocalBalance(ref: ChanRef, localMsat: Msat): void {
    const ch = this.must(ref);
    const v = toNum(localMsat, 'localMsat');
    const total = ch.localMsat + ch.remoteMsat;
    if (v > total) throw new Error(`local balance ${v} exceeds ${total} msat available`);
    ch.localMsat = v;
    ch.remoteMsat = total - v;
  }

  setFailureMix(mix: FailureMix): void {
    const merged: Record<ScenarioKind, number> = { ...DEFAULT_FAILURE_MIX };
    for (const [k, v] of Object.entries(mix)) {
      if (!(k in DEFAULT_FAILURE_MIX)) throw new Error(`unknown scenario kind ${k}`);
      if (typeof v !== 'number' || !(v >= 0)) throw new Error(`weight for ${k} must be >= 0`);
      merged[k as ScenarioKind] = v;
    }
    this.mixKinds = [];
    this.mixCum = [];
    let total = 0;
    for (const k of SCENARIO_KINDS) {
      if (merged[k] <= 0) continue;
      total += merged[k];
      this.mixKinds.push(k);
      this.mixCum.push(total);
    }
    if (total <= 0) throw new Error('failure mix has no positive weight');
    this.mixTotal = total;
  }

  // ---------------------------------------------------------------- traffic

  /**
   * Synchronously generates `n` HTLC scenarios (each 1–4 events; forwards resolve a few scenarios
   * later). Returns the number of events emitted. With `flush`, resolves everything in flight at
   * the end.
   */
  step(n = 1, opts: { flush?: boolean } = {}): number {
    const before = this.emittedCount;
    for (let i = 0; i < n; i++) this.runScenario();
    if (opts.flush) this.flush();
    return this.emittedCount - before;
  }

  /** Resolves every generated HTLC in flight now (scripted handles stay). Returns events emitted. */
  flush(): number {
    const before = this.emittedCount;
    const due = this.inFlight.filter((f) => f.dueAt !== Infinity);
    this.inFlight = this.inFlight.filter((f) => f.dueAt === Infinity);
    for (const f of due) this.resolve(f, f.outcome);
    return this.emittedCount - before;
  }

  /** Emits events continuously at about `eventsPerSecond` (timer every 10 ms). 0 stops. */
  startTraffic(eventsPerSecond: number): void {
    this.stopTraffic();
    if (!(eventsPerSecond > 0)) return;
    this.trafficRate = eventsPerSecond;
    let last = performance.now();
    let budget = 0;
    this.timer = setInterval(() => {
      const t = performance.now();
      budget += (this.trafficRate * (t - last)) / 1000;
      last = t;
      budget = Math.min(budget, Math.max(1, this.trafficRate / 2));
      while (budget >= 1) budget -= this.step(1);
    }, 10);
    this.timer.unref?.();
  }

  stopTraffic(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.trafficRate = 0;
  }

  get trafficEventsPerSecond(): number {
    return this.trafficRate;
  }

  /** Runs one scenario (of the given kind, or drawn from the failure mix). Returns events emitted. */
  runScenario(kind?: ScenarioKind): number {
    const before = this.emittedCount;
    this.scenarioIndex++;
    if (this.inFlight.length) this.resolveDue();
    const k = kind ?? this.drawKind();
    this.scenarioCounts.set(k, (this.scenarioCounts.get(k) ?? 0) + 1);
    this.generate(k);
    return this.emittedCount - before;
  }

  private drawKind(): ScenarioKind {
    const r = this.prng.float() * this.mixTotal;
    const cum = this.mixCum;
    for (let i = 0; i < cum.length; i++) if (r < cum[i]!) return this.mixKinds[i]!;
    return this.mixKinds[this.mixKinds.length - 1]!;
  }

  private resolveDue(): void {
    const now = this.scenarioIndex;
    let keep = 0;
    const list = this.inFlight;
    const due: InFlight[] = [];
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (f.dueAt <= now) due.push(f);
      else list[keep++] = f;
    }
    list.length = keep;
    for (const f of due) this.resolve(f, f.outcome);
  }

  private rebuildCum(): void {
    const chans = this.model.channels;
    this.inChans = chans.filter((c) => c.active);
    this.inCum = [];
    let t = 0;
    for (const c of this.inChans) this.inCum.push((t += c.trafficWeight));
    this.outCum = [];
    t = 0;
    for (const c of chans) this.outCum.push((t += c.trafficWeight));
    this.cumDirty = false;
  }

  private pickWeighted(list: SimChannel[], cum: number[], exclude?: SimChannel): SimChannel | undefined {
    if (list.length === 0) return undefined;
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = this.prng.float() * cum[cum.length - 1]!;
      let i = 0;
      while (i < cum.length - 1 && r >= cum[i]!) i++;
      const c = list[i]!;
      if (c !== exclude) return c;
    }
    return list.find((c) => c !== exclude);
  }

  /** A channel the peer can send `amtIn` over (remote − their reserve). */
  private pickIncoming(amtIn: number, exclude?: SimChannel): SimChannel | undefined {
    if (this.cumDirty) this.rebuildCum();
    for (let attempt = 0; attempt < 4; attempt++) {
      const c = this.pickWeighted(this.inChans, this.inCum, exclude);
      if (c && c.remoteMsat - c.remoteReserveSat * 1000 >= amtIn) return c;
    }
    let best: SimChannel | undefined;
    for (const c of this.inChans) {
      if (c === exclude) continue;
      if (!best || c.remoteMsat > best.remoteMsat) best = c;
    }
    return best;
  }

  private pickOutgoing(exclude: SimChannel | undefined): SimChannel | undefined {
    if (this.cumDirty) this.rebuildCum();
    return this.pickWeighted(this.model.channels, this.outCum, exclude);
  }

  /** A random channel matching `pred` (≠ exclude), or undefined. */
  private pickWhere(pred: (c: SimChannel) => boolean, exclude?: SimChannel): SimChannel | undefined {
    const list = this.model.channels.filter((c) => c !== exclude && pred(c));
    return list.length ? this.prng.pick(list) : undefined;
  }

  private usable(c: SimChannel): boolean {
    return c.active && !c.policy.disabled;
  }

  private idFor(c: SimChannel): string {
    if (c.aliasInEventsProbability > 0 && c.aliasScidStrs.length > 0 && this.prng.chance(c.aliasInEventsProbability)) return c.aliasScidStrs[0]!;
    return c.chanIdStr;
  }

  private normalAmount(): number {
    // 10k .. 500k sat, log-uniform, arbitrary msat
    return this.prng.logInt(10_000_000, 500_000_000);
  }

  private generate(kind: ScenarioKind): void {
    const height = this.model.blockHeight;
    switch (kind) {
      case 'rebalance':
        this.genRebalance();
        return;
      case 'onionDecode': {
        const amt = this.normalAmount();
        const inCh = this.pickIncoming(amt);
        if (!inCh) return;
        const inId = this.idFor(inCh);
        const inHtlc = inCh.nextInHtlcId++;
        const wire = this.prng.pick(['INVALID_ONION_HMAC', 'INVALID_ONION_VERSION', 'INVALID_ONION_KEY']);
        this.emitLinkFail('FORWARD', inId, '0', String(inHtlc), {
          incoming_timelock: height + this.prng.int(40, 400),
          outgoing_timelock: 0,
          incoming_amt_msat: String(amt),
          outgoing_amt_msat: '0',
        }, wire, 'ONION_DECODE', 'could not decode onion');
        this.emitFinal(inId, inHtlc, false);
        return;
      }
      case 'unknownNextPeer': {
        const amt = this.normalAmount();
        const fee = 1000 + Math.floor((amt * this.prng.int(1, 500)) / 1_000_000);
        const inCh = this.pickIncoming(amt + fee);
        if (!inCh) return;
        const outId = this.prng.pick(this.model.unknownScids);
        const outCltv = height + this.prng.int(40, 400);
        this.attemptForward(inCh, undefined, outId, amt, amt + fee, outCltv + 80, outCltv, 'fail');
        return;
      }
      default:
        break;
    }

    let amtOut = this.normalAmount();
    let outcome: 'settle' | 'fail' = kind === 'settle' ? 'settle' : 'fail';
    let outCh: SimChannel | undefined;
    let feeAdjust: 'exact' | 'close' | 'far' = 'exact';
    let cltvMode: 'ok' | 'short' | 'soon' = 'ok';

    switch (kind) {
      case 'settle':
      case 'downstream':
        outCh = this.pickOutgoing(undefined);
        break;
      case 'probe': {
        outCh = this.pickWhere((c) => this.usable(c));
        if (outCh) {
          const bw = bandwidthMsat(outCh);
          amtOut = bw > 0 ? Math.floor(bw * (1.02 + this.prng.float() * 1.5)) : this.normalAmount();
          if (outCh.policy.maxHtlcMsat > 0 && this.prng.chance(0.6)) amtOut = Math.min(amtOut, outCh.policy.maxHtlcMsat);
        }
        break;
      }
      case 'insufficientBalance': {
        outCh = this.pickWhere((c) => this.usable(c) && (c.policy.maxHtlcMsat === 0 || bandwidthMsat(c) < c.policy.maxHtlcMsat));
        if (outCh) {
          const bw = bandwidthMsat(outCh);
          const cap = outCh.policy.maxHtlcMsat > 0 ? outCh.policy.maxHtlcMsat : outCh.capacitySat * 1000;
          amtOut = Math.min(cap, bw + this.prng.int(1, Math.max(1, Math.floor(outCh.capacitySat * 300))));
        }
        break;
      }
      case 'feeInsufficient':
        outCh = this.pickWhere((c) => this.usable(c));
        feeAdjust = this.prng.chance(0.5) ? 'close' : 'far';
        break;
      case 'amountBelowMin':
        outCh = this.pickWhere((c) => this.usable(c) && c.policy.minHtlcMsat > 1);
        if (outCh) amtOut = this.prng.int(1, outCh.policy.minHtlcMsat - 1);
        break;
      case 'htlcExceedsMax':
        outCh = this.pickWhere((c) => this.usable(c) && c.policy.maxHtlcMsat > 0);
        if (outCh) amtOut = outCh.policy.maxHtlcMsat + this.prng.int(1, Math.max(1, Math.floor(outCh.policy.maxHtlcMsat / 2)));
        break;
      case 'cltv':
        outCh = this.pickWhere((c) => this.usable(c) && c.policy.timeLockDelta > 1);
        cltvMode = 'short';
        break;
      case 'expiryTooSoon':
        outCh = this.pickWhere((c) => this.usable(c));
        cltvMode = 'soon';
        break;
      case 'linkNotEligible':
        outCh = this.pickWhere((c) => !c.active);
        break;
      case 'channelDisabled':
        outCh = this.pickWhere((c) => c.active && c.policy.disabled);
        break;
    }
    if (!outCh) {
      // the model has no channel for this kind: fall back to an ordinary successful forward
      outCh = this.pickOutgoing(undefined);
      outcome = 'settle';
      amtOut = this.normalAmount();
    }
    if (!outCh) return;

    const inChGuess = this.pickIncoming(amtOut + 10_000_000, outCh);
    if (!inChGuess) return;
    const inCh = inChGuess;
    const required = requiredFeeMsat(outCh.policy, inCh.policy, amtOut);
    let fee = required;
    if (feeAdjust === 'close') fee = required - Math.max(1, Math.floor(required * (0.01 + this.prng.float() * 0.15)));
    else if (feeAdjust === 'far') fee = Math.floor(required * this.prng.float() * 0.2);
    if (fee < 0) fee = 0;
    let amtIn = amtOut + fee;
    // the peer must be able to fund the incoming HTLC
    const inAvail = inCh.remoteMsat - inCh.remoteReserveSat * 1000;
    if (amtIn > inAvail) {
      if (inAvail <= 2000) return;
      const scale = inAvail / amtIn;
      amtOut = Math.max(1, Math.floor(amtOut * scale * 0.9));
      const req2 = requiredFeeMsat(outCh.policy, inCh.policy, amtOut);
      fee = feeAdjust === 'exact' ? req2 : Math.min(fee, Math.max(0, req2 - 1));
      amtIn = amtOut + fee;
    }

    const delta = outCh.policy.timeLockDelta;
    let outCltv = height + this.prng.int(40, 600);
    let inCltv = outCltv + delta + (this.prng.chance(0.3) ? this.prng.int(1, 40) : 0);
    if (cltvMode === 'short') inCltv = outCltv + delta - this.prng.int(1, Math.max(1, Math.floor(delta / 2)));
    else if (cltvMode === 'soon') {
      outCltv = height + this.prng.int(1, OUTGOING_CLTV_REJECT_DELTA);
      inCltv = outCltv + delta;
    }
    this.attemptForward(inCh, outCh, this.idFor(outCh), amtOut, amtIn, inCltv, outCltv, outcome);
  }

  /**
   * LND's checks for a forward, in LND's order (switch: link exists, eligible, policy; then the
   * outgoing link's canSendHtlc: min, max, expiry, bandwidth; then fee, then CLTV delta). Emits a
   * link_fail_event + final on failure, else forward_event and queues the resolution.
   */
  private attemptForward(
    inCh: SimChannel,
    outCh: SimChannel | undefined,
    outId: string,
    amtOut: number,
    amtIn: number,
    inCltv: number,
    outCltv: number,
    outcome: 'settle' | 'fail',
  ): void {
    const inId = this.idFor(inCh);
    const inHtlc = inCh.nextInHtlcId++;
    let wire: string | undefined;
    let detail = 'NO_DETAIL';
    let text = '';
    const height = this.model.blockHeight;
    if (!outCh) {
      wire = 'UNKNOWN_NEXT_PEER';
      text = 'UnknownNextPeer';
    } else if (!outCh.active) {
      wire = 'UNKNOWN_NEXT_PEER';
      detail = 'LINK_NOT_ELIGIBLE';
      text = 'link not eligible';
    } else if (outCh.policy.disabled) {
      wire = 'CHANNEL_DISABLED';
      text = `ChannelDisabled(flags=00000011, update=(*lnwire.ChannelUpdate1)(chan_id=${outCh.chanIdStr}))`;
    } else if (amtOut < outCh.policy.minHtlcMsat) {
      wire = 'AMOUNT_BELOW_MINIMUM';
      text = `AmountBelowMinimum(amt=${amtOut} mSAT, update=(*lnwire.ChannelUpdate1)(htlc_minimum_msat=${outCh.policy.minHtlcMsat}))`;
    } else if (outCh.policy.maxHtlcMsat > 0 && amtOut > outCh.policy.maxHtlcMsat) {
      wire = 'TEMPORARY_CHANNEL_FAILURE';
      detail = 'HTLC_EXCEEDS_MAX';
      text = 'htlc exceeds maximum policy amount';
    } else if (outCltv <= height + OUTGOING_CLTV_REJECT_DELTA) {
      wire = 'EXPIRY_TOO_SOON';
      text = `ExpiryTooSoon(update=(*lnwire.ChannelUpdate1)(chan_id=${outCh.chanIdStr}))`;
    } else if (amtOut > bandwidthMsat(outCh)) {
      wire = 'TEMPORARY_CHANNEL_FAILURE';
      detail = 'INSUFFICIENT_BALANCE';
      text = 'insufficient bandwidth to route htlc';
    } else if (amtIn < amtOut || amtIn - amtOut < requiredFeeMsat(outCh.policy, inCh.policy, amtOut)) {
      wire = 'FEE_INSUFFICIENT';
      text = `FeeInsufficient(htlc_amt==${amtIn} mSAT, update=(*lnwire.ChannelUpdate1)(base_fee=${outCh.policy.feeBaseMsat}, fee_rate=${outCh.policy.feeRatePpm}))`;
    } else if (inCltv < outCltv + outCh.policy.timeLockDelta) {
      wire = 'INCORRECT_CLTV_EXPIRY';
      text = `IncorrectCltvExpiry(expiry=${outCltv}, update=(*lnwire.ChannelUpdate1)(time_lock_delta=${outCh.policy.timeLockDelta}))`;
    }
    if (wire !== undefined) {
      this.emitLinkFail('FORWARD', inId, outId, String(inHtlc), {
        incoming_timelock: inCltv,
        outgoing_timelock: outCltv,
        incoming_amt_msat: String(amtIn),
        outgoing_amt_msat: String(amtOut),
      }, wire, detail, text);
      if (this.finalEvents) this.emitFinal(inId, inHtlc, false);
      return;
    }
    const oc = outCh!;
    const outHtlc = oc.nextOutHtlcId++;
    const f: InFlight = {
      inCh,
      outCh: oc,
      inIdStr: inId,
      outIdStr: outId,
      inHtlc,
      outHtlc,
      inHtlcStr: String(inHtlc),
      outHtlcStr: String(outHtlc),
      amtIn,
      amtOut,
      inCltv,
      outCltv,
      outcome,
      dueAt: this.scenarioIndex + this.prng.int(0, this.maxResolveDelay),
      preimage: this.prng.bytes(32),
      finalEvent: this.finalEvents,
    };
    this.addInFlight(f);
    this.out({
      incoming_channel_id: inId,
      outgoing_channel_id: outId,
      incoming_htlc_id: f.inHtlcStr,
      outgoing_htlc_id: f.outHtlcStr,
      timestamp_ns: this.nextTimestampNs(),
      event_type: 'FORWARD',
      forward_event: { info: { incoming_timelock: inCltv, outgoing_timelock: outCltv, incoming_amt_msat: String(amtIn), outgoing_amt_msat: String(amtOut) } },
      event: 'forward_event',
    });
    if (f.dueAt <= this.scenarioIndex) {
      // resolves within this scenario
      this.inFlight.pop();
      this.resolve(f, outcome);
    }
  }

  private addInFlight(f: InFlight): void {
    this.inFlight.push(f);
    const { inCh, outCh } = f;
    if (outCh) {
      outCh.localMsat -= f.amtOut;
      outCh.pendingOutMsat += f.amtOut;
      outCh.pendingHtlcCount++;
    }
    if (inCh) {
      inCh.remoteMsat -= f.amtIn;
      inCh.pendingInMsat += f.amtIn;
      inCh.pendingHtlcCount++;
    }
  }

  private resolve(f: InFlight, how: 'settle' | 'fail'): void {
    const { inCh, outCh } = f;
    if (outCh) {
      outCh.pendingOutMsat -= f.amtOut;
      outCh.pendingHtlcCount--;
      if (how === 'settle') {
        outCh.remoteMsat += f.amtOut;
        outCh.totalSentMsat += f.amtOut;
      } else outCh.localMsat += f.amtOut;
      outCh.numUpdates += 2;
    }
    if (inCh) {
      inCh.pendingInMsat -= f.amtIn;
      inCh.pendingHtlcCount--;
      if (how === 'settle') {
        inCh.localMsat += f.amtIn;
        inCh.totalReceivedMsat += f.amtIn;
      } else inCh.remoteMsat += f.amtIn;
      inCh.numUpdates += 2;
    }
    const ts = this.nextTimestampNs();
    if (how === 'settle') {
      this.out({
        incoming_channel_id: f.inIdStr,
        outgoing_channel_id: f.outIdStr,
        incoming_htlc_id: f.inHtlcStr,
        outgoing_htlc_id: f.outHtlcStr,
        timestamp_ns: ts,
        event_type: 'FORWARD',
        settle_event: { preimage: f.preimage },
        event: 'settle_event',
      });
      this.logForward(ts, f);
    } else {
      this.out({
        incoming_channel_id: f.inIdStr,
        outgoing_channel_id: f.outIdStr,
        incoming_htlc_id: f.inHtlcStr,
        outgoing_htlc_id: f.outHtlcStr,
        timestamp_ns: ts,
        event_type: 'FORWARD',
        forward_fail_event: {},
        event: 'forward_fail_event',
      });
    }
    if (f.finalEvent) this.emitFinal(f.inIdStr, f.inHtlc, how === 'settle');
  }

  private logForward(ts: string, f: InFlight): void {
    const tsMs = this.lastMs;
    const rec: ForwardRecord = {
      timestampNs: ts,
      tsMs,
      tsSubNs: this.subNs,
      chanIdIn: f.inIdStr,
      chanIdOut: f.outIdStr,
      amtInMsat: f.amtIn,
      amtOutMsat: f.amtOut,
      feeMsat: f.amtIn - f.amtOut,
      incomingHtlcId: f.inHtlc,
      outgoingHtlcId: f.outHtlc,
    };
    this.fwdLog.push(rec);
    if (this.fwdLog.length > this.fwdLogCap + (this.fwdLogCap >> 2)) this.fwdLog = this.fwdLog.slice(this.fwdLog.length - this.fwdLogCap);
  }

  private emitLinkFail(eventType: EnumValue, inId: string, outId: string, inHtlc: string, info: HtlcInfo | null, wire: EnumValue, detail: EnumValue, text: string): HtlcEvent {
    const ev: HtlcEvent = {
      incoming_channel_id: inId,
      outgoing_channel_id: outId,
      incoming_htlc_id: inHtlc,
      outgoing_htlc_id: '0',
      timestamp_ns: this.nextTimestampNs(),
      event_type: eventType,
      link_fail_event: { info, wire_failure: wire, failure_detail: detail, failure_string: text },
      event: 'link_fail_event',
    };
    this.out(ev);
    return ev;
  }

  private emitFinal(inId: string, inHtlc: number, settled: boolean): HtlcEvent {
    const ev: HtlcEvent = {
      incoming_channel_id: inId,
      outgoing_channel_id: '0',
      incoming_htlc_id: String(inHtlc),
      outgoing_htlc_id: '0',
      timestamp_ns: this.nextTimestampNs(),
      event_type: 'UNKNOWN',
      final_htlc_event: { settled, offchain: true },
      event: 'final_htlc_event',
    };
    this.out(ev);
    return ev;
  }

  private genRebalance(): void {
    // move liquidity from the fullest usable channel to the emptiest one
    let from: SimChannel | undefined;
    let to: SimChannel | undefined;
    for (const c of this.model.channels) {
      if (!c.active) continue;
      const ratio = c.localMsat / (c.capacitySat * 1000);
      if (!from || ratio > from.localMsat / (from.capacitySat * 1000)) from = c;
      if (!to || ratio < to.localMsat / (to.capacitySat * 1000)) to = c;
    }
    if (!from || !to || from === to) return;
    const room = Math.min(bandwidthMsat(from), to.remoteMsat - to.remoteReserveSat * 1000);
    if (room < 2_000_000) return;
    const amt = Math.floor(Math.min(room * 0.5, this.prng.logInt(50_000_000, 2_000_000_000)) / 1000) * 1000;
    const fee = Math.floor((amt * this.prng.int(50, 800)) / 1_000_000);
    this.doRebalance(from, to, amt, fee, this.prng.chance(0.1));
  }

  private doRebalance(from: SimChannel, to: SimChannel | undefined, amt: number, fee: number, fail: boolean): HtlcEvent[] {
    const events: HtlcEvent[] = [];
    const height = this.model.blockHeight;
    const outId = from.chanIdStr;
    const outHtlc = String(from.nextOutHtlcId++);
    const sendIds = { incoming_channel_id: '0', outgoing_channel_id: outId, incoming_htlc_id: '0', outgoing_htlc_id: outHtlc };
    const push = (ev: HtlcEvent) => {
      this.out(ev);
      events.push(ev);
    };
    push({
      ...sendIds,
      timestamp_ns: this.nextTimestampNs(),
      event_type: 'SEND',
      forward_event: { info: { incoming_timelock: 0, outgoing_timelock: height + 200, incoming_amt_msat: '0', outgoing_amt_msat: String(amt + fee) } },
      event: 'forward_event',
    });
    if (fail) {
      push({ ...sendIds, timestamp_ns: this.nextTimestampNs(), event_type: 'SEND', forward_fail_event: {}, event: 'forward_fail_event' });
      return events;
    }
    const preimage = this.prng.bytes(32);
    if (to) {
      const inId = to.chanIdStr;
      const inHtlc = to.nextInHtlcId++;
      push({
        incoming_channel_id: inId,
        outgoing_channel_id: '0',
        incoming_htlc_id: String(inHtlc),
        outgoing_htlc_id: '0',
        timestamp_ns: this.nextTimestampNs(),
        event_type: 'RECEIVE',
        settle_event: { preimage },
        event: 'settle_event',
      });
      if (this.finalEvents) events.push(this.emitFinal(inId, inHtlc, true));
      to.remoteMsat -= amt;
      to.localMsat += amt;
      to.totalReceivedMsat += amt;
      to.numUpdates += 2;
    }
    from.localMsat -= amt + fee;
    from.remoteMsat += amt + fee;
    from.totalSentMsat += amt + fee;
    from.numUpdates += 2;
    push({ ...sendIds, timestamp_ns: this.nextTimestampNs(), event_type: 'SEND', settle_event: { preimage }, event: 'settle_event' });
    return events;
  }

  // ---------------------------------------------------------------- scripted scenarios

  private scriptedForward(opts: ForwardOptions): { f: InFlight; events: HtlcEvent[] } {
    let outCh = opts.outgoingChanId !== undefined ? findChannel(this.model, refStr(opts.outgoingChanId)) : undefined;
    let inCh = opts.incomingChanId !== undefined ? findChannel(this.model, refStr(opts.incomingChanId)) : undefined;
    const amtOut = opts.amtMsat !== undefined ? toNum(opts.amtMsat, 'amtMsat') : this.normalAmount();
    if (opts.outgoingChanId === undefined) {
      outCh = this.pickWhere((c) => this.usable(c) && bandwidthMsat(c) >= amtOut, inCh) ?? this.pickOutgoing(inCh);
    }
    if (opts.incomingChanId === undefined) inCh = this.pickIncoming(amtOut * 2, outCh);
    if (!inCh && opts.incomingChanId === undefined) throw new Error('no incoming channel available');
    const fee = opts.feeMsat !== undefined ? toNum(opts.feeMsat, 'feeMsat') : outCh ? requiredFeeMsat(outCh.policy, inCh?.policy ?? null, amtOut) : 1000;
    const nameOf = (ref: ChanRef | undefined, ch: SimChannel | undefined): string => {
      if (opts.useAlias && ch && ch.aliasScidStrs.length > 0) return ch.aliasScidStrs[0]!;
      if (ref !== undefined) return refStr(ref);
      if (!ch) throw new Error('no channel available for a scripted forward');
      return ch.chanIdStr;
    };
    const resolvedIn = nameOf(opts.incomingChanId, inCh);
    const resolvedOut = nameOf(opts.outgoingChanId, outCh);
    const height = this.model.blockHeight;
    const outCltv = opts.outgoingTimelock ?? height + 144;
    const inCltv = opts.incomingTimelock ?? outCltv + (outCh?.policy.timeLockDelta ?? 80);
    const inHtlc = inCh ? inCh.nextInHtlcId++ : 0;
    const outHtlc = outCh ? outCh.nextOutHtlcId++ : 0;
    const f: InFlight = {
      inCh,
      outCh,
      inIdStr: resolvedIn,
      outIdStr: resolvedOut,
      inHtlc,
      outHtlc,
      inHtlcStr: String(inHtlc),
      outHtlcStr: String(outHtlc),
      amtIn: amtOut + fee,
      amtOut,
      inCltv,
      outCltv,
      outcome: 'settle',
      dueAt: Infinity,
      preimage: this.prng.bytes(32),
      finalEvent: opts.finalEvent ?? false,
    };
    this.addInFlight(f);
    const ev: HtlcEvent = {
      incoming_channel_id: f.inIdStr,
      outgoing_channel_id: f.outIdStr,
      incoming_htlc_id: f.inHtlcStr,
      outgoing_htlc_id: f.outHtlcStr,
      timestamp_ns: this.nextTimestampNs(),
      event_type: 'FORWARD',
      forward_event: { info: { incoming_timelock: inCltv, outgoing_timelock: outCltv, incoming_amt_msat: String(f.amtIn), outgoing_amt_msat: String(amtOut) } },
      event: 'forward_event',
    };
    this.out(ev);
    return { f, events: [ev] };
  }

  private resolveScripted(f: InFlight, how: 'settle' | 'fail'): HtlcEvent[] {
    const i = this.inFlight.indexOf(f);
    if (i < 0) throw new Error('HTLC already resolved');
    this.inFlight.splice(i, 1);
    const captured: HtlcEvent[] = [];
    this.capture = captured;
    try {
      this.resolve(f, how);
    } finally {
      this.capture = undefined;
    }
    return captured;
  }

  private result(f: InFlight, events: HtlcEvent[]): ForwardResult {
    return {
      incomingChannelId: f.inIdStr,
      outgoingChannelId: f.outIdStr,
      incomingHtlcId: f.inHtlcStr,
      outgoingHtlcId: f.outHtlcStr,
      incomingAmtMsat: String(f.amtIn),
      outgoingAmtMsat: String(f.amtOut),
      feeMsat: String(f.amtIn - f.amtOut),
      events,
    };
  }

  /** Starts a forward (forward_event now); settle() or fail() it later. No policy checks. */
  forward(opts: ForwardOptions = {}): ForwardHandle {
    const { f, events } = this.scriptedForward(opts);
    let state: 'in-flight' | 'settled' | 'failed' = 'in-flight';
    const base = this.result(f, events);
    return {
      ...base,
      get state() {
        return state;
      },
      settle: () => {
        const evs = this.resolveScripted(f, 'settle');
        state = 'settled';
        return evs;
      },
      fail: () => {
        const evs = this.resolveScripted(f, 'fail');
        state = 'failed';
        return evs;
      },
    };
  }

  /** forward_event then settle_event with the same ids; balances move; logged for ForwardingHistory. */
  forwardSettle(opts: ForwardOptions = {}): ForwardResult {
    const { f, events } = this.scriptedForward(opts);
    events.push(...this.resolveScripted(f, 'settle'));
    return this.result(f, events);
  }

  /** forward_event then forward_fail_event with the same ids (a failure further down the route). */
  forwardFailDownstream(opts: ForwardOptions = {}): ForwardResult {
    const { f, events } = this.scriptedForward(opts);
    events.push(...this.resolveScripted(f, 'fail'));
    return this.result(f, events);
  }

  /** A link_fail_event exactly as described (outgoing_htlc_id 0). */
  linkFail(opts: LinkFailOptions): HtlcEvent[] {
    const inCh = findChannel(this.model, refStr(opts.incomingChanId));
    const inId = refStr(opts.incomingChanId);
    const outId = refStr(opts.outgoingChanId);
    const inHtlc = opts.incomingHtlcId !== undefined ? toNum(opts.incomingHtlcId, 'incomingHtlcId') : inCh ? inCh.nextInHtlcId++ : 0;
    const height = this.model.blockHeight;
    const outCltv = opts.outgoingTimelock ?? (outId === '0' ? 0 : height + 144);
    const info: HtlcInfo | null = opts.omitInfo
      ? null
      : {
          incoming_timelock: opts.incomingTimelock ?? height + 224,
          outgoing_timelock: outCltv,
          incoming_amt_msat: String(BigInt(opts.incomingAmtMsat)),
          outgoing_amt_msat: String(BigInt(opts.outgoingAmtMsat)),
        };
    const events = [
      this.emitLinkFail(
        opts.eventType ?? 'FORWARD',
        inId,
        outId,
        String(inHtlc),
        info,
        opts.wireFailure,
        opts.failureDetail,
        opts.failureString ?? lndFailureString(opts.wireFailure, opts.failureDetail),
      ),
    ];
    if (opts.finalEvent) events.push(this.emitFinal(inId, inHtlc, false));
    return events;
  }

  /** A circular rebalance: SEND forward/settle on `from`, RECEIVE settle on `to` (noise for the monitor). */
  rebalance(opts: RebalanceOptions): HtlcEvent[] {
    const from = this.must(opts.fromChanId);
    const to = this.must(opts.toChanId);
    const amt = toNum(opts.amtMsat, 'amtMsat');
    const fee = opts.feeMsat !== undefined ? toNum(opts.feeMsat, 'feeMsat') : Math.floor(amt / 2000);
    return this.doRebalance(from, to, amt, fee, opts.fail ?? false);
  }

  /**
   * Emits any HtlcEvent-shaped object as is (unknown enum numbers, odd ids …). timestamp_ns is
   * filled in when missing. It is recorded in history and fed to the ground truth like any event.
   */
  emitRaw(ev: Partial<HtlcEvent> & Record<string, unknown>): HtlcEvent {
    const e = { ...ev } as HtlcEvent & Record<string, unknown>;
    if (e.timestamp_ns === undefined) e.timestamp_ns = this.nextTimestampNs();
    this.validateRaw?.(e);
    this.rawCount++;
    this.out(e, true);
    return e;
  }

  /** Name of an event_type value as a client sees it (helper for tests). */
  static eventTypeName(v: EnumValue): EnumValue {
    return enumName(eventTypeTable(), v);
  }
}
