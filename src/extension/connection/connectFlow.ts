import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { LndClient, LndConnectionConfig } from '../../core/lnd/client';
import { certAltNames, parseHostPort, readMacaroon, readTlsCert } from '../../core/lnd/config';
import type { GetInfoResponse } from '../../core/lnd/types';
import { sanitizeText } from '../common/markdown';
import type { Log } from '../common/log';
import { readSettings, updateSetting } from '../config';
import { ConnectionManager, describeError } from './connectionManager';
import type { MacaroonStore } from './secrets';

/** Why a value is wrong, in words the user can act on; undefined when it is fine. */
export function validateServer(text: string): string | undefined {
  try {
    parseHostPort(text);
    return undefined;
  } catch (err) {
    return describeError(err);
  }
}

export function validateCertPath(path: string): string | undefined {
  if (!path.trim()) return "Enter the path of LND's tls.cert (e.g. ~/.lnd/tls.cert).";
  try {
    readTlsCert(expand(path));
    return undefined;
  } catch (err) {
    return describeError(err);
  }
}

export function validateMacaroonHex(hex: string): string | undefined {
  try {
    readMacaroon({ hex });
    return undefined;
  } catch (err) {
    return describeError(err);
  }
}

export function validateMacaroonPath(path: string): string | undefined {
  if (!path.trim()) return 'Enter the path of a macaroon file (readonly.macaroon is enough).';
  try {
    readMacaroon({ path: expand(path) });
    return undefined;
  } catch (err) {
    return describeError(err);
  }
}

function expand(p: string): string {
  const t = p.trim();
  return t === '~' || t.startsWith('~/') ? (process.env.HOME ?? '') + t.slice(1) : t;
}

/** GetInfo against the given connection: resolves with the node's info or rejects with an LndError. */
export async function verifyConnection(config: LndConnectionConfig, timeoutMs = 10_000): Promise<GetInfoResponse> {
  const client = LndClient.create({ ...config, callTimeoutMs: timeoutMs });
  try {
    return await client.getInfo();
  } finally {
    client.close();
  }
}

type MacaroonChoice = { kind: 'stored' } | { kind: 'hex'; hex: string } | { kind: 'import'; path: string } | { kind: 'path'; path: string };

class FlowCancelled extends Error {}

const TITLE = 'Connect to LND';
const STEPS = 3;

/**
 * "HTLC: Connect to LND…": address → tls.cert → macaroon → GetInfo. Each step checks its input
 * as it is typed and says exactly what is wrong; the macaroon goes to secret storage only.
 */
export class ConnectFlow {
  constructor(private readonly manager: ConnectionManager, private readonly macaroons: MacaroonStore, private readonly log: Log) {}

  async run(): Promise<boolean> {
    const settings = readSettings();
    try {
      const server = await this.askServer(settings.server || '127.0.0.1:10009');
      const certPath = await this.askCert(settings.tlsCertPath);
      const mac = await this.askMacaroon(settings.macaroonPath);
      return await this.check(server, certPath, mac);
    } catch (err) {
      if (err instanceof FlowCancelled) return false;
      throw err;
    }
  }

