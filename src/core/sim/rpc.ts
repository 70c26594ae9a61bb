import type { SimEngine, ForwardRecord } from './engine';
import { goHexDecodeError } from './certs';
import { findChannel, makeScid, parseScid, pubkeyFrom, randomPolicy, type NodeModel, type PolicyModel, type SimChannel } from './model';
import { Prng } from './prng';

/**
 * Builders for the lnrpc.Lightning responses, from the engine's model. Objects use the proto field
 * names (keepCase) with uint64/int64 values as decimal strings; the server serializes them with
 * the loaded protos.
 */

/** An RPC failure with a gRPC status code and LND's text. */
export class SimRpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

/** gRPC status codes used here (numbers, so this module does not need grpc-js). */
const UNKNOWN = 2;
const NOT_FOUND = 5;

type Obj = Record<string, unknown>;

function sat(msat: number): string {
  return String(Math.floor(msat / 1000));
}

function policyObj(p: PolicyModel): Obj {
  return {
    time_lock_delta: p.timeLockDelta,
    min_htlc: String(p.minHtlcMsat),
    fee_base_msat: String(p.feeBaseMsat),
    fee_rate_milli_msat: String(p.feeRatePpm),
    disabled: p.disabled,
    max_htlc_msat: String(p.maxHtlcMsat),
    last_update: p.lastUpdate,
    custom_records: {},
    inbound_fee_base_msat: p.inboundFeeBaseMsat,
    inbound_fee_rate_milli_msat: p.inboundFeeRatePpm,
  };
}

/**
 * The LND release GetInfo answers as: v0.21.0-beta, the first whose GetInfoResponse has
 * wallet_synced (field 23), which we send; every field the simulator sends exists in that release
 * (protos/ is a trimmed v0.21 copy). commitHash is the release tag's commit, as LND's release
 * builds report it.
 */
export const SIM_LND_RELEASE = Object.freeze({
  version: '0.21.0-beta commit=v0.21.0-beta',
  commitHash: '0c4a70340d21d5cd87bb77b940acb02c90f4e8e7',
});

export function getInfo(engine: SimEngine, version: string, commitHash: string): Obj {
  const m = engine.model;
  const active = m.channels.filter((c) => c.active);
  const peersOnline = new Set(active.map((c) => c.peerPubkey));
  return {
    version,
    commit_hash: commitHash,
    identity_pubkey: m.identityPubkey,
    alias: m.alias,
    color: m.color,
    num_pending_channels: 0,
    num_active_channels: active.length,
    num_inactive_channels: m.channels.length - active.length,
    num_peers: peersOnline.size,
    block_height: m.blockHeight,
    block_hash: m.blockHash,
    best_header_timestamp: String(Math.floor(Date.now() / 1000) - 120),
    synced_to_chain: true,
    synced_to_graph: true,
    chains: [{ chain: 'bitcoin', network: m.network }],
    uris: [`${m.identityPubkey}@127.0.0.1:9735`],
    wallet_synced: true,
  };
}

/** LND: LookupAlias fails for a peer without node announcement; the text is put in peer_alias. */
function peerAliasForList(ch: SimChannel): string {
  return ch.peerAnnounced ? ch.peerAlias : 'unable to lookup peer alias: alias for node not found';
}

export interface ListChannelsReq {
  active_only?: boolean;
  inactive_only?: boolean;
  public_only?: boolean;
  private_only?: boolean;
  peer?: Buffer | Uint8Array;
  peer_alias_lookup?: boolean;
}

