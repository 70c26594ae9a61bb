import type { PackageDefinition } from '@grpc/proto-loader';
import type { INamespace } from 'protobufjs';
import { PROTO_LOADER_OPTIONS } from '../lnd/protos';
import { goHexDecodeError } from './certs';
import type { SimEngine } from './engine';
import type { PolicyModel, SimChannel } from './model';
import { SimRpcError } from './rpc';

/**
 * lnrpc.Lightning/UpdateChannelPolicy, the one write call the simulator serves (so a read-only
 * macaroon can be seen refused, and tools that set fees have something to talk to). protos/ is the
 * client's copy and holds only what the monitor calls, so the messages live here, with LND
 * v0.21.0-beta's names and field numbers (lnrpc/lightning.proto: PolicyUpdateRequest,
 * ChannelPoint, InboundFee, PolicyUpdateResponse, FailedUpdate, OutPoint, UpdateFailure).
 */
export const POLICY_PROTO_JSON: INamespace = {
  nested: {
    lnrpc: {
      nested: {
        Lightning: {
          methods: { UpdateChannelPolicy: { requestType: 'PolicyUpdateRequest', responseType: 'PolicyUpdateResponse', comment: '' } },
        },
        ChannelPoint: {
          oneofs: { funding_txid: { oneof: ['funding_txid_bytes', 'funding_txid_str'] } },
          fields: {
            funding_txid_bytes: { type: 'bytes', id: 1 },
            funding_txid_str: { type: 'string', id: 2 },
            output_index: { type: 'uint32', id: 3 },
          },
        },
        InboundFee: {
          fields: { base_fee_msat: { type: 'int32', id: 1 }, fee_rate_ppm: { type: 'int32', id: 2 } },
        },
        PolicyUpdateRequest: {
          oneofs: { scope: { oneof: ['global', 'chan_point'] } },
          fields: {
            global: { type: 'bool', id: 1 },
            chan_point: { type: 'ChannelPoint', id: 2 },
            base_fee_msat: { type: 'int64', id: 3 },
            fee_rate: { type: 'double', id: 4 },
            fee_rate_ppm: { type: 'uint32', id: 9 },
            time_lock_delta: { type: 'uint32', id: 5 },
            max_htlc_msat: { type: 'uint64', id: 6 },
            min_htlc_msat: { type: 'uint64', id: 7 },
            min_htlc_msat_specified: { type: 'bool', id: 8 },
            inbound_fee: { type: 'InboundFee', id: 10 },
            create_missing_edge: { type: 'bool', id: 11 },
          },
        },
        OutPoint: {
          fields: {
            txid_bytes: { type: 'bytes', id: 1 },
            txid_str: { type: 'string', id: 2 },
            output_index: { type: 'uint32', id: 3 },
          },
        },
        UpdateFailure: {
          values: {
            UPDATE_FAILURE_UNKNOWN: 0,
            UPDATE_FAILURE_PENDING: 1,
            UPDATE_FAILURE_NOT_FOUND: 2,
            UPDATE_FAILURE_INTERNAL_ERR: 3,
            UPDATE_FAILURE_INVALID_PARAMETER: 4,
          },
        },
        FailedUpdate: {
          fields: {
            outpoint: { type: 'OutPoint', id: 1 },
            reason: { type: 'UpdateFailure', id: 2 },
            update_error: { type: 'string', id: 3 },
          },
        },
        PolicyUpdateResponse: {
          fields: { failed_updates: { rule: 'repeated', type: 'FailedUpdate', id: 1 } },
        },
      },
    },
  },
};

let cached: PackageDefinition | undefined;

/** The package definition of POLICY_PROTO_JSON ('lnrpc.Lightning' has UpdateChannelPolicy only). */
export function policyPackageDefinition(): PackageDefinition {
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const protoLoader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  cached = protoLoader.fromJSON(POLICY_PROTO_JSON, PROTO_LOADER_OPTIONS);
  return cached;
}

