/** Display helpers for bigint amounts: no amount ever goes through a lossy JS number. */

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** msat as sats for display: "3,450" (rounded), or "0.512" below one sat. */
export function formatSat(msat: bigint): string {
  const neg = msat < 0n;
  const v = neg ? -msat : msat;
  let out: string;
  if (v > 0n && v < 1000n) out = `0.${v.toString().padStart(3, '0')}`.replace(/0+$/, '');
  else out = group(((v + 500n) / 1000n).toString());
  return neg ? `-${out}` : out;
}

/** msat as exact sats with three decimals, e.g. "3450.123" (exports, tooltips). */
export function msatToSatString(msat: bigint): string {
  const neg = msat < 0n;
  const v = neg ? -msat : msat;
  const s = `${v / 1000n}.${(v % 1000n).toString().padStart(3, '0')}`;
  return neg ? `-${s}` : s;
}

export function formatCount(n: number): string {
  return group(String(n));
}

/** Fee rate in ppm of fee over amount, as a bigint ratio rounded to the nearest ppm. */
export function ppm(feeMsat: bigint, amountMsat: bigint): bigint {
  if (amountMsat <= 0n) return 0n;
  return (feeMsat * 1_000_000n + amountMsat / 2n) / amountMsat;
}

export function pluralize(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
