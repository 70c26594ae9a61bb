import * as vscode from 'vscode';
import { isWindowId, WindowId } from '../shared/protocol';
import { Disposable } from './common/lifecycle';
import { setContext } from './common/contextKeys';

const WINDOW_KEY = 'htlcMonitor.view.window';
const ACTIONABLE_KEY = 'htlcMonitor.view.actionableOnly';

/** The tree's window and actionable-only filter: kept per workspace, mirrored into context keys. */
export class ViewState extends Disposable {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this._onDidChange.event;
  private _window: WindowId;
  private _actionableOnly: boolean;

  constructor(private readonly memento: vscode.Memento, defaultWindow: WindowId) {
    super();
    const w = memento.get<unknown>(WINDOW_KEY);
    this._window = isWindowId(w) ? w : defaultWindow;
    this._actionableOnly = memento.get<boolean>(ACTIONABLE_KEY) === true;
    this.publish();
  }

  get window(): WindowId {
    return this._window;
  }
  get actionableOnly(): boolean {
    return this._actionableOnly;
  }

  async setWindow(w: WindowId): Promise<void> {
    if (w === this._window) return;
    this._window = w;
    await this.memento.update(WINDOW_KEY, w);
    this.publish();
    this._onDidChange.fire();
  }

  async setActionableOnly(v: boolean): Promise<void> {
    if (v === this._actionableOnly) return;
    this._actionableOnly = v;
    await this.memento.update(ACTIONABLE_KEY, v);
    this.publish();
    this._onDidChange.fire();
  }

  private publish(): void {
    void setContext('htlcMonitor.actionableOnly', this._actionableOnly);
    void setContext('htlcMonitor.window', this._window);
  }
}