export function listChannels(engine: SimEngine, req: ListChannelsReq): Obj {
  if (req.active_only && req.inactive_only) throw new SimRpcError(UNKNOWN, 'either `active_only` or `inactive_only` can be set, but not both');
  if (req.public_only && req.private_only) throw new SimRpcError(UNKNOWN, 'either `public_only` or `private_only` can be set, but not both');
  const peerHex = req.peer && req.peer.length > 0 ? Buffer.from(req.peer).toString('hex') : undefined;
  const m = engine.model;
  const pending = engine.pendingHtlcs();
  const channels: Obj[] = [];
  for (const ch of m.channels) {
    if (req.active_only && !ch.active) continue;
    if (req.inactive_only && ch.active) continue;
    if (req.public_only && ch.private) continue;
    if (req.private_only && !ch.private) continue;
    if (peerHex !== undefined && peerHex !== ch.peerPubkey) continue;
    const lifetime = Math.max(0, m.blockHeight - ch.openedBlock) * 600;
    const constraints = (reserveSat: number, minHtlc: number): Obj => ({
      csv_delay: ch.csvDelay,
      chan_reserve_sat: String(reserveSat),
      dust_limit_sat: '354',
      max_pending_amt_msat: String(Math.floor(ch.capacitySat * 0.99) * 1000),
      min_htlc_msat: String(minHtlc),
      max_accepted_htlcs: 483,
    });
    channels.push({
      active: ch.active,
      remote_pubkey: ch.peerPubkey,
      channel_point: ch.channelPoint,
      chan_id: ch.chanIdStr,
      capacity: String(ch.capacitySat),
      local_balance: sat(ch.localMsat),
      remote_balance: sat(ch.remoteMsat),
      commit_fee: String(ch.commitFeeSat),
      unsettled_balance: sat(ch.pendingOutMsat + ch.pendingInMsat),
      total_satoshis_sent: sat(ch.totalSentMsat),
      total_satoshis_received: sat(ch.totalReceivedMsat),
      num_updates: String(ch.numUpdates),
      pending_htlcs: pending
        .filter((p) => p.chanIdStr === ch.chanIdStr)
        .map((p) => ({
          incoming: p.incoming,
          amount: sat(p.amountMsat),
          hash_lock: p.hashLock,
          expiration_height: p.expirationHeight,
          htlc_index: String(p.htlcIndex),
          forwarding_channel: p.forwardingChannel,
          forwarding_htlc_index: String(p.forwardingHtlcIndex),
          locked_in: true,
        })),
      csv_delay: ch.csvDelay,
      private: ch.private,
      initiator: ch.initiator,
      chan_status_flags: 'ChanStatusDefault',
      local_chan_reserve_sat: String(ch.reserveSat),
      remote_chan_reserve_sat: String(ch.remoteReserveSat),
      lifetime: String(lifetime),
      uptime: String(ch.active ? lifetime : Math.floor(lifetime * 0.8)),
      close_address: '',
      push_amount_sat: '0',
      thaw_height: 0,
      local_constraints: constraints(ch.reserveSat, ch.policy.minHtlcMsat),
      remote_constraints: constraints(ch.remoteReserveSat, ch.peerPolicy?.minHtlcMsat ?? 1),
      alias_scids: ch.aliasScidStrs.slice(),
      zero_conf: ch.zeroConf,
      zero_conf_confirmed_scid: ch.zeroConfConfirmedScid !== null ? ch.zeroConfConfirmedScid.toString() : '0',
      peer_alias: req.peer_alias_lookup ? peerAliasForList(ch) : '',
      peer_scid_alias: ch.peerScidAlias !== null ? ch.peerScidAlias.toString() : '0',
      memo: ch.memo,
    });
  }
  return { channels };
}

function edgeObj(m: NodeModel, ch: SimChannel): Obj {
  const weAreNode1 = m.identityPubkey < ch.peerPubkey; // equal-length lowercase hex: byte order
  const ours = policyObj(ch.policy);
  const theirs = ch.peerPolicy ? policyObj(ch.peerPolicy) : null;
  return {
    channel_id: ch.chanIdStr,
    chan_point: ch.channelPoint,
    last_update: Math.max(ch.policy.lastUpdate, ch.peerPolicy?.lastUpdate ?? 0),
    node1_pub: weAreNode1 ? m.identityPubkey : ch.peerPubkey,
    node2_pub: weAreNode1 ? ch.peerPubkey : m.identityPubkey,
    capacity: String(ch.capacitySat),
    node1_policy: weAreNode1 ? ours : theirs,
    node2_policy: weAreNode1 ? theirs : ours,
    custom_records: {},
  };
}

