// Issue 8, security: the macaroon never leaves the process (settings, logs, output, exports, the
// store), TLS is always verified against the given cert (no insecure path exists in src/), the
// webview runs only its own script (CSP with a nonce), and peer aliases stay text in Markdown.
// Also covered elsewhere: CSV formula escaping (store-export.test.ts, extension-data.test.ts),
// the browser proof of the webview (test/e2e), macaroon values never echoed in config errors
// (config.test.ts).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { LndSimulator, HOSTILE_ALIASES } from '../../src/core/sim';
import { LndClient } from '../../src/core/lnd/client';
import { LndError } from '../../src/core/lnd/errors';
import { escapeMarkdown, sanitizeText } from '../../src/extension/common/markdown';
import { startWatch } from './cli-session';
import { runCli, until } from './faults-helpers';
import { withVscodeStub } from './vscode-stub-loader';

const ROOT = path.resolve(__dirname, '../..');

function listFiles(dir: string, exts: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, exts));
    else if (exts.test(e.name)) out.push(p);
  }
  return out;
}

/** Every form a macaroon could leak in. */
function macaroonForms(mac: Buffer): { name: string; text: string }[] {
  const hex = mac.toString('hex');
  return [
    { name: 'hex', text: hex },
    { name: 'HEX', text: hex.toUpperCase() },
    { name: 'base64', text: mac.toString('base64') },
    { name: 'base64url', text: mac.toString('base64url') },
    // a tail of it (e.g. a truncated log line): the 32-byte signature at the end
    { name: 'signature hex', text: mac.subarray(mac.length - 32).toString('hex') },
  ];
}

function assertNoMacaroon(where: string, data: string | Buffer, mac: Buffer): void {
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : data;
  for (const f of macaroonForms(mac)) assert.ok(!text.includes(f.text), `the macaroon (${f.name}) appears in ${where}`);
  if (Buffer.isBuffer(data)) assert.ok(!data.includes(mac.subarray(mac.length - 32)), `the macaroon (raw bytes) appears in ${where}`);
}

