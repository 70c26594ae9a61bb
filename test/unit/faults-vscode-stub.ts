// The little of the `vscode` API the webview HTML builder touches, so it can be unit tested
// (security.test.ts loads src/extension/webview/* with this in place of the real module).
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

export = {
  Uri,
  Disposable: class {
    constructor(private readonly fn: () => void) {}
    dispose(): void {
      this.fn();
    }
  },
  EventEmitter: class {
    event = () => ({ dispose() {} });
    fire(): void {}
    dispose(): void {}
  },
  ViewColumn: { One: 1, Active: -1 },
  window: {},
  workspace: {},
  commands: {},
  env: {},
};
