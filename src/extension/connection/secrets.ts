import * as vscode from 'vscode';
import { readMacaroon } from '../../core/lnd/config';
import { Disposable } from '../common/lifecycle';

const MACAROON_KEY = 'htlcMonitor.lnd.macaroonHex';

/**
 * The macaroon lives in VS Code's SecretStorage only (OS keychain or the web's encrypted store):
 * never in settings, never in a log. Values are validated hex before they are stored.
 */
export class MacaroonStore extends Disposable {
  private cached: string | undefined;
  private loaded = false;
  readonly onDidChange: vscode.Event<void>;

  constructor(private readonly secrets: vscode.SecretStorage) {
    super();
    const emitter = this._register(new vscode.EventEmitter<void>());
    this.onDidChange = emitter.event;
    this._register(secrets.onDidChange((e) => {
      if (e.key === MACAROON_KEY) {
        this.loaded = false;
        emitter.fire();
      }
    }));
  }

  async get(): Promise<string | undefined> {
    if (!this.loaded) {
      this.cached = (await this.secrets.get(MACAROON_KEY)) || undefined;
      this.loaded = true;
    }
    return this.cached;
  }

  async has(): Promise<boolean> {
    return (await this.get()) !== undefined;
  }

  /** Stores a macaroon given as hex (validated; throws LndError('config') with a clear message). */
  async storeHex(hex: string): Promise<string> {
    const clean = readMacaroon({ hex });
    await this.secrets.store(MACAROON_KEY, clean);
    this.cached = clean;
    this.loaded = true;
    return clean;
  }

  /** Imports a macaroon file (binary as LND writes it, or hex text) into secret storage. */
  async importFile(path: string): Promise<string> {
    return this.storeHex(readMacaroon({ path }));
  }

  async clear(): Promise<void> {
    await this.secrets.delete(MACAROON_KEY);
    this.cached = undefined;
    this.loaded = true;
  }
}