describe('security: the macaroon never leaves the process', function () {
  let sim: LndSimulator;
  let dir: string;

  before(async () => {
    sim = await LndSimulator.start({ seed: 880 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-sec-'));
  });
  after(async () => {
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('not in a watch session: stdout, stderr (warnings included), the JSON, the --db file, nor its exports', async () => {
    const creds = await sim.writeCredentials(path.join(dir, 'creds'));
    const db = path.join(dir, 'history.sqlite');
    // ended (SIGTERM) once everything is read: a --duration may not even cover the reconnect here
    await using watch = await startWatch(['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath, '--json', '--db', db]);
    await sim.waitForStreams(1);
    const first = sim.step(1500, { flush: true });
    sim.cutStreams(); // a warning line on stderr, a reconnect (what was written before the cut is delivered)
    await sim.waitForStreams(1);
    const second = sim.step(500, { flush: true });
    await watch.untilMetric('events_received_total', (n) => n === 1 + first + 1 + second, 'the events of both streams read');
    const r = await watch.stop();
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /was interrupted.*Reconnecting in/, 'the session did log');
    const doc = JSON.parse(r.out);
    assert.ok(doc.counters.received > 1000 && doc.counters.reconnects === 1);
    assertNoMacaroon('stdout', r.out, sim.macaroon);
    assertNoMacaroon('stderr', r.err, sim.macaroon);
    assertNoMacaroon('the JSON document (reparsed)', JSON.stringify(doc), sim.macaroon);

    const exports = [
      await runCli(['export', '--db', db, '--format', 'json', '--window', 'all']),
      await runCli(['export', '--db', db, '--format', 'csv', '--table', 'channels', '--window', 'all']),
      await runCli(['export', '--db', db, '--format', 'csv', '--table', 'failures', '--window', 'all']),
    ];
    for (const e of exports) {
      assert.equal(e.code, 0, e.err);
      assert.ok(e.out.length > 100);
      assertNoMacaroon('an export', e.out + e.err, sim.macaroon);
    }
    // the store file and anything next to it (.prev, lock, journal), byte for byte
    const files = fs.readdirSync(dir).filter((f) => f !== 'creds');
    assert.ok(files.includes('history.sqlite'), files.join(','));
    for (const f of files) assertNoMacaroon(f, fs.readFileSync(path.join(dir, f)), sim.macaroon);
  });

  it('not in any error message: wrong node, permission, certificate, deadline', async () => {
    const other = await LndSimulator.start({ seed: 881 });
    // this node's own macaroon without info:read: GetInfo is refused for a missing permission
    const noInfo = sim.bakeMacaroon(['offchain:read']);
    try {
      const attempts: [string, Parameters<typeof LndClient.create>[0]][] = [
        ['another node', { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: other.macaroonHex }],
        ['no info:read', { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: noInfo.toString('hex') }],
        ['wrong cert', { server: sim.address, tlsCertPem: other.certPem, macaroonHex: other.macaroonHex }],
        ['nobody listening', { server: '127.0.0.1:1', tlsCertPem: other.certPem, macaroonHex: other.macaroonHex, callTimeoutMs: 2000 }],
      ];
      for (const [what, cfg] of attempts) {
        const c = LndClient.create(cfg);
        const err = await c.getInfo().then(
          () => undefined,
          (e: unknown) => e,
        );
        c.close();
        assert.ok(err instanceof LndError, `${what}: an LndError`);
        if (what === 'no info:read') assert.equal(err.kind, 'permission');
        for (const mac of [other.macaroon, other.readonlyMacaroon, noInfo]) assertNoMacaroon(`${what}: message/detail`, `${err.message}\n${err.detail ?? ''}\n${err.stack}`, mac);
      }
    } finally {
      await other.stop();
    }
  });

  it('not in settings: the manifest has a macaroon path setting only, never a value', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const keys = Object.keys(pkg.contributes.configuration.properties);
    const macaroonKeys = keys.filter((k) => /macaroon/i.test(k));
    assert.deepEqual(macaroonKeys, ['htlcMonitor.lnd.macaroonPath']);
    // the extension never writes a macaroon into a setting: only secret storage holds it
    for (const f of listFiles(path.join(ROOT, 'src/extension'), /\.ts$/)) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(/\.update\(\s*([^,]+),/g)) assert.ok(!/macaroon(?!Path)/i.test(m[1]), `${path.relative(ROOT, f)} updates ${m[1]}`);
    }
  });
});

describe('security: TLS is always verified against the given cert', () => {
  it('no insecure code path in src/: createInsecure, rejectUnauthorized, NODE_TLS_REJECT_UNAUTHORIZED, checkServerIdentity', () => {
    // An explicitly allowed, loopback-only insecure setting would be listed here; there is none.
    const allowed: string[] = [];
    const forbidden = /createInsecure|rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity|insecureSkipVerify/;
    const hits: string[] = [];
    const files = listFiles(path.join(ROOT, 'src'), /\.(ts|tsx|js|mjs|cjs)$/);
    assert.ok(files.length > 50, `scanned ${files.length} files`);
    for (const f of files) {
      fs.readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (forbidden.test(line)) hits.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(hits.filter((h) => !allowed.some((a) => h.startsWith(a))), []);
  });

  it('the client is built with createSsl(cert) only, and refuses to start without a cert', () => {
    const src = fs.readFileSync(path.join(ROOT, 'src/core/lnd/client.ts'), 'utf8');
    const ssl = [...src.matchAll(/credentials\.create(\w+)\(/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(ssl)].sort(), ['FromMetadataGenerator', 'Ssl']);
    assert.match(src, /createSsl\(cert\)/);
    assert.throws(() => LndClient.create({ server: '127.0.0.1:10009', macaroonHex: 'ab' }), (e: LndError) => e.kind === 'config' && /No TLS certificate/.test(e.message));
  });

  it("a server with another cert is refused even on loopback, and nothing is retried", async () => {
    const a = await LndSimulator.start({ seed: 882 });
    const b = await LndSimulator.start({ seed: 883 });
    try {
      const c = LndClient.create({ server: a.address, tlsCertPem: b.certPem, macaroonHex: a.macaroonHex });
      const err = (await c.getInfo().catch((e: unknown) => e)) as LndError;
      c.close();
      assert.equal(err.kind, 'certificate');
      assert.equal(err.retryable, false);
      await until(() => a.liveStreams === 0, 'no stream');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

// ------------------------------------------------------------------------------- webview & Markdown

describe('security: the webview runs only its own script', () => {
  type Panel = { prototype: { html(this: unknown, webview: unknown): string } };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OpportunitiesPanel } = withVscodeStub(() => require('../../src/extension/webview/opportunitiesPanel')) as { OpportunitiesPanel: Panel };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vscode = require('./faults-vscode-stub') as { Uri: { file(p: string): { toString(): string } } };
  const webview = {
    cspSource: 'https://*.vscode-cdn.net',
    asWebviewUri: (u: { toString(): string }) => ({ toString: () => `https://file+.vscode-resource.vscode-cdn.net${u.toString().replace(/^file:\/\//, '')}` }),
  };
  const build = () => OpportunitiesPanel.prototype.html.call({ deps: { extensionUri: vscode.Uri.file('/ext') } }, webview);

  it('CSP: default-src none, scripts by nonce only, no unsafe-inline/unsafe-eval; every script tag carries the nonce', () => {
    const html = build();
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    assert.ok(csp, 'a CSP meta tag');
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(directives['default-src'], ["'none'"]);
    const nonce = /^'nonce-([A-Za-z0-9+/=]{16,})'$/.exec(directives['script-src']?.[0] ?? '')?.[1];
    assert.ok(nonce && directives['script-src'].length === 1, `script-src is the nonce alone: ${directives['script-src']}`);
    assert.ok(!/unsafe-|\*|data:|https?:/.test(directives['script-src'].join(' ')), csp);
    assert.ok(!/unsafe-/.test(csp), `no unsafe-inline/unsafe-eval anywhere: ${csp}`);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length >= 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, new RegExp(`\\bnonce="${nonce}"`), 'script carries the nonce');
      assert.match(attrs, /\bsrc="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/media\/dist\/webview\.js"/, 'our own bundle');
      assert.equal(body.trim(), '', 'no inline script');
    }
    assert.equal((html.match(/<script\b/gi) ?? []).length, scripts.length, 'no unclosed script tags');
    assert.ok(!/\son[a-z]+\s*=/i.test(html), 'no inline event handlers');
    assert.ok(!/javascript:/i.test(html));
  });

  it('a fresh nonce for every page', () => {
    const n = (h: string) => /'nonce-([^']+)'/.exec(h)![1];
    assert.notEqual(n(build()), n(build()));
  });
});

describe('security: peer aliases in tree tooltips are Markdown text, never markup', () => {
  // markdown-it stands in for VS Code's renderer (HTML enabled and links linkified: the worst case)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const MarkdownIt = require('markdown-it') as new (o: object) => { render(s: string): string };
  const md = new MarkdownIt({ html: true, linkify: true });
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  /** What a user sees: one paragraph whose text is the alias itself. */
  function renderedText(alias: string): string {
    const html = md.render(escapeMarkdown(alias)).trim();
    if (html === '') return '';
    const m = /^<p>([\s\S]*)<\/p>$/.exec(html);
    assert.ok(m, `one paragraph: ${html}`);
    assert.ok(!/<[a-z]/i.test(m[1]), `no element in ${html}`);
    return decode(m[1]);
  }

  const hostile = [
    ...HOSTILE_ALIASES,
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(document.cookie)>',
    '[click](command:htlcMonitor.resetStatistics)',
    '![x](https://evil.example/t.png)',
    'https://evil.example/phish',
    'www.evil.example',
    '`code` **b** _i_ ~~s~~',
    '# heading',
    '> quote',
    '1. list',
    '- item',
    '| a | b |',
    '$(alert) $(zap~spin)',
    '&lt;entity&gt; &#x3C;img&#x3E;',
    'a\u202eevil\u2066x',
    'line\nbreak\r\n===',
    '<a href="javascript:alert(1)">x</a>',
    '\\*escaped\\*',
  ];
  for (const alias of hostile) {
    it(`shows ${JSON.stringify(alias)} as text`, () => {
      assert.equal(renderedText(alias), sanitizeText(alias, 200));
    });
  }

  it('any string renders as exactly its sanitized text (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'<>&[]()!*_`~#|\\-+.=:$"\'/ aZ09\n\t\u202e'.split('')), maxLength: 40 }), (s) => {
        assert.equal(renderedText(s), sanitizeText(s, 200));
      }),
      { numRuns: 500 },
    );
  });
});
