// The little of the `vscode` API that extension modules touch when unit tested without VS Code
// (security.test.ts: the webview HTML builder; extension-races.test.ts and panel.test.ts: the
// connection manager, the analysis backend and the panel's message handling). Load such modules
// through withVscodeStub (vscode-stub-loader.ts).
import * as path from 'node:path';

class Uri {
  private constructor(readonly scheme: string, readonly fsPath: string) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.posix.join(base.fsPath, ...parts));
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

class Disposable {
  constructor(private readonly fn: () => void) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

/** Delivers events synchronously, like VS Code's. */
class EventEmitter<T> {
  private readonly listeners = new Set<(e: T) => void>();
  event = (listener: (e: T) => void): Disposable => {
    this.listeners.add(listener);
    return new Disposable(() => void this.listeners.delete(listener));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

const noop = () => undefined;

export = {
  Uri,
  Disposable,
  EventEmitter,
  ViewColumn: { One: 1, Active: -1 },
  window: {
    createOutputChannel: () => ({ debug: noop, info: noop, warn: noop, error: noop, trace: noop, show: noop, dispose: noop }),
    showInformationMessage: async () => undefined,
    showWarningMessage: async () => undefined,
    showErrorMessage: async () => undefined,
  },
  workspace: {},
  commands: { executeCommand: async () => undefined },
  env: {},
};