export function getChanInfo(engine: SimEngine, req: { chan_id?: string; chan_point?: string }): Obj {
  const m = engine.model;
  let ch: SimChannel | undefined;
  if (req.chan_id && req.chan_id !== '0') ch = findChannel(m, req.chan_id);
  else if (req.chan_point) ch = m.channels.find((c) => c.channelPoint === req.chan_point);
  if (ch) return edgeObj(m, ch);
  const remote = req.chan_id && req.chan_id !== '0' ? findRemoteEdge(m, req.chan_id) : undefined;
  if (remote) return remoteEdgeObj(remote);
  throw new SimRpcError(NOT_FOUND, 'edge not found');
}

/**
 * A channel between one of our peers and some other node, as our graph knows it. Made up, but
 * deterministic from the peer's key, so GetNodeInfo lists the same ones every time and
 * GetChanInfo finds them.
 */
interface RemoteEdge {
  chanIdStr: string;
  chanPoint: string;
  peerPubkey: string;
  farPubkey: string;
  capacitySat: number;
  peerPolicy: PolicyModel;
  farPolicy: PolicyModel;
}

/** Our channels and the model's unknown SCIDs use tx indexes up to 3000; remote edges use 4000 + the peer's channel index. */
const REMOTE_TX_BASE = 4000;

/** How many channels an announced peer has with nodes other than us. */
function remoteEdgeCount(peerKey: string): number {
  return new Prng(`peer:${peerKey}`).int(3, 400);
}

/** Far ends of remote edges: a fixed pool, so big nodes share neighbours as in the real graph. */
const FAR_NODES = 300;
const farNodeKeys = new Map<number, string>();
function farNode(i: number): string {
  let k = farNodeKeys.get(i);
  if (k === undefined) farNodeKeys.set(i, (k = pubkeyFrom(new Prng(`far-node:${i}`))));
  return k;
}

/** The first draws of a remote edge: its block and capacity (all GetNodeInfo needs to count). */
function remoteEdgeHead(m: NodeModel, first: SimChannel, j: number) {
  const r = new Prng(`peer-edge:${first.peerPubkey}:${j}`);
  const block = r.int(600_000, m.blockHeight - 6);
  const capacitySat = r.int(1_000_000, 8_000_000);
  return { r, block, capacitySat };
}

function remoteEdge(m: NodeModel, first: SimChannel, j: number): RemoteEdge {
  const { r, block, capacitySat } = remoteEdgeHead(m, first, j);
  const chanPoint = `${r.hex(32)}:${r.int(0, 3)}`;
  let far = farNode(r.int(0, FAR_NODES - 1));
  if (far === first.peerPubkey || far === m.identityPubkey) far = farNode(FAR_NODES); // astronomically unlikely
  return {
    chanIdStr: makeScid(block, REMOTE_TX_BASE + first.index, j).toString(),
    chanPoint,
    peerPubkey: first.peerPubkey,
    farPubkey: far,
    capacitySat,
    peerPolicy: randomPolicy(r, capacitySat, m.builtAtSec),
    farPolicy: randomPolicy(r, capacitySat, m.builtAtSec),
  };
}

/** The announced peer's first channel with us (it numbers the peer's remote edges), if any. */
function announcedFirst(m: NodeModel, peerKey: string): SimChannel | undefined {
  const first = m.peers.get(peerKey)?.[0];
  return first && first.peerAnnounced ? first : undefined;
}

/** The peer's remote edges, or none when the peer is not in the graph. */
function remoteEdges(m: NodeModel, peerKey: string): RemoteEdge[] {
  const first = announcedFirst(m, peerKey);
  if (!first) return [];
  const n = remoteEdgeCount(peerKey);
  const out: RemoteEdge[] = [];
  for (let j = 0; j < n; j++) out.push(remoteEdge(m, first, j));
  return out;
}

/** How many remote edges the peer has and their total capacity, without building them. */
function remoteEdgeTotals(m: NodeModel, peerKey: string): { count: number; capacitySat: number } {
  const first = announcedFirst(m, peerKey);
  if (!first) return { count: 0, capacitySat: 0 };
  const count = remoteEdgeCount(peerKey);
  let capacitySat = 0;
  for (let j = 0; j < count; j++) capacitySat += remoteEdgeHead(m, first, j).capacitySat;
  return { count, capacitySat };
}

