import * as fs from 'node:fs';
import * as net from 'node:net';
import { X509Certificate } from 'node:crypto';
import { LndError } from './errors';

export interface LndEndpoint {
  host: string;
  port: number;
  /** host:port as grpc-js wants it, IPv6 in brackets. */
  target: string;
}

/** Parses "host:port", "[::1]:10009" or "127.0.0.1:10009". The port is required. */
export function parseHostPort(text: string): LndEndpoint {
  const s = (text ?? '').trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.%a-zA-Z]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1];
    portText = v6[2];
    if (net.isIPv6(host) === false) throw new LndError('config', `"${s}" is not a valid host:port: ${host} is not an IPv6 address.`);
  } else {
    const m = /^([A-Za-z0-9.-]+):(\d+)$/.exec(s);
    if (!m) {
      if (/^[0-9a-fA-F:]+$/.test(s) && s.includes('::')) {
        throw new LndError('config', `"${s}" looks like an IPv6 address without a port: write it as [${s}]:10009.`);
      }
      if (/^[A-Za-z0-9.-]+$/.test(s) && s.length > 0) {
        throw new LndError('config', `"${s}" has no port: write it as ${s}:10009 (LND's default gRPC port).`);
      }
      throw new LndError('config', `"${s}" is not a valid host:port (expected e.g. 127.0.0.1:10009, mynode.local:10009 or [::1]:10009).`);
    }
    host = m[1];
    portText = m[2];
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LndError('config', `"${s}" has an invalid port ${portText}: use 1-65535.`);
  return { host, port, target: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

function readFileOrExplain(path: string, what: string): Buffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LndError('config', `${what} not found: ${path}`);
    if (code === 'EACCES' || code === 'EPERM') throw new LndError('config', `${what} is not readable (permission denied): ${path}`);
    if (code === 'EISDIR') throw new LndError('config', `${what} is a directory, not a file: ${path}`);
    throw new LndError('config', `${what} could not be read: ${path} (${code ?? String(err)})`);
  }
  return buf;
}

/** Reads and checks tls.cert: a PEM certificate, parsed, so a wrong file fails here with its path. */
export function readTlsCert(path: string): Buffer {
  const buf = readFileOrExplain(path, 'TLS certificate');
  const text = buf.toString('utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new LndError('config', `TLS certificate is not a PEM certificate (no BEGIN CERTIFICATE block): ${path}`);
  }
  try {
    new X509Certificate(buf);
  } catch (err) {
    throw new LndError('config', `TLS certificate could not be parsed: ${path} (${(err as Error).message})`);
  }
  return buf;
}

/** Subject alternative names of a PEM cert, for telling users which names it covers. */
export function certAltNames(pem: Buffer | string): string[] {
  try {
    const names = new X509Certificate(pem).subjectAltName ?? '';
    return names.split(',').map((s) => s.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * A macaroon from a file (binary, as LND writes admin.macaroon, or hex text) or given as hex.
 * Returns lowercase hex. Never include the value in an error.
 */
export function readMacaroon(source: { path?: string; hex?: string }): string {
  if (source.hex !== undefined) {
    const hex = source.hex.trim();
    if (hex.length === 0) throw new LndError('config', 'The macaroon is empty.');
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0) throw new LndError('config', 'The macaroon is not valid hex.');
    return hex.toLowerCase();
  }
  if (!source.path) throw new LndError('config', 'No macaroon given: pass a macaroon file (e.g. ~/.lnd/data/chain/bitcoin/mainnet/readonly.macaroon).');
  const buf = readFileOrExplain(source.path, 'Macaroon file');
  if (buf.length === 0) throw new LndError('config', `Macaroon file is empty: ${source.path}`);
  const asText = buf.toString('utf8').trim();
  if (/^[0-9a-fA-F]+$/.test(asText) && asText.length % 2 === 0 && asText.length >= 32) return asText.toLowerCase();
  // LND macaroons are binary and start with a version byte of 0x02 (v2) or a base64-ish v1 packet.
  return buf.toString('hex');
}
