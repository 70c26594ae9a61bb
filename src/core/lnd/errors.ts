/**
 * The gRPC status codes we classify (fixed by the gRPC spec; grpc-js's `status` enum has the same
 * numbers). Not imported from grpc-js, so that loading this module does not load gRPC.
 */
export const GrpcStatus = {
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * What went wrong, in terms an operator can act on. `retryable` errors are worth a reconnect with
 * backoff; the others (bad credentials, wrong certificate, bad input) stop with the message.
 */
export type LndErrorKind =
  | 'config' // bad input: malformed host:port, missing or unreadable file, bad hex
  | 'macaroon' // LND refused the macaroon
  | 'permission' // the macaroon is valid but lacks a permission
  | 'certificate' // TLS verification against the given tls.cert failed
  | 'unreachable' // nothing answered at host:port
  | 'starting' // LND is up but its RPC server is not ready yet
  | 'locked' // LND's wallet is locked
  | 'stream' // the stream broke (cut, reset, deadline)
  | 'unimplemented' // the call is not available on this LND (too old, or sub-server not built)
  | 'other';

const RETRYABLE: ReadonlySet<LndErrorKind> = new Set(['unreachable', 'starting', 'locked', 'stream', 'other']);

export class LndError extends Error {
  override readonly name = 'LndError';
  constructor(
    readonly kind: LndErrorKind,
    message: string,
    readonly grpcCode?: number,
    readonly detail?: string,
  ) {
    super(message);
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/** The permission each call needs (LND's rpcserver/router permission tables). */
export const REQUIRED_PERMISSION: Readonly<Record<string, string>> = {
  SubscribeHtlcEvents: 'offchain:read',
  GetInfo: 'info:read',
  ListChannels: 'offchain:read',
  GetChanInfo: 'info:read',
  GetNodeInfo: 'info:read',
  FeeReport: 'offchain:read',
  ForwardingHistory: 'offchain:read',
};

interface GrpcLikeError {
  code?: number;
  details?: string;
  message?: string;
}

/**
 * Maps a grpc-js error to an LndError. LND reports most of these with gRPC status UNKNOWN and a
 * fixed text, so the text is what tells them apart (these are LND's own error strings, not HTLC
 * failure reasons).
 */
export function classifyGrpcError(err: unknown, method: string, target: string, certNames?: readonly string[]): LndError {
  if (err instanceof LndError) return err;
  const e = (err ?? {}) as GrpcLikeError;
  const code = e.code;
  const details = String(e.details ?? e.message ?? err);
  const lower = details.toLowerCase();

  if (code === GrpcStatus.PERMISSION_DENIED || /\bpermission denied\b/.test(lower)) {
    const perm = REQUIRED_PERMISSION[method] ?? 'a permission';
    return new LndError('permission', `LND refused ${method}: the macaroon lacks the "${perm}" permission. Use a macaroon that grants ${perm} (admin.macaroon or readonly.macaroon do).`, code, details);
  }
  if (
    code === GrpcStatus.UNAUTHENTICATED ||
    lower.includes('macaroon') ||
    lower.includes('signature mismatch') ||
    lower.includes('verification failed') ||
    // LND passes on macaroon.v2's parse errors and bakery's caveat and identifier checks as they are:
    // a corrupted file or an unmet caveat never gets better by retrying
    /^unmarshal v[12]: /.test(lower) ||
    lower === 'invalid id' ||
    /^caveat ".*" not satisfied: /s.test(lower)
  ) {
    return new LndError('macaroon', `LND rejected the macaroon (${details.trim()}). Check that it belongs to this node and was not rotated.`, code, details);
  }
  if (lower.includes('wallet locked') || lower.includes('wallet not unlocked') || lower.includes('unlock it to enable')) {
    return new LndError('locked', 'LND is running but its wallet is locked: unlock it (lncli unlock) and monitoring resumes.', code, details);
  }
  if (lower.includes('starting up') || lower.includes('not yet ready') || lower.includes('still in the process of starting')) {
    return new LndError('starting', 'LND is still starting: its RPC server is not ready yet. Retrying.', code, details);
  }
  const altnames = /hostname\/ip does not match certificate's altnames:?\s*(.*)/i.exec(details);
  if (altnames) {
    // Node's text ends with grpc-js's "Resolution note: …" and, for an IP, lists only the cert's IPs
    const said = altnames[1].replace(/\s*Resolution note:.*$/s, '').trim().replace(/[\s.:]+$/, '');
    const covers = certNames && certNames.length > 0 ? `the certificate covers ${certNames.join(', ')}` : said;
    return new LndError(
      'certificate',
      `TLS certificate does not cover "${hostOf(target)}" (${covers}). Connect with a name or IP that is in the certificate, or add it to lnd.conf (tlsextraip=… or tlsextradomain=…), delete tls.cert and tls.key, and restart LND to regenerate them.`,
      code,
      details,
    );
  }
  if (/(self[- ]signed|unable to verify|unable to get (local )?issuer|certificate|ssl|tls|handshake|wrong version number)/i.test(details)) {
    return new LndError('certificate', `TLS certificate check failed for ${target}: the server's certificate does not match the given tls.cert (${firstLine(details)}).`, code, details);
  }
  if (code === GrpcStatus.UNIMPLEMENTED) {
    return new LndError('unimplemented', `LND does not offer ${method} (${firstLine(details)}): it may be too old or built without that sub-server.`, code, details);
  }
  if (code === GrpcStatus.UNAVAILABLE) {
    if (/(econnrefused|enotfound|eai_again|ehostunreach|enetunreach|etimedout|no connection established|failed to connect|connection dropped|connect)/i.test(details) && !/stream|rst_stream|goaway/i.test(details)) {
      return new LndError('unreachable', `Cannot reach LND at ${target} (${firstLine(details)}).`, code, details);
    }
    return new LndError('stream', `Connection to LND at ${target} was interrupted (${firstLine(details)}).`, code, details);
  }
  if (code === GrpcStatus.DEADLINE_EXCEEDED) {
    return new LndError('stream', `LND at ${target} did not answer ${method} in time.`, code, details);
  }
  if (code === GrpcStatus.CANCELLED) {
    return new LndError('stream', `${method} was cancelled.`, code, details);
  }
  return new LndError('other', `${method} failed: ${firstLine(details)}`, code, details);
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

function hostOf(target: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(target) ?? /^([^:]+):\d+$/.exec(target);
  return m ? m[1] : target;
}