export interface PolicyUpdateReq {
  scope?: 'global' | 'chan_point';
  global?: boolean;
  chan_point?: { funding_txid?: 'funding_txid_bytes' | 'funding_txid_str'; funding_txid_bytes?: Buffer; funding_txid_str?: string; output_index?: number } | null;
  base_fee_msat?: string;
  fee_rate?: number;
  fee_rate_ppm?: number;
  time_lock_delta?: number;
  max_htlc_msat?: string;
  min_htlc_msat?: string;
  min_htlc_msat_specified?: boolean;
  inbound_fee?: { base_fee_msat?: number; fee_rate_ppm?: number } | null;
  create_missing_edge?: boolean;
}

const UNKNOWN = 2;
const INVALID_ARGUMENT = 3;
/** LND v0.21: routing.MinCLTVDelta and MaxCLTVDelta (math.MaxUint16). */
const MIN_TIME_LOCK_DELTA = 24;
const MAX_TIME_LOCK_DELTA = 65535;
const MIN_FEE_RATE = 1e-6;
/** LND's default --minhtlc: the least an HTLC on our channels may carry, in msat. */
const CHANNEL_MIN_HTLC_MSAT = 1;

/** Go's %v of a float64 (shortest form, exponent with at least two digits). */
function goFloat(x: number): string {
  const a = Math.abs(x);
  if (x !== 0 && (a < 1e-4 || a >= 1e21)) return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(x);
}

const msat = (v: number | bigint) => `${v} mSAT`;

/** chainhash.Hash of a ChannelPoint as the display (byte-reversed) hex string LND prints. */
function fundingTxid(cp: NonNullable<PolicyUpdateReq['chan_point']>): string {
  if (cp.funding_txid === 'funding_txid_str') {
    const s = cp.funding_txid_str ?? '';
    if (s.length > 64) throw new SimRpcError(UNKNOWN, 'max hash string length is 64 bytes');
    const padded = (s.length % 2 ? '0' : '') + s;
    const bad = goHexDecodeError(padded);
    if (bad) throw new SimRpcError(UNKNOWN, bad);
    return padded.toLowerCase().padStart(64, '0');
  }
  const b = cp.funding_txid === 'funding_txid_bytes' ? Buffer.from(cp.funding_txid_bytes ?? []) : Buffer.alloc(0);
  if (b.length !== 32) throw new SimRpcError(UNKNOWN, `invalid hash length of ${b.length}, want 32`);
  return Buffer.from(b).reverse().toString('hex');
}

function failedUpdate(txidHex: string, index: number, reason: string, text: string): object {
  return {
    outpoint: { txid_bytes: Buffer.from(txidHex, 'hex').reverse(), txid_str: txidHex, output_index: index },
    reason,
    update_error: text,
  };
}

/**
 * LND's UpdateChannelPolicy (rpcserver.go, routing/localchans/manager.go): the request checks
 * with LND's texts, then each targeted channel gets the new fees, time lock delta and, when given,
 * max/min HTLC; a channel whose new limits are out of bounds is reported in failed_updates and
 * left as it was, as is a chan_point we have no channel for ("not found").
 */
