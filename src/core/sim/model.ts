import * as crypto from 'node:crypto';
import { Prng } from './prng';

/**
 * The simulated node: our identity, our channels (balances, policies, aliases, HTLC counters) and
 * the peers. Everything here is deterministic for a seed. Amounts are JS numbers in msat (every
 * value stays far below 2^53); channel ids are bigints internally and decimal strings on the wire.
 */

/** LND hands out alias SCIDs starting at block height 16,000,000 (aliasmgr.StartingAlias). */
export const ALIAS_SCID_START_BLOCK = 16_000_000;

/** A short channel id from its parts: block << 40 | tx << 16 | output. */
export function makeScid(block: number, txIndex: number, output: number): bigint {
  return (BigInt(block) << 40n) | (BigInt(txIndex) << 16n) | BigInt(output);
}

/** The parts of a short channel id. */
export function parseScid(scid: bigint | string): { block: number; txIndex: number; output: number } {
  const v = BigInt(scid);
  return { block: Number(v >> 40n), txIndex: Number((v >> 16n) & 0xffffffn), output: Number(v & 0xffffn) };
}

/** One direction of a channel's forwarding policy (ours or the peer's). */
export interface PolicyModel {
  feeBaseMsat: number;
  feeRatePpm: number;
  minHtlcMsat: number;
  /** 0 = no maximum. */
  maxHtlcMsat: number;
  timeLockDelta: number;
  /** Inbound fees (LND 0.18+): usually 0 or negative (a discount). */
  inboundFeeBaseMsat: number;
  inboundFeeRatePpm: number;
  disabled: boolean;
  /** Unix seconds. */
  lastUpdate: number;
}

/** The simulator's mutable channel record. Use {@link ChannelView} outside the simulator. */
export interface SimChannel {
  index: number;
  chanId: bigint;
  chanIdStr: string;
  channelPoint: string;
  peerPubkey: string;
  /** The peer's node alias ('' when the peer has no node announcement). */
  peerAlias: string;
  /** Whether the peer is in the graph (GetNodeInfo answers). */
  peerAnnounced: boolean;
  peerColor: string;
  capacitySat: number;
  /** Our settled balance: excludes our outgoing pending HTLCs (as LND's local_balance). */
  localMsat: number;
  /** Their settled balance: excludes their incoming (to us) pending HTLCs. */
  remoteMsat: number;
  pendingOutMsat: number;
  pendingInMsat: number;
  pendingHtlcCount: number;
  commitFeeSat: number;
  initiator: boolean;
  /** Reserve we must keep: 1% of capacity. */
  reserveSat: number;
  remoteReserveSat: number;
  active: boolean;
  private: boolean;
  policy: PolicyModel;
  peerPolicy: PolicyModel | null;
  zeroConf: boolean;
  aliasScids: bigint[];
  aliasScidStrs: string[];
  peerScidAlias: bigint | null;
  zeroConfConfirmedScid: bigint | null;
  /** Probability that an event names this channel by its first alias SCID instead of chan_id. */
  aliasInEventsProbability: number;
  /** Next id for an HTLC we offer on this channel (outgoing_htlc_id). */
  nextOutHtlcId: number;
  /** Next id for an HTLC the peer offers us on this channel (incoming_htlc_id). */
  nextInHtlcId: number;
  totalSentMsat: number;
  totalReceivedMsat: number;
  numUpdates: number;
  openedBlock: number;
  /** Relative weight when the traffic generator picks this channel. */
  trafficWeight: number;
  csvDelay: number;
  memo: string;
}