function findRemoteEdge(m: NodeModel, chanId: string): RemoteEdge | undefined {
  let parts: ReturnType<typeof parseScid>;
  try {
    parts = parseScid(chanId);
  } catch {
    return undefined;
  }
  const first = m.channels[parts.txIndex - REMOTE_TX_BASE];
  if (!first || !first.peerAnnounced || m.peers.get(first.peerPubkey)?.[0] !== first) return undefined;
  if (parts.output >= remoteEdgeCount(first.peerPubkey)) return undefined;
  const e = remoteEdge(m, first, parts.output);
  return e.chanIdStr === chanId ? e : undefined;
}

function remoteEdgeObj(e: RemoteEdge): Obj {
  const peerIs1 = e.peerPubkey < e.farPubkey;
  const p = policyObj(e.peerPolicy);
  const f = policyObj(e.farPolicy);
  return {
    channel_id: e.chanIdStr,
    chan_point: e.chanPoint,
    last_update: Math.max(e.peerPolicy.lastUpdate, e.farPolicy.lastUpdate),
    node1_pub: peerIs1 ? e.peerPubkey : e.farPubkey,
    node2_pub: peerIs1 ? e.farPubkey : e.peerPubkey,
    capacity: String(e.capacitySat),
    node1_policy: peerIs1 ? p : f,
    node2_policy: peerIs1 ? f : p,
    custom_records: {},
  };
}

/**
 * LND's GetNodeInfo: num_channels and total_capacity count every channel of the node in our graph
 * (our own private channels included, which LND keeps in its graph unannounced); channels, with
 * include_channels, lists them all but the unannounced ones. So num_channels is the number listed
 * plus our private channels with that node.
 */
