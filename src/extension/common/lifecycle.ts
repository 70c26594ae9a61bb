import * as vscode from 'vscode';

export interface IDisposable {
  dispose(): void;
}

/**
 * Base class for everything that owns registrations (as in microsoft/vscode-pull-request-github):
 * `_register` keeps a disposable and returns it; `dispose` disposes all of them once, in reverse
 * order of registration. Registering on a disposed object disposes the newcomer at once.
 */
export abstract class Disposable implements vscode.Disposable {
  private _isDisposed = false;
  private readonly _disposables: IDisposable[] = [];

  protected get isDisposed(): boolean {
    return this._isDisposed;
  }

  protected _register<T extends IDisposable>(value: T): T {
    if (this._isDisposed) value.dispose();
    else this._disposables.push(value);
    return value;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    const errors: unknown[] = [];
    while (this._disposables.length) {
      try {
        this._disposables.pop()!.dispose();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'several disposables threw');
  }
}

export function toDisposable(fn: () => void): IDisposable {
  return { dispose: fn };
}

/**
 * Runs `fn` at most once per `delayMs` (the first call schedules it; calls until it runs are
 * merged). Used to coalesce live updates.
 */
export class Throttle implements IDisposable {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly delayMs: number, private readonly fn: () => void) {}
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fn();
    }, this.delayMs);
  }
  get pending(): boolean {
    return this.timer !== undefined;
  }
  /** Runs now if something is pending. */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.fn();
  }
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