/** Read-only snapshot of a channel, as exposed by `sim.channels`. */
export interface ChannelView {
  readonly chanId: bigint;
  readonly chanIdStr: string;
  readonly channelPoint: string;
  readonly peerPubkey: string;
  readonly peerAlias: string;
  readonly peerAnnounced: boolean;
  readonly capacitySat: number;
  readonly localBalanceMsat: number;
  readonly remoteBalanceMsat: number;
  readonly pendingOutMsat: number;
  readonly pendingInMsat: number;
  readonly pendingHtlcCount: number;
  readonly commitFeeSat: number;
  readonly reserveSat: number;
  /** What we can still send: local − reserve (pending outgoing already excluded from local). */
  readonly bandwidthMsat: number;
  readonly initiator: boolean;
  readonly active: boolean;
  readonly private: boolean;
  readonly zeroConf: boolean;
  readonly aliasScids: readonly bigint[];
  readonly peerScidAlias: bigint | null;
  readonly zeroConfConfirmedScid: bigint | null;
  readonly policy: Readonly<PolicyModel>;
  readonly peerPolicy: Readonly<PolicyModel> | null;
  readonly nextOutgoingHtlcId: number;
  readonly nextIncomingHtlcId: number;
  readonly totalSentMsat: number;
  readonly totalReceivedMsat: number;
  /** Traits given by the model builder (e.g. 'inactive', 'zero-conf', 'hostile-alias'). */
  readonly traits: readonly string[];
}

export interface NodeModel {
  identityPubkey: string;
  alias: string;
  color: string;
  blockHeight: number;
  blockHash: string;
  commitHash: string;
  network: string;
  /** Unix seconds the model was built at (the reference for made-up last_update times). */
  builtAtSec: number;
  channels: SimChannel[];
  /** chan_id, alias SCIDs, peer SCID alias and confirmed SCID (decimal strings) -> channel. */
  byScid: Map<string, SimChannel>;
  /** Peers by pubkey. */
  peers: Map<string, SimChannel[]>;
  /** SCIDs that no channel has (for UNKNOWN_NEXT_PEER). */
  unknownScids: string[];
  traits: Map<SimChannel, string[]>;
}

export interface ModelOptions {
  seed: number | string;
  channels: number;
  alias?: string;
  network?: string;
  /** Unix seconds used for last_update fields; defaults to now. */
  nowSec?: number;
}

/** Hostile or tricky peer aliases, always given to the first channels (for escaping tests). */
export const HOSTILE_ALIASES: readonly string[] = [
  '<img src=x onerror=alert(1)>',
  '**bold** [x](http://e)',
  '=HYPERLINK("http://e","x")',
];

const NORMAL_ALIASES: readonly string[] = [
  'night-owl-routing',
  '', // zero-conf peer: unannounced mobile wallet
  'fee-fiddler',
  'channel-surfer',
  'Zap Depot \u26a1',
  'bitcoin-bakery',
  'relay|pipe,comma"quote',
  '\u00dcn\u00efc\u00f6d\u00e9 \u30ce\u30fc\u30c9',
  'moon-mule',
  'plebnet-101',
  'tiny-node-42',
  'routing-rabbit',
];

const CAPACITIES_SAT: readonly number[] = [2_000_000, 3_000_000, 5_000_000, 8_000_000, 10_000_000, 16_777_215, 25_000_000];

/** A valid compressed secp256k1 public key drawn from `prng`. */
export function pubkeyFrom(prng: Prng): string {
  for (;;) {
    const priv = prng.bytes(32);
    try {
      const ecdh = crypto.createECDH('secp256k1');
      ecdh.setPrivateKey(priv);
      return ecdh.getPublicKey('hex', 'compressed');
    } catch {
      // out-of-range scalar (astronomically unlikely): draw again
    }
  }
}

export function randomPolicy(prng: Prng, capacitySat: number, nowSec: number): PolicyModel {
  return {
    feeBaseMsat: prng.pick([0, 0, 0, 1000, 1000, 500, 1]),
    feeRatePpm: prng.logInt(1, 2500),
    minHtlcMsat: prng.pick([1000, 1000, 1, 10_000]),
    maxHtlcMsat: Math.floor(capacitySat * 0.99) * 1000,
    timeLockDelta: prng.pick([40, 80, 80, 144]),
    inboundFeeBaseMsat: 0,
    inboundFeeRatePpm: 0,
    disabled: false,
    lastUpdate: nowSec - prng.int(60, 30 * 86400),
  };
}

