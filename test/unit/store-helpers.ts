/** Shared helpers of the store tests (not a test file itself). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FailureOutcome, SuccessOutcome } from '../../src/core/normalizer';
import { categoryOf, DOWNSTREAM } from '../../src/core/reasons';

export const DAY = 86_400_000;
export const U64_MAX = (1n << 64n) - 1n;
export const BIG = (1n << 53n) + 12_345n;

export function tmpDir(prefix = 'htlc-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

let htlc = 0n;

export function failure(p: Partial<FailureOutcome> & { timestampMs: number }): FailureOutcome {
  const reason = p.reason ?? 'TEMPORARY_CHANNEL_FAILURE';
  const inAmt = p.incomingAmtMsat ?? 1_001_000n;
  const outAmt = p.outgoingAmtMsat ?? 1_000_000n;
  return {
    kind: 'failure',
    source: p.source ?? (reason === DOWNSTREAM ? 'downstream' : 'link'),
    incomingChanId: p.incomingChanId ?? 111n,
    outgoingChanId: p.outgoingChanId ?? 222n,
    incomingHtlcId: p.incomingHtlcId ?? htlc++,
    outgoingHtlcId: p.outgoingHtlcId ?? htlc++,
    timestampNs: BigInt(p.timestampMs) * 1_000_000n,
    timestampMs: p.timestampMs,
    incomingAmtMsat: inAmt,
    outgoingAmtMsat: outAmt,
    missedFeeMsat: p.missedFeeMsat ?? (outAmt > 0n && inAmt > outAmt ? inAmt - outAmt : 0n),
    reason,
    category: categoryOf(reason),
    wireFailure: p.wireFailure ?? 'TEMPORARY_CHANNEL_FAILURE',
    failureDetail: p.failureDetail ?? 'INSUFFICIENT_BALANCE',
    failureString: p.failureString ?? '',
    amountsKnown: p.amountsKnown ?? true,
  };
}

export function success(p: Partial<SuccessOutcome> & { timestampMs: number }): SuccessOutcome {
  const inAmt = p.incomingAmtMsat ?? 2_002_000n;
  const outAmt = p.outgoingAmtMsat ?? 2_000_000n;
  return {
    kind: 'success',
    incomingChanId: p.incomingChanId ?? 111n,
    outgoingChanId: p.outgoingChanId ?? 222n,
    incomingHtlcId: p.incomingHtlcId ?? htlc++,
    outgoingHtlcId: p.outgoingHtlcId ?? htlc++,
    timestampNs: BigInt(p.timestampMs) * 1_000_000n,
    timestampMs: p.timestampMs,
    incomingAmtMsat: inAmt,
    outgoingAmtMsat: outAmt,
    feeMsat: p.feeMsat ?? (inAmt > outAmt ? inAmt - outAmt : 0n),
    amountsKnown: p.amountsKnown ?? true,
  };
}

/** A deterministic PRNG (mulberry32) for generated workloads. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const REASONS = ['INSUFFICIENT_BALANCE', 'FEE_INSUFFICIENT', DOWNSTREAM, 'CHANNEL_DISABLED', 'INCORRECT_CLTV_EXPIRY'];
