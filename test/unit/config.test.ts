import { strict as assert } from 'node:assert';
import { status as grpcStatus } from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHostPort, readMacaroon, readTlsCert } from '../../src/core/lnd/config';
import { classifyGrpcError, GrpcStatus, LndError } from '../../src/core/lnd/errors';
import { Backoff } from '../../src/core/backoff';

function expectConfigError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LndError, `expected LndError, got ${err}`);
    assert.equal(err.kind, 'config');
    assert.match(err.message, pattern);
    assert.equal(err.message.includes('\n'), false, 'one line');
    return true;
  });
}

describe('connection input', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-config-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('parseHostPort', () => {
    it('accepts host:port, IPv4, names and bracketed IPv6', () => {
      assert.deepEqual(parseHostPort('127.0.0.1:10009'), { host: '127.0.0.1', port: 10009, target: '127.0.0.1:10009' });
      assert.deepEqual(parseHostPort(' mynode.local:10009 '), { host: 'mynode.local', port: 10009, target: 'mynode.local:10009' });
      assert.deepEqual(parseHostPort('[::1]:10009'), { host: '::1', port: 10009, target: '[::1]:10009' });
      assert.deepEqual(parseHostPort('[fe80::1%eth0]:10009').port, 10009);
    });
    it('explains a missing port', () => {
      expectConfigError(() => parseHostPort('mynode.local'), /no port.*mynode\.local:10009/);
      expectConfigError(() => parseHostPort('::1'), /IPv6.*\[::1\]:10009/);
    });
    it('refuses junk and bad ports', () => {
      expectConfigError(() => parseHostPort(''), /not a valid host:port/);
      expectConfigError(() => parseHostPort('http://node:10009'), /not a valid host:port/);
      expectConfigError(() => parseHostPort('node:0'), /invalid port/);
      expectConfigError(() => parseHostPort('node:70000'), /invalid port/);
      expectConfigError(() => parseHostPort('[zz::1]:10009'), /not a valid host:port|not an IPv6/);
      expectConfigError(() => parseHostPort('a b:10009'), /not a valid host:port/);
    });
  });

  describe('readTlsCert', () => {
    it('names the path of a missing file', () => {
      const p = path.join(dir, 'missing.cert');
      expectConfigError(() => readTlsCert(p), new RegExp(`not found: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });
    it('refuses a directory', () => {
      expectConfigError(() => readTlsCert(dir), /directory/);
    });
    it('refuses a file that is not PEM', () => {
      const p = path.join(dir, 'junk.cert');
      fs.writeFileSync(p, 'hello');
      expectConfigError(() => readTlsCert(p), /not a PEM certificate.*junk\.cert/);
    });
    it('refuses a PEM block that does not parse', () => {
      const p = path.join(dir, 'bad.cert');
      fs.writeFileSync(p, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      expectConfigError(() => readTlsCert(p), /could not be parsed.*bad\.cert/);
    });
    it('reports an unreadable file (when not root)', function () {
      if (process.getuid?.() === 0) this.skip();
      const p = path.join(dir, 'secret.cert');
      fs.writeFileSync(p, 'x');
      fs.chmodSync(p, 0);
      expectConfigError(() => readTlsCert(p), /not readable/);
    });
  });

  describe('readMacaroon', () => {
    it('accepts hex and binary files, and never echoes the value', () => {
      const bin = Buffer.from([2, 1, 6, 108, 110, 100, 255]);
      const p = path.join(dir, 'admin.macaroon');
      fs.writeFileSync(p, bin);
      assert.equal(readMacaroon({ path: p }), bin.toString('hex'));
      const hp = path.join(dir, 'hex.macaroon');
      fs.writeFileSync(hp, 'AB'.repeat(32) + '\n');
      assert.equal(readMacaroon({ path: hp }), 'ab'.repeat(32));
      assert.equal(readMacaroon({ hex: ' 0201AbCd ' }), '0201abcd');
    });
    it('explains missing, empty and non-hex macaroons without printing them', () => {
      expectConfigError(() => readMacaroon({ path: path.join(dir, 'nope.macaroon') }), /Macaroon file not found/);
      const empty = path.join(dir, 'empty.macaroon');
      fs.writeFileSync(empty, '');
      expectConfigError(() => readMacaroon({ path: empty }), /empty/);
      expectConfigError(() => readMacaroon({ hex: '' }), /empty/);
      const secretish = 'zz0201deadbeef';
      assert.throws(() => readMacaroon({ hex: secretish }), (e: Error) => !e.message.includes(secretish) && /not valid hex/.test(e.message));
      expectConfigError(() => readMacaroon({}), /No macaroon/);
    });
  });

  describe('classifyGrpcError', () => {
    const cases: [object, string, string, RegExp, boolean][] = [
      [{ code: 2, details: 'verification failed: signature mismatch after caveat verification' }, 'GetInfo', 'macaroon', /macaroon/, false],
      [{ code: 2, details: 'expected 1 macaroon, got 0' }, 'GetInfo', 'macaroon', /macaroon/, false],
      [{ code: 2, details: 'unmarshal v2: section extends past end of buffer' }, 'GetInfo', 'macaroon', /macaroon/, false],
      [{ code: 2, details: 'invalid ID' }, 'GetInfo', 'macaroon', /macaroon/, false],
      [{ code: 2, details: 'caveat "ipaddr 10.0.0.1" not satisfied: caveat not recognized' }, 'GetInfo', 'macaroon', /macaroon/, false],
      [{ code: 2, details: 'permission denied' }, 'SubscribeHtlcEvents', 'permission', /offchain:read/, false],
      [{ code: 7, details: 'denied' }, 'GetInfo', 'permission', /info:read/, false],
      [{ code: 2, details: 'wallet locked, unlock it to enable full RPC access' }, 'GetInfo', 'locked', /locked/, true],
      [{ code: 2, details: 'the RPC server is in the process of starting up, but not yet ready to accept calls' }, 'GetInfo', 'starting', /starting/, true],
      [{ code: 14, details: "No connection established. Last error: Error: Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1" }, 'GetInfo', 'certificate', /tlsextraip/, false],
      [{ code: 14, details: 'No connection established. Last error: Error: self-signed certificate' }, 'GetInfo', 'certificate', /certificate/, false],
      [{ code: 14, details: 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1' }, 'GetInfo', 'unreachable', /Cannot reach/, true],
      [{ code: 14, details: 'Connection dropped' }, 'SubscribeHtlcEvents', 'unreachable', /Cannot reach/, true],
      [{ code: 4, details: 'Deadline exceeded' }, 'GetInfo', 'stream', /in time/, true],
      [{ code: 12, details: 'unknown service routerrpc.Router' }, 'SubscribeHtlcEvents', 'unimplemented', /too old/, false],
    ];
    for (const [err, method, kind, pattern, retryable] of cases) {
      it(`${(err as { details: string }).details.slice(0, 50)} → ${kind}`, () => {
        const e = classifyGrpcError(err, method, '127.0.0.2:10009');
        assert.equal(e.kind, kind);
        assert.match(e.message, pattern);
        assert.equal(e.retryable, retryable);
      });
    }
  });

  describe('Backoff', () => {
    it('doubles from about 1 s up to 60 s with bounded jitter, and resets', () => {
      const b = new Backoff({ random: () => 0.5 });
      const delays = Array.from({ length: 10 }, () => b.next());
      assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
      b.reset();
      assert.equal(b.next(), 1000);
      const lo = new Backoff({ random: () => 0 });
      const hi = new Backoff({ random: () => 0.999999 });
      assert.equal(lo.next(), 800);
      assert.ok(hi.next() <= 1200);
      for (let i = 0; i < 20; i++) assert.ok(hi.next() <= 60_000);
    });
  });
});

describe('gRPC status codes (errors.ts keeps its own copy so that it does not load grpc-js)', () => {
  it('are grpc-js\'s numbers', () => {
    for (const [name, code] of Object.entries(GrpcStatus)) assert.equal(code, grpcStatus[name as keyof typeof grpcStatus], name);
  });
});
