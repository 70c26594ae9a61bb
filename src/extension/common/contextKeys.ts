import * as vscode from 'vscode';

const values = new Map<string, unknown>();

/** Sets a `when`-clause context key, and remembers the value (VS Code offers no way to read one back). */
export function setContext(key: string, value: unknown): Thenable<unknown> {
  values.set(key, value);
  return vscode.commands.executeCommand('setContext', key, value);
}

/** The value this extension last set for a context key (tests). */
export function contextValue(key: string): unknown {
  return values.get(key);
}