/**
 * Builds the node for a seed. With the default 12 channels: channel 0–2 carry the hostile aliases,
 * 3 is inactive (peer offline), 4 is a private zero-conf channel with alias SCIDs whose peer is not
 * in the graph, 5 has our policy disabled, 6 has no peer policy, 7 has an inbound-fee discount,
 * 8 a low max_htlc, 9 is nearly drained, 10 nearly full. Fewer channels keep the first traits.
 */
export function buildNodeModel(opts: ModelOptions): NodeModel {
  const n = opts.channels;
  if (!Number.isInteger(n) || n < 2 || n > 2000) throw new Error(`channels must be an integer in [2, 2000], got ${n}`);
  const prng = new Prng(`model:${String(opts.seed)}`);
  const nowSec = opts.nowSec ?? Math.floor(Date.now() / 1000);

  const identityPubkey = pubkeyFrom(prng);

  // Distinct opening blocks/tx positions, oldest channel first.
  const scidParts: { block: number; tx: number; out: number }[] = [];
  const seen = new Set<string>();
  while (scidParts.length < n) {
    const p = { block: prng.int(750_000, 870_000), tx: prng.int(1, 3000), out: prng.int(0, 2) };
    const k = `${p.block}:${p.tx}`;
    if (seen.has(k)) continue;
    seen.add(k);
    scidParts.push(p);
  }
  scidParts.sort((a, b) => a.block - b.block || a.tx - b.tx);
  const maxBlock = scidParts[scidParts.length - 1]!.block;
  const blockHeight = Math.max(maxBlock, 870_000) + prng.int(100, 2000);

  const channels: SimChannel[] = [];
  const traits = new Map<SimChannel, string[]>();
  const usedPubkeys = new Set<string>([identityPubkey]);
  let aliasCounter = prng.int(1, 5000);

  for (let i = 0; i < n; i++) {
    const parts = scidParts[i]!;
    const chanId = makeScid(parts.block, parts.tx, parts.out);
    let peerPubkey = pubkeyFrom(prng);
    while (usedPubkeys.has(peerPubkey)) peerPubkey = pubkeyFrom(prng);
    usedPubkeys.add(peerPubkey);
    const capacitySat = prng.pick(CAPACITIES_SAT);
    const initiator = prng.chance(0.6);
    const commitFeeSat = prng.pick([2_810, 3_030, 4_840]);
    let localFrac = 0.1 + prng.float() * 0.8;
    const t: string[] = [];
    const policy = randomPolicy(prng, capacitySat, nowSec);
    let peerPolicy: PolicyModel | null = randomPolicy(prng, capacitySat, nowSec);
    let peerAlias = i < HOSTILE_ALIASES.length ? HOSTILE_ALIASES[i]! : NORMAL_ALIASES[(i - HOSTILE_ALIASES.length) % NORMAL_ALIASES.length]!;
    if (i >= HOSTILE_ALIASES.length + NORMAL_ALIASES.length) peerAlias = `${peerAlias}-${i}`;
    if (i < HOSTILE_ALIASES.length) t.push('hostile-alias');
    let active = true;
    let isPrivate = false;
    let zeroConf = false;
    let peerAnnounced = true;
    let aliasScids: bigint[] = [];
    let peerScidAlias: bigint | null = null;
    let zeroConfConfirmedScid: bigint | null = null;
    let aliasProb = 0;
    let trafficWeight = 1;

    if (i === 0) policy.minHtlcMsat = 1000;
    switch (i) {
      case 3:
        active = false;
        policy.disabled = true; // LND disables our policy once the peer stays offline
        if (peerPolicy) peerPolicy.disabled = true;
        trafficWeight = 0.3;
        t.push('inactive');
        break;
      case 4:
        isPrivate = true;
        zeroConf = true;
        peerAnnounced = false;
        aliasScids = [makeScid(ALIAS_SCID_START_BLOCK, 0, aliasCounter++)];
        peerScidAlias = makeScid(ALIAS_SCID_START_BLOCK, prng.int(0, 20), prng.int(0, 65535));
        zeroConfConfirmedScid = chanId;
        aliasProb = 0.5;
        t.push('zero-conf', 'private', 'alias-scid', 'unannounced-peer');
        break;
      case 5:
        policy.disabled = true;
        trafficWeight = 0.3;
        t.push('disabled');
        break;
      case 6:
        peerPolicy = null;
        t.push('no-peer-policy');
        break;
      case 7:
        policy.inboundFeeBaseMsat = -prng.int(0, 500);
        policy.inboundFeeRatePpm = -Math.min(policy.feeRatePpm, prng.int(10, 100));
        t.push('inbound-discount');
        break;
      case 8:
        policy.maxHtlcMsat = Math.floor(capacitySat * 0.02) * 1000;
        t.push('low-max-htlc');
        break;
      case 9:
        localFrac = 0.02;
        t.push('drained');
        break;
      case 10:
        localFrac = 0.97;
        t.push('full');
        break;
      default:
        break;
    }

    const spendableMsat = (capacitySat - commitFeeSat) * 1000;
    const localMsat = Math.floor(spendableMsat * localFrac / 1000) * 1000;
    const remoteMsat = spendableMsat - localMsat;
    const txid = prng.hex(32);
    const ch: SimChannel = {
      index: i,
      chanId,
      chanIdStr: chanId.toString(),
      channelPoint: `${txid}:${parts.out}`,
      peerPubkey,
      peerAlias,
      peerAnnounced,
      peerColor: `#${prng.hex(3)}`,
      capacitySat,
      localMsat,
      remoteMsat,
      pendingOutMsat: 0,
      pendingInMsat: 0,
      pendingHtlcCount: 0,
      commitFeeSat,
      initiator,
      reserveSat: Math.floor(capacitySat / 100),
      remoteReserveSat: Math.floor(capacitySat / 100),
      active,
      private: isPrivate,
      policy,
      peerPolicy,
      zeroConf,
      aliasScids,
      aliasScidStrs: aliasScids.map((a) => a.toString()),
      peerScidAlias,
      zeroConfConfirmedScid,
      aliasInEventsProbability: aliasProb,
      nextOutHtlcId: prng.int(0, 5000),
      nextInHtlcId: prng.int(0, 5000),
      totalSentMsat: 0,
      totalReceivedMsat: 0,
      numUpdates: prng.int(10, 100_000),
      openedBlock: parts.block,
      trafficWeight,
      csvDelay: prng.pick([144, 144, 432, 2016]),
      memo: '',
    };
    channels.push(ch);
    traits.set(ch, t);
  }

  const byScid = new Map<string, SimChannel>();
  const peers = new Map<string, SimChannel[]>();
  for (const ch of channels) {
    byScid.set(ch.chanIdStr, ch);
    for (const a of ch.aliasScidStrs) byScid.set(a, ch);
    if (ch.peerScidAlias !== null) byScid.set(ch.peerScidAlias.toString(), ch);
    if (ch.zeroConfConfirmedScid !== null) byScid.set(ch.zeroConfConfirmedScid.toString(), ch);
    const list = peers.get(ch.peerPubkey) ?? [];
    list.push(ch);
    peers.set(ch.peerPubkey, list);
  }

  const unknownScids: string[] = [];
  while (unknownScids.length < 3) {
    const s = makeScid(prng.int(750_000, 870_000), prng.int(1, 3000), prng.int(0, 3)).toString();
    if (!byScid.has(s) && !unknownScids.includes(s)) unknownScids.push(s);
  }

  return {
    identityPubkey,
    alias: opts.alias ?? 'sim-routing-node',
    color: '#3399ff',
    blockHeight,
    blockHash: `00000000000000000000${prng.hex(22)}`,
    commitHash: prng.hex(20),
    network: opts.network ?? 'mainnet',
    builtAtSec: nowSec,
    channels,
    byScid,
    peers,
    unknownScids,
    traits,
  };
}

