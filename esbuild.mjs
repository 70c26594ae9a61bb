// Bundles the extension (vscode external) and the CLI, and copies what must ship beside them:
// the protos and sql.js's wasm. `node esbuild.mjs [--watch] [--production]`.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const root = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(root, 'dist');

function copyAssets() {
  mkdirSync(dist, { recursive: true });
  rmSync(path.join(dist, 'protos'), { recursive: true, force: true });
  cpSync(path.join(root, 'protos'), path.join(dist, 'protos'), { recursive: true });
  const sqlWasm = path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm');
  if (existsSync(sqlWasm)) cpSync(sqlWasm, path.join(dist, 'sql-wasm.wasm'));
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'linked',
};

const entries = [
  // The simulator (the demo node) is its own bundle, required when a demo starts: with its TLS
  // certificate generator it is ~300 KiB that activation would otherwise parse (issue 7: activation
  // went past 100 ms). See loadSimulator in src/extension/demo/demoNode.ts.
  {
    entryPoints: { extension: 'src/extension/extension.ts' },
    external: ['vscode', './sim.js'],
    define: { __SIM_BUNDLE__: JSON.stringify('./sim.js') },
  },
  { entryPoints: { sim: 'src/core/sim/index.ts' } },
  { entryPoints: { cli: 'src/cli/cli.ts' }, banner: { js: '#!/usr/bin/env node' } },
];
const webviewEntry = path.join(root, 'src/webview/main.ts');
if (existsSync(webviewEntry)) {
  // the webview bundle ships in the VSIX (media/**): no stale source map from a dev build
  if (production) rmSync(path.join(root, 'media', 'dist'), { recursive: true, force: true });
  entries.push({ entryPoints: { 'webview': webviewEntry }, platform: 'browser', format: 'iife', target: 'es2022', outdir: path.join(root, 'media', 'dist') });
}

copyAssets();
const contexts = await Promise.all(
  entries.map((e) => esbuild.context({ ...common, outdir: dist, ...e })),
);
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  for (const f of readdirSync(dist)) if (f === 'cli.js') { /* keep executable for `bin` */ }
}
