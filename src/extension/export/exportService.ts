import * as vscode from 'vscode';
import { formatLocalIso } from '../../core/time';
import type { ExportFormat, OpportunityRow, WindowId } from '../../shared/protocol';
import type { Log } from '../common/log';
import { opportunitiesToCsv, opportunitiesToJson } from './exporter';

export interface ExportRequest {
  format: ExportFormat;
  window: WindowId;
  rows: OpportunityRow[];
  node: string | null;
  source: string;
}

/** Writes an export where the user chooses (showSaveDialog), through the workspace file system. */
export class ExportService {
  /** Tests set this to skip the dialog. */
  saveTarget: (() => Promise<vscode.Uri | undefined>) | undefined;

  constructor(private readonly log: Log) {}

  render(req: ExportRequest): string {
    return req.format === 'csv'
      ? opportunitiesToCsv(req.rows)
      : opportunitiesToJson(req.rows, { window: req.window, generatedAt: formatLocalIso(Date.now()), node: req.node, source: req.source });
  }

  async export(req: ExportRequest): Promise<vscode.Uri | undefined> {
    const uri = await this.save({ name: `htlc-opportunities-${req.window}`, format: req.format, title: 'Export HTLC opportunities', text: () => this.render(req) });
    if (uri) this.log.info(`exported ${req.rows.length} opportunities (${req.format}, ${req.window}) to ${uri.toString(true)}`);
    return uri;
  }

  /** Asks where (or uses saveTarget) and writes `text()` there. */
  async save(what: { name: string; format: ExportFormat; title: string; text: () => string }): Promise<vscode.Uri | undefined> {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const name = `${what.name}-${stamp}.${what.format}`;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = this.saveTarget
      ? await this.saveTarget()
      : await vscode.window.showSaveDialog({
          title: what.title,
          saveLabel: 'Export',
          defaultUri: base ? vscode.Uri.joinPath(base, name) : undefined,
          filters: what.format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        });
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(what.text(), 'utf8'));
    return uri;
  }
}