export function getNodeInfo(engine: SimEngine, req: { pub_key?: string; include_channels?: boolean }): Obj {
  const m = engine.model;
  const pk = req.pub_key ?? '';
  const hexErr = goHexDecodeError(pk);
  if (hexErr) throw new SimRpcError(UNKNOWN, hexErr);
  if (pk.length !== 66) throw new SimRpcError(UNKNOWN, `malformed public key: invalid length: ${pk.length / 2}`);
  const key = pk.toLowerCase();
  const byId = (a: { id: bigint }, b: { id: bigint }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (key === m.identityPubkey) {
    const listed = m.channels.filter((c) => !c.private).map((c) => ({ id: c.chanId, obj: edgeObj(m, c) }));
    return {
      node: { last_update: Math.floor(Date.now() / 1000) - 3600, pub_key: key, alias: m.alias, addresses: [{ network: 'tcp', addr: '127.0.0.1:9735' }], color: m.color, features: {}, custom_records: {} },
      num_channels: m.channels.length,
      total_capacity: String(m.channels.reduce((s, c) => s + c.capacitySat, 0)),
      channels: req.include_channels ? listed.sort(byId).map((e) => e.obj) : [],
    };
  }
  const chans = m.peers.get(key);
  const first = chans?.[0];
  if (!chans || !first || !first.peerAnnounced) throw new SimRpcError(NOT_FOUND, 'unable to find node');
  const remote = remoteEdgeTotals(m, key);
  const total = chans.reduce((s, c) => s + c.capacitySat, 0) + remote.capacitySat;
  const listed = req.include_channels
    ? [
        ...chans.filter((c) => !c.private).map((c) => ({ id: c.chanId, obj: edgeObj(m, c) })),
        ...remoteEdges(m, key).map((e) => ({ id: BigInt(e.chanIdStr), obj: remoteEdgeObj(e) })),
      ].sort(byId)
    : [];
  return {
    node: {
      last_update: first.peerPolicy?.lastUpdate ?? first.policy.lastUpdate,
      pub_key: key,
      alias: first.peerAlias,
      addresses: [{ network: 'tcp', addr: `198.51.100.${(parseInt(key.slice(2, 4), 16) % 250) + 1}:9735` }],
      color: first.peerColor,
      features: {},
      custom_records: {},
    },
    num_channels: chans.length + remote.count,
    total_capacity: String(total),
    channels: listed.map((e) => e.obj),
  };
}

function feeSumSat(log: readonly ForwardRecord[], sinceMs: number): string {
  let msat = 0n;
  let acc = 0;
  for (let i = log.length - 1; i >= 0; i--) {
    const r = log[i]!;
    if (r.tsMs < sinceMs) break;
    acc += r.feeMsat;
    if (acc > 2 ** 52) {
      msat += BigInt(acc);
      acc = 0;
    }
  }
  msat += BigInt(acc);
  return (msat / 1000n).toString();
}

export function feeReport(engine: SimEngine): Obj {
  const m = engine.model;
  const log = engine.forwardingLog();
  const now = engine.nowMs();
  return {
    channel_fees: m.channels.map((c) => ({
      chan_id: c.chanIdStr,
      channel_point: c.channelPoint,
      base_fee_msat: String(c.policy.feeBaseMsat),
      fee_per_mil: String(c.policy.feeRatePpm),
      fee_rate: c.policy.feeRatePpm / 1_000_000,
      inbound_base_fee_msat: c.policy.inboundFeeBaseMsat,
      inbound_fee_per_mil: c.policy.inboundFeeRatePpm,
    })),
    day_fee_sum: feeSumSat(log, now - 86_400_000),
    week_fee_sum: feeSumSat(log, now - 7 * 86_400_000),
    month_fee_sum: feeSumSat(log, now - 30 * 86_400_000),
  };
}

export interface ForwardingHistoryReq {
  start_time?: string;
  end_time?: string;
  index_offset?: number;
  num_max_events?: number;
  peer_alias_lookup?: boolean;
  incoming_chan_ids?: string[];
  outgoing_chan_ids?: string[];
}

/** LND caps one ForwardingHistory response at 50,000 events. */
export const MAX_FORWARDING_EVENTS = 50_000;

/**
 * LND's ForwardingHistory: events with start_time*1e9 <= timestamp_ns <= end_time*1e9 (end_time 0
 * = now), skipping index_offset of them, at most num_max_events (default 100);
 * last_offset_index = index_offset + number returned.
 */
export function forwardingHistory(engine: SimEngine, req: ForwardingHistoryReq): Obj {
  const m = engine.model;
  const log = engine.forwardingLog();
  const startNs = BigInt(req.start_time || '0') * 1_000_000_000n;
  const endNs = req.end_time && req.end_time !== '0' ? BigInt(req.end_time) * 1_000_000_000n : null;
  const offset = req.index_offset ?? 0;
  const max = Math.min(req.num_max_events || 100, MAX_FORWARDING_EVENTS);
  const inSet = req.incoming_chan_ids?.length ? new Set(req.incoming_chan_ids) : undefined;
  const outSet = req.outgoing_chan_ids?.length ? new Set(req.outgoing_chan_ids) : undefined;
  const startMs = Number(startNs / 1_000_000n);
  // binary search the first record at or after start_time
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (log[mid]!.tsMs < startMs) lo = mid + 1;
    else hi = mid;
  }
  const aliasOf = (id: string): string => {
    const ch = findChannel(m, id);
    if (!ch) return 'unable to lookup peer alias: edge not found';
    return ch.peerAnnounced ? ch.peerAlias : 'unable to lookup peer alias: unable to find node';
  };
  const events: Obj[] = [];
  let skip = offset;
  for (let i = lo; i < log.length && events.length < max; i++) {
    const r = log[i]!;
    if (endNs !== null && BigInt(r.timestampNs) > endNs) break;
    if (inSet && !inSet.has(r.chanIdIn)) continue;
    if (outSet && !outSet.has(r.chanIdOut)) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    events.push({
      timestamp: String(Math.floor(r.tsMs / 1000)),
      chan_id_in: r.chanIdIn,
      chan_id_out: r.chanIdOut,
      amt_in: sat(r.amtInMsat),
      amt_out: sat(r.amtOutMsat),
      fee: sat(r.feeMsat),
      fee_msat: String(r.feeMsat),
      amt_in_msat: String(r.amtInMsat),
      amt_out_msat: String(r.amtOutMsat),
      timestamp_ns: r.timestampNs,
      peer_alias_in: req.peer_alias_lookup ? aliasOf(r.chanIdIn) : '',
      peer_alias_out: req.peer_alias_lookup ? aliasOf(r.chanIdOut) : '',
      incoming_htlc_id: String(r.incomingHtlcId),
      outgoing_htlc_id: String(r.outgoingHtlcId),
    });
  }
  return { forwarding_events: events, last_offset_index: offset + events.length };
}
