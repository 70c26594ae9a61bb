// Loads modules that import 'vscode' with faults-vscode-stub.ts in its place (not a test file).
import Module from 'node:module';
import * as path from 'node:path';

/** Runs `load` (a require of extension modules) with 'vscode' resolving to the stub. */
export function withVscodeStub<T>(load: () => T): T {
  const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const orig = M._resolveFilename;
  const stub = path.join(__dirname, 'faults-vscode-stub.ts');
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? orig.call(this, stub, ...rest) : orig.call(this, request, ...rest);
  };
  try {
    return load();
  } finally {
    M._resolveFilename = orig;
  }
}
