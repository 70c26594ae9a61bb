// The packaged VSIX holds exactly what the extension needs at run time. Run after `npm run package`
// (`npm run test:package` does both); VSIX=<file> checks another file.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const vsixPath = process.env.VSIX ? path.resolve(process.env.VSIX) : path.join(root, `${pkg.name}-${pkg.version}.vsix`);
const MAX_BYTES = 3 * 1024 * 1024;

interface ZipEntry {
  name: string;
  compressedSize: number;
  size: number;
  method: number;
  localHeader: number;
}

/** Lists a zip's entries from its central directory (no zip64: a VSIX is small). */
export function listZip(buf: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry at ${p}`);
    const method = buf.readUInt16LE(p + 10);
    const localHeader = buf.readUInt32LE(p + 42);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    out.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), compressedSize, size, method, localHeader });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** One entry's bytes (stored or deflated). */
export function readZipEntry(buf: Buffer, e: ZipEntry): Buffer {
  const h = e.localHeader;
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  const data = buf.subarray(start, start + e.compressedSize);
  if (e.method === 0) return data;
  if (e.method === 8) return inflateRawSync(data);
  throw new Error(`${e.name}: unsupported compression method ${e.method}`);
}

describe('VSIX contents', () => {
  let zip: Buffer;
  let entries: ZipEntry[];
  before(function () {
    try {
      statSync(vsixPath);
    } catch {
      throw new Error(`${vsixPath} is missing: run \`npm run package\` first (or \`npm run test:package\`)`);
    }
    zip = readFileSync(vsixPath);
    entries = listZip(zip);
  });

  it('holds exactly the manifest, docs, bundle, protos, wasm and media', () => {
    const names = entries.map((e) => e.name).filter((n) => !n.endsWith('/')).sort();
    const protos = names.filter((n) => n.startsWith('extension/dist/protos/'));
    const expected = [
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/readme.md',
      'extension/changelog.md',
      'extension/LICENSE.txt',
      'extension/dist/extension.js',
      'extension/dist/extension.js.LEGAL.txt', // licences of the bundled dependencies
      'extension/dist/sim.js', // the demo node's simulator, loaded when a demo starts
      'extension/dist/sim.js.LEGAL.txt',
      'extension/dist/sql-wasm.wasm',
      'extension/media/htlc-monitor.svg',
      'extension/media/icon.png',
      'extension/media/webview.css',
      'extension/media/dist/webview.js',
      'extension/media/dist/webview.js.LEGAL.txt',
      ...protos,
    ].sort();
    assert.deepEqual(names, expected);
    assert.deepEqual(protos.map((n) => path.basename(n)).sort(), ['lightning.proto', 'router.proto']);
  });

  it('has no sources, tests, dependencies, source maps, benchmarks or docs images', () => {
    const bad = entries.filter((e) => /(^|\/)(src|test|out|node_modules|bench|docs|scripts|\.vscode-test)\/|\.map$|\.ts$|\.vsix$/.test(e.name));
    assert.deepEqual(bad.map((e) => e.name), []);
  });

  it(`is smaller than ${MAX_BYTES / 1024 / 1024} MB (and the bundle is minified)`, () => {
    const size = statSync(vsixPath).size;
    assert.ok(size < MAX_BYTES, `${size} bytes`);
    const ext = entries.find((e) => e.name === 'extension/dist/extension.js')!;
    const js = readZipEntry(zip, ext).toString('utf8');
    assert.equal(js.length > 0 && Buffer.byteLength(js), ext.size);
    assert.ok(!js.includes('//# sourceMappingURL'), 'production bundle without a source map link');
    // minified: long lines (template literals in dependencies keep some newlines, so no line count)
    const lines = js.split('\n');
    assert.ok(js.length / lines.length > 1000, `production bundle is minified (${lines.length} lines)`);
    console.log(`      ${path.basename(vsixPath)}: ${(size / 1024).toFixed(0)} KB, ${entries.length} entries`);
  });

  it('its package.json is the project manifest', () => {
    const m = JSON.parse(readZipEntry(zip, entries.find((e) => e.name === 'extension/package.json')!).toString('utf8')) as Record<string, unknown>;
    assert.equal(m.name, pkg.name);
    assert.equal(m.version, pkg.version);
    assert.equal(m.main, 'dist/extension.js');
  });
});
