import type { EnumValue } from '../lnd/types';
import { loadLndProtos } from '../lnd/protos';

/**
 * LND enum tables (name <-> number) read from the loaded protos, so the simulator never
 * disagrees with protos/*.proto. Values are loaded lazily on first use.
 */
export interface EnumTable {
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
}

let wireTable: EnumTable | undefined;
let detailTable: EnumTable | undefined;
let typeTable: EnumTable | undefined;

function readEnum(fullName: string): EnumTable {
  type Values = { name: string; number: number }[];
  const pd = loadLndProtos().packageDefinition;
  const def = pd[fullName] as unknown as { type?: { value?: Values } } | undefined;
  let values = def?.type?.value;
  if (!values) {
    // nested enum (e.g. lnrpc.Failure.FailureCode): it lives in the parent message's descriptor
    const dot = fullName.lastIndexOf('.');
    const parent = pd[fullName.slice(0, dot)] as unknown as { type?: { enumType?: { name: string; value: Values }[] } } | undefined;
    values = parent?.type?.enumType?.find((e) => e.name === fullName.slice(dot + 1))?.value;
  }
  if (!values) throw new Error(`enum ${fullName} not found in the loaded protos`);
  const byName = new Map<string, number>();
  const byNumber = new Map<number, string>();
  for (const v of values) {
    byName.set(v.name, v.number);
    if (!byNumber.has(v.number)) byNumber.set(v.number, v.name);
  }
  return { byName, byNumber };
}

/** lnrpc.Failure.FailureCode (the BOLT #4 wire failure). */
export function wireFailureTable(): EnumTable {
  return (wireTable ??= readEnum('lnrpc.Failure.FailureCode'));
}

/** routerrpc.FailureDetail. */
export function failureDetailTable(): EnumTable {
  return (detailTable ??= readEnum('routerrpc.FailureDetail'));
}

/** routerrpc.HtlcEvent.EventType. */
export function eventTypeTable(): EnumTable {
  return (typeTable ??= readEnum('routerrpc.HtlcEvent.EventType'));
}

/**
 * Normalises an enum value as a client would see it with `enums: String`: a known number becomes
 * its name, a known name stays, an unknown number stays a number. Numeric strings are treated as
 * numbers.
 */
export function enumName(table: EnumTable, v: EnumValue | null | undefined): EnumValue {
  if (v === null || v === undefined) return table.byNumber.get(0) ?? 0;
  if (typeof v === 'number') return table.byNumber.get(v) ?? v;
  if (table.byName.has(v)) return v;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    return table.byNumber.get(n) ?? n;
  }
  return v;
}

/** Reason key used for failures that happened downstream (forward_fail_event). */
export const DOWNSTREAM_REASON = 'DOWNSTREAM';

/**
 * The reason key our monitor should use for a link failure: the failure_detail name, unless it
 * is UNKNOWN or NO_DETAIL, in which case the wire_failure name. Numbers our protos do not know
 * become `FAILURE_DETAIL_<n>` / `WIRE_FAILURE_<n>` (an unknown detail number counts as a real
 * detail) — the same convention as src/core/reasons.ts, kept independent on purpose.
 */
export function reasonKey(wireFailure: EnumValue | null | undefined, failureDetail: EnumValue | null | undefined): string {
  const detail = enumName(failureDetailTable(), failureDetail);
  if (typeof detail === 'number') return `FAILURE_DETAIL_${detail}`;
  if (detail !== 'UNKNOWN' && detail !== 'NO_DETAIL') return detail;
  const wire = enumName(wireFailureTable(), wireFailure);
  if (typeof wire === 'number') return `WIRE_FAILURE_${wire}`;
  return wire;
}
