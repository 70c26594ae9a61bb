import * as crypto from 'node:crypto';
import { URI_ENTITY, type MacaroonOp } from './permissions';

/**
 * Macaroons as LND makes and checks them (gopkg.in/macaroon.v2 + macaroon-bakery.v2 as LND uses
 * them), so the simulator's admin.macaroon, readonly.macaroon and baked macaroons are real ones:
 * - binary v2 format (libmacaroons format.txt): version 0x02, location "lnd", the identifier, the
 *   caveats, a 32-byte signature;
 * - identifier: 0x03 (bakery version 3) + protobuf MacaroonId {nonce, storageId "0" (LND's default
 *   root key id), ops: [{entity, actions}]} — the permissions travel inside the macaroon, and
 *   `lncli printmacaroon` or any bakery can read them;
 * - signature: HMAC-SHA256 chain from the root key (derived with "macaroons-key-generator"), one
 *   link per caveat, so the server alone can tell a macaroon it minted, and a holder can only
 *   narrow one (add caveats), never widen it.
 * Error texts are LND's for the same failure (wrapped by bakery and errgo as LND shows them).
 */

const KEY_GENERATOR = Buffer.from('macaroons-key-generator', 'utf8');
/** bakery.Version3: the identifier's first byte. */
const ID_VERSION = 3;
export const MACAROON_LOCATION = 'lnd';
/** LND's `macaroons.DefaultRootKeyID`. */
export const DEFAULT_ROOT_KEY_ID = Buffer.from('0', 'utf8');

export interface MacaroonCaveat {
  id: Buffer;
  /** Set for third-party caveats only. */
  verificationId?: Buffer;
  location?: string;
}

export interface RawMacaroon {
  location: string;
  id: Buffer;
  caveats: MacaroonCaveat[];
  signature: Buffer;
}

/** A decoded identifier. */
export interface MacaroonIdentity {
  nonce: Buffer;
  storageId: Buffer;
  ops: readonly MacaroonOp[];
}

/** A malformed macaroon or identifier; `message` is what LND answers. */
export class MacaroonFormatError extends Error {}

function hmac(key: Buffer, data: Buffer): Buffer {
  return crypto.createHmac('sha256', key).update(data).digest();
}

// ------------------------------------------------------------------ binary v2 format

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function packet(type: number, data: Buffer): Buffer {
  return Buffer.concat([uvarint(type), uvarint(data.length), data]);
}

const EOS = Buffer.from([0]);

export function encodeMacaroon(m: RawMacaroon): Buffer {
  const parts: Buffer[] = [Buffer.from([2])];
  if (m.location) parts.push(packet(1, Buffer.from(m.location, 'utf8')));
  parts.push(packet(2, m.id), EOS);
  for (const c of m.caveats) {
    if (c.location) parts.push(packet(1, Buffer.from(c.location, 'utf8')));
    parts.push(packet(2, c.id));
    if (c.verificationId && c.verificationId.length > 0) parts.push(packet(4, c.verificationId));
    parts.push(EOS);
  }
  parts.push(EOS, packet(6, m.signature));
  return Buffer.concat(parts);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.pos;
  }
  /** Go's binary.Uvarint with macaroon.v2's range check. */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= this.buf.length) throw new MacaroonFormatError('varint value extends past end of buffer');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) break;
      if (i >= 9) throw new MacaroonFormatError('varint value out of range');
    }
    if (v > 0x7fffffff) throw new MacaroonFormatError('varint value out of range');
    return v;
  }
  packet(): { type: number; data: Buffer } {
    const type = this.varint();
    if (type === 0) return { type, data: Buffer.alloc(0) };
    const len = this.varint();
    if (len > this.left) throw new MacaroonFormatError('field data extends past end of buffer');
    const data = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return { type, data };
  }
  section(): { type: number; data: Buffer }[] {
    const out: { type: number; data: Buffer }[] = [];
    let prev = -1;
    for (;;) {
      if (this.left === 0) throw new MacaroonFormatError('section extends past end of buffer');
      const p = this.packet();
      if (p.type === 0) return out;
      if (p.type <= prev) throw new MacaroonFormatError('fields out of order');
      out.push(p);
      prev = p.type;
    }
  }
}

