/** Times are kept as epoch milliseconds (from LND's timestamp_ns) and shown in local time with zone. */

export function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ISO 8601 in local time with the zone offset, e.g. 2026-11-27T17:05:03.123+01:00. */
export function formatLocalIso(ms: number): string {
  const d = new Date(ms);
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** Short local time with zone name for tables, e.g. "17:05:03 CET". */
export function formatLocalShort(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false, timeZoneName: 'short' });
}