  private askServer(initial: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const box = vscode.window.createInputBox();
      box.title = TITLE;
      box.step = 1;
      box.totalSteps = STEPS;
      box.value = initial;
      box.prompt = "LND's gRPC address as host:port (rpclisten in lnd.conf; 10009 by default)";
      box.placeholder = '127.0.0.1:10009, mynode.local:10009 or [::1]:10009';
      box.ignoreFocusOut = true;
      const validate = (v: string) => {
        const msg = validateServer(v);
        box.validationMessage = msg ? { message: msg, severity: vscode.InputBoxValidationSeverity.Error } : undefined;
        return msg;
      };
      validate(initial);
      let done = false;
      box.onDidChangeValue(validate);
      box.onDidAccept(() => {
        if (validate(box.value)) return;
        done = true;
        resolve(box.value.trim());
        box.hide();
      });
      box.onDidHide(() => {
        box.dispose();
        if (!done) reject(new FlowCancelled());
      });
      box.show();
    });
  }

  private async askCert(current: string): Promise<string> {
    for (;;) {
      type Item = vscode.QuickPickItem & { id: 'current' | 'browse' | 'type' };
      const items: Item[] = [];
      if (current) {
        const problem = validateCertPath(current);
        items.push({ id: 'current', label: '$(file) Use the configured tls.cert', description: current, detail: problem ? `$(error) ${problem}` : '$(check) a valid PEM certificate' });
      }
      items.push({ id: 'browse', label: '$(folder-opened) Choose the tls.cert file…' }, { id: 'type', label: '$(edit) Type its path…' });
      const pick = await this.quickPick<Item>(items, 2, "LND's TLS certificate (tls.cert in LND's directory): the connection is verified against it");
      let path: string | undefined;
      if (pick.id === 'current') path = current;
      else if (pick.id === 'browse') {
        const uris = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this tls.cert', title: "LND's tls.cert", filters: { Certificates: ['cert', 'crt', 'pem'], 'All files': ['*'] } });
        path = uris?.[0]?.fsPath;
      } else path = await this.inputPath(2, "Path of LND's tls.cert", '~/.lnd/tls.cert', validateCertPath);
      if (!path) continue;
      const problem = validateCertPath(path);
      if (!problem) return expand(path);
      void vscode.window.showErrorMessage(problem);
    }
  }

  private async askMacaroon(currentPath: string): Promise<MacaroonChoice> {
    for (;;) {
      type Item = vscode.QuickPickItem & { id: 'stored' | 'import' | 'hex' | 'path' };
      const items: Item[] = [];
      if (await this.macaroons.has()) items.push({ id: 'stored', label: '$(key) Keep the macaroon in secret storage' });
      items.push(
        { id: 'import', label: '$(folder-opened) Import a macaroon file…', detail: 'Copied into VS Code secret storage (readonly.macaroon is enough)' },
        { id: 'hex', label: '$(clippy) Paste a macaroon as hex…', detail: 'e.g. from `xxd -ps -u -c 1000 readonly.macaroon`; kept in secret storage' },
        { id: 'path', label: '$(file) Read a macaroon file at each connect…', detail: currentPath ? `Currently: ${currentPath}` : 'Its path is kept in settings (htlcMonitor.lnd.macaroonPath)' },
      );
      const pick = await this.quickPick<Item>(items, 3, 'A macaroon with info:read and offchain:read');
      if (pick.id === 'stored') return { kind: 'stored' };
      if (pick.id === 'hex') {
        const hex = await this.inputSecret();
        if (hex) return { kind: 'hex', hex };
        continue;
      }
      let path: string | undefined;
      if (pick.id === 'import' || !currentPath) {
        const uris = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this macaroon', title: 'Macaroon file', filters: { Macaroons: ['macaroon'], 'All files': ['*'] } });
        path = uris?.[0]?.fsPath;
      } else path = await this.inputPath(3, 'Path of the macaroon file', '~/.lnd/data/chain/bitcoin/mainnet/readonly.macaroon', validateMacaroonPath, currentPath);
      if (!path) continue;
      const problem = validateMacaroonPath(path);
      if (problem) {
        void vscode.window.showErrorMessage(problem);
        continue;
      }
      return pick.id === 'import' ? { kind: 'import', path: expand(path) } : { kind: 'path', path: expand(path) };
    }
  }

  private async check(server: string, certPath: string, mac: MacaroonChoice): Promise<boolean> {
    let macaroonHex: string | undefined;
    let macaroonPath: string | undefined;
    if (mac.kind === 'stored') macaroonHex = await this.macaroons.get();
    else if (mac.kind === 'hex') macaroonHex = readMacaroon({ hex: mac.hex });
    else if (mac.kind === 'import') macaroonHex = readMacaroon({ path: mac.path });
    else macaroonPath = mac.path;
    this.log.addSecret(macaroonHex);
    const config: LndConnectionConfig = { server, tlsCertPath: certPath, macaroonHex, macaroonPath };
    try {
      const info = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Checking LND at ${server}…`, cancellable: false },
        () => verifyConnection(config),
      );
      await this.save(server, certPath, mac, macaroonHex);
      this.log.info(`verified LND at ${server}: ${info.alias} (${info.version})`);
      void vscode.window.showInformationMessage(`Connected to LND "${sanitizeText(info.alias || info.identity_pubkey.slice(0, 16))}" (${sanitizeText(info.version)}). Monitoring started.`);
      await this.manager.start(config);
      return true;
    } catch (err) {
      let message = describeError(err);
      if (/certificate/i.test(message)) {
        const names = certAltNames(fs.readFileSync(certPath));
        if (names.length) message += ` The certificate covers: ${names.join(', ')}.`;
      }
      this.log.error(`connection check failed for ${server}: ${message}`);
      const choice = await vscode.window.showErrorMessage(`Cannot use LND at ${server}: ${message}`, 'Try Again', 'Save Anyway', 'Show Log');
      if (choice === 'Try Again') return this.run();
      if (choice === 'Save Anyway') await this.save(server, certPath, mac, macaroonHex);
      if (choice === 'Show Log') this.log.show();
      return false;
    }
  }

  private async save(server: string, certPath: string, mac: MacaroonChoice, macaroonHex: string | undefined): Promise<void> {
    await updateSetting('server', server);
    await updateSetting('tlsCertPath', certPath);
    if (mac.kind === 'path') {
      await updateSetting('macaroonPath', mac.path);
      await this.macaroons.clear(); // the file wins: no stale secret shadows it
    } else if (macaroonHex && mac.kind !== 'stored') {
      await this.macaroons.storeHex(macaroonHex);
    }
    await this.manager.resolveFromSettings();
  }

  private quickPick<T extends vscode.QuickPickItem>(items: T[], step: number, placeholder: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const qp = vscode.window.createQuickPick<T>();
      qp.title = TITLE;
      qp.step = step;
      qp.totalSteps = STEPS;
      qp.placeholder = placeholder;
      qp.items = items;
      qp.ignoreFocusOut = true;
      let done = false;
      qp.onDidAccept(() => {
        const sel = qp.selectedItems[0];
        if (!sel) return;
        done = true;
        resolve(sel);
        qp.hide();
      });
      qp.onDidHide(() => {
        qp.dispose();
        if (!done) reject(new FlowCancelled());
      });
      qp.show();
    });
  }

  private inputPath(step: number, prompt: string, placeholder: string, validate: (v: string) => string | undefined, value = ''): Promise<string | undefined> {
    return this.input({ step, prompt, placeholder, validate, value });
  }

  private inputSecret(): Promise<string | undefined> {
    return this.input({
      step: 3,
      prompt: 'The macaroon as hex (kept in VS Code secret storage, never in settings or logs)',
      validate: validateMacaroonHex,
      password: true,
    });
  }

  /** One validated step of the flow; resolves with the trimmed value, or undefined when dismissed. */
  private input(o: { step: number; prompt: string; placeholder?: string; validate: (v: string) => string | undefined; value?: string; password?: boolean }): Promise<string | undefined> {
    return new Promise((resolve) => {
      const box = vscode.window.createInputBox();
      box.title = TITLE;
      box.step = o.step;
      box.totalSteps = STEPS;
      box.prompt = o.prompt;
      if (o.placeholder) box.placeholder = o.placeholder;
      box.value = o.value ?? '';
      box.password = o.password ?? false;
      box.ignoreFocusOut = true;
      let result: string | undefined;
      const check = (v: string) => {
        const msg = v.trim() ? o.validate(v) : undefined;
        box.validationMessage = msg ? { message: msg, severity: vscode.InputBoxValidationSeverity.Error } : undefined;
        return msg;
      };
      box.onDidChangeValue(check);
      box.onDidAccept(() => {
        if (!box.value.trim() || check(box.value)) return;
        result = box.value.trim();
        box.hide();
      });
      box.onDidHide(() => {
        box.dispose();
        resolve(result);
      });
      box.show();
    });
  }
}