function parseV2(buf: Buffer): RawMacaroon {
  const r = new Reader(buf);
  r.pos = 1;
  let section = r.section();
  let location = '';
  if (section.length > 0 && section[0]!.type === 1) {
    location = section[0]!.data.toString('utf8');
    section = section.slice(1);
  }
  if (section.length !== 1 || section[0]!.type !== 2) throw new MacaroonFormatError('invalid macaroon header');
  const id = Buffer.from(section[0]!.data);
  const caveats: MacaroonCaveat[] = [];
  for (;;) {
    let s = r.section();
    if (s.length === 0) break;
    const cav: MacaroonCaveat = { id: Buffer.alloc(0) };
    if (s[0]!.type === 1) {
      cav.location = s[0]!.data.toString('utf8');
      s = s.slice(1);
    }
    if (s.length === 0 || s[0]!.type !== 2) throw new MacaroonFormatError('no identifier in caveat');
    cav.id = Buffer.from(s[0]!.data);
    s = s.slice(1);
    if (s.length === 0) {
      if (cav.location) throw new MacaroonFormatError('location not allowed in first party caveat');
      caveats.push(cav);
      continue;
    }
    if (s.length !== 1) throw new MacaroonFormatError('extra fields found in caveat');
    const vid: { type: number; data: Buffer } = s[0]!;
    if (vid.type !== 4) throw new MacaroonFormatError('invalid field found in caveat');
    cav.verificationId = Buffer.from(vid.data);
    caveats.push(cav);
  }
  const sig = r.packet();
  if (sig.type !== 6) throw new MacaroonFormatError('unexpected field found instead of signature');
  if (sig.data.length !== 32) throw new MacaroonFormatError('signature has unexpected length');
  return { location, id, caveats, signature: Buffer.from(sig.data) };
}

/** Parses a binary macaroon; throws MacaroonFormatError with macaroon.v2's text. */
export function decodeMacaroon(buf: Buffer): RawMacaroon {
  if (buf.length === 0) throw new MacaroonFormatError('empty macaroon data');
  const v = buf[0]!;
  if (v === 2) {
    try {
      return parseV2(buf);
    } catch (e) {
      throw new MacaroonFormatError(`unmarshal v2: ${(e as Error).message}`);
    }
  }
  // a hex digit starts a v1 macaroon, which LND refuses after parsing it
  const hexDigit = (v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x66) || (v >= 0x41 && v <= 0x46);
  throw new MacaroonFormatError(hexDigit ? 'unknown macaroon version: v1' : 'cannot determine data format of binary-encoded macaroon');
}

// ------------------------------------------------------------------ the identifier (protobuf)

function pbBytes(field: number, data: Buffer): Buffer {
  return Buffer.concat([uvarint((field << 3) | 2), uvarint(data.length), data]);
}

/** bakery.CanonicalOps (sorted, no duplicates) grouped by entity, as macaroonIdOps does. */
function groupOps(ops: readonly MacaroonOp[]): { entity: string; actions: string[] }[] {
  const sorted = [...ops].sort((a, b) => (a.entity !== b.entity ? (a.entity < b.entity ? -1 : 1) : a.action < b.action ? -1 : a.action > b.action ? 1 : 0));
  const out: { entity: string; actions: string[] }[] = [];
  for (const o of sorted) {
    const last = out[out.length - 1];
    if (last && last.entity === o.entity) {
      if (last.actions[last.actions.length - 1] !== o.action) last.actions.push(o.action);
    } else out.push({ entity: o.entity, actions: [o.action] });
  }
  return out;
}

