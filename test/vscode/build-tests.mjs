// Bundles the integration suite (test/integration/suite/*.ts) to out/test/integration/suite/*.js
// for the extension host (plain CommonJS; vscode and mocha stay external), and the
// @vscode/test-electron runner to out/test/vscode/run-electron.js.
import * as esbuild from 'esbuild';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const suiteDir = path.join(root, 'test/integration/suite');
const outSuite = path.join(root, 'out/test/integration/suite');
rmSync(outSuite, { recursive: true, force: true });
const entries = readdirSync(suiteDir).filter((f) => f.endsWith('.ts') && (f === 'index.ts' || f.endsWith('.test.ts')));
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'inline', logLevel: 'warning' };
await esbuild.build({
  ...common,
  entryPoints: entries.map((f) => path.join(suiteDir, f)),
  outdir: outSuite,
  external: ['vscode', 'mocha'],
});
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'test/vscode/run-electron.ts')],
  outfile: path.join(root, 'out/test/vscode/run-electron.js'),
  external: ['@vscode/test-electron'],
});
// suites that start an LndSimulator of their own load the LND protos beside the bundle (protosDir())
cpSync(path.join(root, 'protos'), path.join(root, 'out/test/integration/protos'), { recursive: true });
console.log(`built ${entries.length} integration test files into ${path.relative(root, outSuite)}`);
