import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('HTLC Monitor', { log: true });
  context.subscriptions.push(output);
  output.info('Lightning HTLC Monitor activated');
}

export function deactivate(): void {}