export function encodeMacaroonId(m: MacaroonIdentity): Buffer {
  const parts = [Buffer.from([ID_VERSION]), pbBytes(1, m.nonce), pbBytes(2, m.storageId)];
  for (const g of groupOps(m.ops)) {
    const op = Buffer.concat([pbBytes(1, Buffer.from(g.entity, 'utf8')), ...g.actions.map((a) => pbBytes(2, Buffer.from(a, 'utf8')))]);
    parts.push(pbBytes(3, op));
  }
  return Buffer.concat(parts);
}

/** Length-delimited fields of a protobuf message (others skipped). */
function pbFields(buf: Buffer): { field: number; data: Buffer }[] {
  const r = new Reader(buf);
  const out: { field: number; data: Buffer }[] = [];
  const eof = () => new MacaroonFormatError('unexpected EOF');
  while (r.left > 0) {
    let key: number;
    try {
      key = r.varint();
    } catch {
      throw eof();
    }
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      while (r.left > 0 && r.buf[r.pos]! >= 0x80) r.pos++;
      if (r.left === 0) throw eof();
      r.pos++;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (r.left < n) throw eof();
      r.pos += n;
    } else if (wire === 2) {
      let len: number;
      try {
        len = r.varint();
      } catch {
        throw eof();
      }
      if (len > r.left) throw eof();
      out.push({ field, data: r.buf.subarray(r.pos, r.pos + len) });
      r.pos += len;
    } else {
      throw new MacaroonFormatError(`proto: illegal wireType ${wire}`);
    }
  }
  return out;
}

/** Decodes a version-3 identifier; throws with bakery's texts. */
export function decodeMacaroonId(id: Buffer): MacaroonIdentity {
  let fields: { field: number; data: Buffer }[];
  try {
    fields = pbFields(id.subarray(1));
  } catch (e) {
    throw new MacaroonFormatError(`cannot unmarshal macaroon id: ${(e as Error).message}`);
  }
  const res = { nonce: Buffer.alloc(0), storageId: Buffer.alloc(0), ops: [] as MacaroonOp[] };
  const groups: { entity: string; actions: string[] }[] = [];
  for (const f of fields) {
    if (f.field === 1) res.nonce = Buffer.from(f.data);
    else if (f.field === 2) res.storageId = Buffer.from(f.data);
    else if (f.field === 3) {
      const g = { entity: '', actions: [] as string[] };
      for (const of of pbFields(f.data)) {
        if (of.field === 1) g.entity = of.data.toString('utf8');
        else if (of.field === 2) g.actions.push(of.data.toString('utf8'));
      }
      groups.push(g);
    }
  }
  if (groups.length === 0 || groups[0]!.actions.length === 0) throw new MacaroonFormatError('no operations found in macaroon');
  for (const g of groups) for (const a of g.actions) res.ops.push({ entity: g.entity, action: a });
  return res;
}

// ------------------------------------------------------------------ minting and checking

/**
 * The signature of a macaroon with this identifier and first-party caveats: HMAC-SHA256 of the
 * identifier under the derived root key, then of each caveat under the previous signature.
 */
export function macaroonSignature(rootKey: Buffer, id: Buffer, caveatIds: readonly Buffer[] = []): Buffer {
  let sig = hmac(hmac(KEY_GENERATOR, rootKey), id);
  for (const c of caveatIds) sig = hmac(sig, c);
  return sig;
}

/** A new macaroon granting `ops` (LND's NewMacaroon with the default root key id, no caveats). */
export function mintMacaroon(rootKey: Buffer, ops: readonly MacaroonOp[], nonce: Buffer = crypto.randomBytes(16)): Buffer {
  if (ops.length === 0) throw new Error('cannot mint a macaroon associated with no operations');
  const id = encodeMacaroonId({ nonce, storageId: DEFAULT_ROOT_KEY_ID, ops });
  return encodeMacaroon({ location: MACAROON_LOCATION, id, caveats: [], signature: macaroonSignature(rootKey, id) });
}

