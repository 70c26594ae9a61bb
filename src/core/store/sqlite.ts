/**
 * Loads sql.js (SQLite compiled to WebAssembly) from disk, never over the network. The .wasm ships
 * beside the bundle (esbuild.mjs copies it to dist/sql-wasm.wasm); from the source tree and in
 * tests it is read from node_modules/sql.js/dist. The module promise is cached per process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { SqlJsStatic } from 'sql.js';

const WASM = 'sql-wasm.wasm';
let cached: { key: string; promise: Promise<SqlJsStatic> } | undefined;

/** Where the .wasm may be, in order: an explicit path, beside the bundle, then node_modules. */
export function wasmCandidates(explicit?: string): string[] {
  const out: string[] = [];
  if (explicit) out.push(explicit);
  out.push(path.join(__dirname, WASM));
  try {
    out.push(path.join(path.dirname(require.resolve('sql.js')), WASM));
  } catch {
    // not resolvable from a bundle: the walk below still finds a source checkout
  }
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    out.push(path.join(dir, 'node_modules', 'sql.js', 'dist', WASM));
  }
  return [...new Set(out)];
}

export function findWasm(explicit?: string): string {
  const candidates = explicit ? [explicit] : wasmCandidates();
  for (const p of candidates) {
    try {
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // try the next
    }
  }
  throw new Error(`sql-wasm.wasm not found (looked in: ${candidates.join(', ')})`);
}

/** The sql.js module, initialised once (the promise is cached; a failure is not). */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  const key = wasmPath ?? '';
  if (cached && cached.key === key) return cached.promise;
  const promise = (async () => {
    const file = findWasm(wasmPath);
    const bytes = fs.readFileSync(file);
    const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return initSqlJs({ wasmBinary });
  })();
  cached = { key, promise };
  promise.catch(() => {
    if (cached?.promise === promise) cached = undefined;
  });
  return promise;
}
