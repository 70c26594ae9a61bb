/**
 * Failure reasons come from LND's enums (routerrpc.FailureDetail and lnrpc.Failure.FailureCode),
 * never from failure_string. The tables below mirror protos/ (a unit test keeps them in step).
 */

export const FAILURE_DETAIL: readonly string[] = [
  'UNKNOWN', 'NO_DETAIL', 'ONION_DECODE', 'LINK_NOT_ELIGIBLE', 'ON_CHAIN_TIMEOUT', 'HTLC_EXCEEDS_MAX',
  'INSUFFICIENT_BALANCE', 'INCOMPLETE_FORWARD', 'HTLC_ADD_FAILED', 'FORWARDS_DISABLED', 'INVOICE_CANCELED',
  'INVOICE_UNDERPAID', 'INVOICE_EXPIRY_TOO_SOON', 'INVOICE_NOT_OPEN', 'MPP_INVOICE_TIMEOUT', 'ADDRESS_MISMATCH',
  'SET_TOTAL_MISMATCH', 'SET_TOTAL_TOO_LOW', 'SET_OVERPAID', 'UNKNOWN_INVOICE', 'INVALID_KEYSEND',
  'MPP_IN_PROGRESS', 'CIRCULAR_ROUTE', 'INVOICE_ALREADY_SETTLED', 'HTLC_INVOICE_TYPE_MISMATCH', 'AMP_ERROR',
  'AMP_RECONSTRUCTION', 'EXTERNAL_VALIDATION_FAILED',
];

export const FAILURE_CODE: Readonly<Record<number, string>> = {
  0: 'RESERVED',
  1: 'INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS',
  2: 'INCORRECT_PAYMENT_AMOUNT',
  3: 'FINAL_INCORRECT_CLTV_EXPIRY',
  4: 'FINAL_INCORRECT_HTLC_AMOUNT',
  5: 'FINAL_EXPIRY_TOO_SOON',
  6: 'INVALID_REALM',
  7: 'EXPIRY_TOO_SOON',
  8: 'INVALID_ONION_VERSION',
  9: 'INVALID_ONION_HMAC',
  10: 'INVALID_ONION_KEY',
  11: 'AMOUNT_BELOW_MINIMUM',
  12: 'FEE_INSUFFICIENT',
  13: 'INCORRECT_CLTV_EXPIRY',
  14: 'CHANNEL_DISABLED',
  15: 'TEMPORARY_CHANNEL_FAILURE',
  16: 'REQUIRED_NODE_FEATURE_MISSING',
  17: 'REQUIRED_CHANNEL_FEATURE_MISSING',
  18: 'UNKNOWN_NEXT_PEER',
  19: 'TEMPORARY_NODE_FAILURE',
  20: 'PERMANENT_NODE_FAILURE',
  21: 'PERMANENT_CHANNEL_FAILURE',
  22: 'EXPIRY_TOO_FAR',
  23: 'MPP_TIMEOUT',
  24: 'INVALID_ONION_PAYLOAD',
  25: 'INVALID_ONION_BLINDING',
  997: 'INTERNAL_FAILURE',
  998: 'UNKNOWN_FAILURE',
  999: 'UNREADABLE_FAILURE',
};

export const DOWNSTREAM = 'DOWNSTREAM';

export type Category = 'liquidity' | 'fee' | 'policy' | 'peer' | 'downstream' | 'other';
export const CATEGORIES: readonly Category[] = ['liquidity', 'fee', 'policy', 'peer', 'downstream', 'other'];

const CATEGORY_OF: Readonly<Record<string, Category>> = {
  // liquidity: the outgoing channel could not carry the HTLC
  INSUFFICIENT_BALANCE: 'liquidity',
  TEMPORARY_CHANNEL_FAILURE: 'liquidity',
  // fee: the sender paid less than our policy asks
  FEE_INSUFFICIENT: 'fee',
  // policy: our channel policy refused the HTLC
  HTLC_EXCEEDS_MAX: 'policy',
  AMOUNT_BELOW_MINIMUM: 'policy',
  INCORRECT_CLTV_EXPIRY: 'policy',
  EXPIRY_TOO_SOON: 'policy',
  EXPIRY_TOO_FAR: 'policy',
  // peer: the next hop is offline, unknown or unusable
  UNKNOWN_NEXT_PEER: 'peer',
  LINK_NOT_ELIGIBLE: 'peer',
  HTLC_ADD_FAILED: 'peer',
  FORWARDS_DISABLED: 'peer',
  CHANNEL_DISABLED: 'peer',
  PERMANENT_CHANNEL_FAILURE: 'peer',
  TEMPORARY_NODE_FAILURE: 'peer',
  PERMANENT_NODE_FAILURE: 'peer',
  REQUIRED_CHANNEL_FEATURE_MISSING: 'peer',
  REQUIRED_NODE_FEATURE_MISSING: 'peer',
  // failed after we forwarded it: not ours to fix
  [DOWNSTREAM]: 'downstream',
};

export function categoryOf(reason: string): Category {
  return Object.hasOwn(CATEGORY_OF, reason) ? CATEGORY_OF[reason] : 'other';
}

/** Enum value (name from proto-loader, or a number for a value newer than our protos) to a name. */
export function failureDetailName(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return 'UNKNOWN';
  if (typeof value === 'string') return /^\d+$/.test(value) ? failureDetailName(Number(value)) : value;
  return FAILURE_DETAIL[value] ?? `FAILURE_DETAIL_${value}`;
}

export function failureCodeName(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return 'RESERVED';
  if (typeof value === 'string') return /^\d+$/.test(value) ? failureCodeName(Number(value)) : value;
  return FAILURE_CODE[value] ?? `WIRE_FAILURE_${value}`;
}

/** The reason key: failure_detail unless it says nothing (UNKNOWN, NO_DETAIL), then wire_failure. */
export function reasonKey(wireFailure: string | number | null | undefined, failureDetail: string | number | null | undefined): string {
  const detail = failureDetailName(failureDetail);
  if (detail !== 'UNKNOWN' && detail !== 'NO_DETAIL') return detail;
  return failureCodeName(wireFailure);
}

/** Human label for a reason key, e.g. INSUFFICIENT_BALANCE -> "insufficient balance". */
export function reasonLabel(reason: string): string {
  return reason.toLowerCase().replace(/_/g, ' ');
}