/**
 * Adds a first-party caveat (e.g. "time-before 2030-01-01T00:00:00Z", what `lncli bakemacaroon
 * --timeout` adds); anyone holding a macaroon can do this, and it only ever narrows it.
 */
export function addFirstPartyCaveat(mac: Buffer, condition: string): Buffer {
  const m = decodeMacaroon(mac);
  const id = Buffer.from(condition, 'utf8');
  return encodeMacaroon({ ...m, caveats: [...m.caveats, { id }], signature: hmac(m.signature, id) });
}

/** The permissions a macaroon names (unverified, like `lncli printmacaroon`). */
export function macaroonPermissions(mac: Buffer): string[] {
  return decodeMacaroonId(decodeMacaroon(mac).id).ops.map((o) => `${o.entity}:${o.action}`);
}

/** Go's %q for the texts we quote (caveat conditions). */
const goQuote = (s: string): string => JSON.stringify(s);

/** bakery's first-party caveat check for the one condition the simulator knows: time-before. */
function checkCaveat(condition: string, nowMs: number): string | undefined {
  if (condition === '') return 'cannot parse caveat "": empty caveat';
  const sp = condition.indexOf(' ');
  if (sp === 0) return `cannot parse caveat ${goQuote(condition)}: caveat starts with space character`;
  const cond = sp < 0 ? condition : condition.slice(0, sp);
  const arg = sp < 0 ? '' : condition.slice(sp + 1);
  const fail = (why: string) => `caveat ${goQuote(condition)} not satisfied: ${why}`;
  if (cond !== 'time-before') return fail('caveat not recognized');
  const t = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(arg) ? Date.parse(arg) : NaN;
  if (Number.isNaN(t)) return fail(`parsing time ${goQuote(arg)} as "2006-01-02T15:04:05.999999999Z07:00"`);
  if (!(nowMs < t)) return fail('macaroon has expired');
  return undefined;
}

/**
 * LND's macaroon check for one call (macaroons.Service.CheckMacAuth through bakery's Allow):
 * undefined when `mac` was minted with `rootKey`, its caveats hold and it grants `required` or
 * `uri:<fullMethod>`; otherwise the text LND answers.
 */
export function checkMacaroon(rootKey: Buffer, mac: Buffer, required: readonly MacaroonOp[], fullMethod: string, nowMs = Date.now()): string | undefined {
  let m: RawMacaroon;
  try {
    m = decodeMacaroon(mac);
  } catch (e) {
    return (e as Error).message;
  }
  if (m.id.length < 1 || m.id[0] !== ID_VERSION) return 'invalid ID';
  let ident: MacaroonIdentity;
  try {
    ident = decodeMacaroonId(m.id);
  } catch (e) {
    return `cannot retrieve macaroon: ${(e as Error).message}`;
  }
  if (!ident.storageId.equals(DEFAULT_ROOT_KEY_ID)) return `cannot retrieve macaroon: cannot get macaroon: root key with id ${ident.storageId.toString('utf8')} doesn't exist`;
  for (const c of m.caveats) {
    if (c.verificationId && c.verificationId.length > 0) return `verification failed: cannot find discharge macaroon for caveat ${c.id.toString('hex')}`;
  }
  const sig = macaroonSignature(rootKey, m.id, m.caveats.map((c) => c.id));
  if (!crypto.timingSafeEqual(sig, m.signature)) return 'verification failed: signature mismatch after caveat verification';
  for (const c of m.caveats) {
    const why = checkCaveat(c.id.toString('utf8'), nowMs);
    if (why) return why;
  }
  const has = (e: string, a: string) => ident.ops.some((o) => o.entity === e && o.action === a);
  if (required.every((r) => has(r.entity, r.action))) return undefined;
  if (has(URI_ENTITY, fullMethod)) return undefined;
  return 'permission denied';
}
