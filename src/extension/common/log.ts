import * as vscode from 'vscode';
import type { Logger } from '../../core/emitter';

/** Hex runs this long are macaroons (or worse), never pubkeys (66) or txids (64). */
const LONG_HEX = /[0-9a-fA-F]{80,}/g;

/**
 * The extension's log: a LogOutputChannel ("HTLC Monitor") behind a redactor that removes any
 * registered secret and any long hex run, so a macaroon can never reach the log.
 */
export class Log implements Logger, vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly secrets = new Set<string>();

  constructor(channel?: vscode.LogOutputChannel) {
    this.channel = channel ?? vscode.window.createOutputChannel('HTLC Monitor', { log: true });
  }

  addSecret(value: string | undefined): void {
    if (value && value.length >= 8) this.secrets.add(value.toLowerCase());
  }

  redact(message: string): string {
    let out = message;
    for (const s of this.secrets) out = out.split(s).join('<redacted>').split(s.toUpperCase()).join('<redacted>');
    return out.replace(LONG_HEX, '<redacted hex>');
  }

  debug(message: string): void {
    this.channel.debug(this.redact(message));
  }
  info(message: string): void {
    this.channel.info(this.redact(message));
  }
  warn(message: string): void {
    this.channel.warn(this.redact(message));
  }
  error(message: string): void {
    this.channel.error(this.redact(message));
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