/** Snapshot of a channel for outside readers. */
export function channelView(model: NodeModel, ch: SimChannel): ChannelView {
  return Object.freeze({
    chanId: ch.chanId,
    chanIdStr: ch.chanIdStr,
    channelPoint: ch.channelPoint,
    peerPubkey: ch.peerPubkey,
    peerAlias: ch.peerAlias,
    peerAnnounced: ch.peerAnnounced,
    capacitySat: ch.capacitySat,
    localBalanceMsat: ch.localMsat,
    remoteBalanceMsat: ch.remoteMsat,
    pendingOutMsat: ch.pendingOutMsat,
    pendingInMsat: ch.pendingInMsat,
    pendingHtlcCount: ch.pendingHtlcCount,
    commitFeeSat: ch.commitFeeSat,
    reserveSat: ch.reserveSat,
    bandwidthMsat: bandwidthMsat(ch),
    initiator: ch.initiator,
    active: ch.active,
    private: ch.private,
    zeroConf: ch.zeroConf,
    aliasScids: Object.freeze([...ch.aliasScids]),
    peerScidAlias: ch.peerScidAlias,
    zeroConfConfirmedScid: ch.zeroConfConfirmedScid,
    policy: Object.freeze({ ...ch.policy }),
    peerPolicy: ch.peerPolicy ? Object.freeze({ ...ch.peerPolicy }) : null,
    nextOutgoingHtlcId: ch.nextOutHtlcId,
    nextIncomingHtlcId: ch.nextInHtlcId,
    totalSentMsat: ch.totalSentMsat,
    totalReceivedMsat: ch.totalReceivedMsat,
    traits: Object.freeze([...(model.traits.get(ch) ?? [])]),
  });
}