export function updateChannelPolicy(engine: SimEngine, req: PolicyUpdateReq): object {
  const m = engine.model;
  let target: { txid: string; index: number } | undefined;
  if (req.scope === 'chan_point' && req.chan_point) target = { txid: fundingTxid(req.chan_point), index: req.chan_point.output_index ?? 0 };
  else if (req.scope !== 'global') throw new SimRpcError(UNKNOWN, 'unknown scope: <nil>');

  const feeRate = req.fee_rate ?? 0;
  const feeRatePpm = req.fee_rate_ppm ?? 0;
  let ppm = 0;
  if (feeRate !== 0 && feeRatePpm !== 0) throw new SimRpcError(INVALID_ARGUMENT, 'cannot set both FeeRate and FeeRatePpm at the same time');
  if (feeRate !== 0) {
    if (feeRate < MIN_FEE_RATE) throw new SimRpcError(UNKNOWN, `fee rate of ${goFloat(feeRate)} is too small, min fee rate is ${goFloat(MIN_FEE_RATE)}`);
    ppm = Math.round(feeRate * 1_000_000);
  } else ppm = feeRatePpm;
  const tld = req.time_lock_delta ?? 0;
  if (tld < MIN_TIME_LOCK_DELTA) throw new SimRpcError(UNKNOWN, `time lock delta of ${tld} is too small, minimum supported is ${MIN_TIME_LOCK_DELTA}`);
  if (tld > MAX_TIME_LOCK_DELTA) throw new SimRpcError(UNKNOWN, `time lock delta of ${tld} is too big, maximum supported is ${MAX_TIME_LOCK_DELTA}`);
  const inbound = req.inbound_fee ?? null;
  if (inbound) {
    // LND refuses positive inbound fees unless started with --accept-positive-inbound-fees
    if ((inbound.base_fee_msat ?? 0) > 0) throw new SimRpcError(UNKNOWN, `positive values for inbound base fee msat are not supported: ${inbound.base_fee_msat}`);
    if ((inbound.fee_rate_ppm ?? 0) > 0) throw new SimRpcError(UNKNOWN, `positive values for inbound fee rate ppm are not supported: ${inbound.fee_rate_ppm}`);
  }
  const maxHtlc = BigInt(req.max_htlc_msat || '0');
  const minHtlc = req.min_htlc_msat_specified ? BigInt(req.min_htlc_msat || '0') : undefined;
  const nowSec = Math.floor(engine.nowMs() / 1000);

  const failed: object[] = [];
  let found = false;
  for (const ch of m.channels) {
    const [txid, out] = ch.channelPoint.split(':') as [string, string];
    if (target && (txid !== target.txid || Number(out) !== target.index)) continue;
    found = true;
    const why = updateOne(ch, { base: Number(req.base_fee_msat ?? '0'), ppm, tld, maxHtlc, minHtlc, inbound }, nowSec, engine);
    if (why) failed.push(failedUpdate(txid, Number(out), 'UPDATE_FAILURE_INVALID_PARAMETER', why));
  }
  if (target && !found) failed.push(failedUpdate(target.txid, target.index, 'UPDATE_FAILURE_NOT_FOUND', 'not found'));
  return { failed_updates: failed };
}

function updateOne(
  ch: SimChannel,
  u: { base: number; ppm: number; tld: number; maxHtlc: bigint; minHtlc: bigint | undefined; inbound: PolicyUpdateReq['inbound_fee'] },
  nowSec: number,
  engine: SimEngine,
): string | undefined {
  // the most a channel can carry in flight, as ListChannels shows it (max_pending_amt_msat)
  const amtMax = BigInt(Math.floor(ch.capacitySat * 0.99) * 1000);
  const amtMin = BigInt(CHANNEL_MIN_HTLC_MSAT);
  let max = BigInt(ch.policy.maxHtlcMsat);
  if (u.maxHtlc !== 0n) max = u.maxHtlc;
  else if (max > amtMax) max = amtMax;
  const min = u.minHtlc ?? BigInt(ch.policy.minHtlcMsat);
  if (min < amtMin) return `min htlc amount of ${msat(min)} is below min htlc parameter of ${msat(amtMin)}`;
  if (max > amtMax) return `max htlc size of ${msat(max)} is above max pending amount of ${msat(amtMax)}`;
  if (min > max) return `min_htlc ${msat(min)} greater than max_htlc ${msat(max)}`;
  const patch: Partial<PolicyModel> = {
    feeBaseMsat: u.base,
    feeRatePpm: u.ppm,
    timeLockDelta: u.tld,
    maxHtlcMsat: Number(max),
    minHtlcMsat: Number(min),
    // a channel update must be newer than the last one
    lastUpdate: Math.max(nowSec, ch.policy.lastUpdate + 1),
  };
  if (u.inbound) {
    patch.inboundFeeBaseMsat = u.inbound.base_fee_msat ?? 0;
    patch.inboundFeeRatePpm = u.inbound.fee_rate_ppm ?? 0;
  }
  engine.updatePolicy(ch.chanIdStr, patch);
  return undefined;
}