/** What an outgoing HTLC may use: local − reserve (our pending outgoing HTLCs are already out of local). */
export function bandwidthMsat(ch: SimChannel): number {
  return Math.max(0, ch.localMsat - ch.reserveSat * 1000);
}

/** Our outbound fee for forwarding `amtMsat` over a channel with this policy (LND: base + amt*ppm/1e6). */
export function outboundFeeMsat(policy: PolicyModel, amtMsat: number): number {
  return policy.feeBaseMsat + Math.floor((amtMsat * policy.feeRatePpm) / 1_000_000);
}

/**
 * The fee LND requires for forwarding `amtOutMsat` from `incoming` to `outgoing`: the outgoing
 * channel's outbound fee plus the incoming channel's inbound fee (computed on amount + outbound
 * fee, truncated toward zero like Go), never below zero.
 */
export function requiredFeeMsat(outgoing: PolicyModel, incoming: PolicyModel | null, amtOutMsat: number): number {
  const outFee = outboundFeeMsat(outgoing, amtOutMsat);
  let inFee = 0;
  if (incoming && (incoming.inboundFeeBaseMsat !== 0 || incoming.inboundFeeRatePpm !== 0)) {
    inFee = incoming.inboundFeeBaseMsat + Math.trunc(((amtOutMsat + outFee) * incoming.inboundFeeRatePpm) / 1_000_000);
  }
  return Math.max(0, outFee + inFee);
}

/** Resolves any SCID naming one of our channels (chan_id, alias, peer alias, confirmed SCID). */
export function findChannel(model: NodeModel, scid: bigint | string | number): SimChannel | undefined {
  return model.byScid.get(typeof scid === 'string' ? scid : BigInt(scid).toString());
}
