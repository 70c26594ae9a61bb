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
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const name = `htlc-opportunities-${req.window}-${stamp}.${req.format}`;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = this.saveTarget
      ? await this.saveTarget()
      : await vscode.window.showSaveDialog({
          title: 'Export HTLC opportunities',
          saveLabel: 'Export',
          defaultUri: base ? vscode.Uri.joinPath(base, name) : undefined,
          filters: req.format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        });
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(this.render(req), 'utf8'));
    this.log.info(`exported ${req.rows.length} opportunities (${req.format}, ${req.window}) to ${uri.toString(true)}`);
    return uri;
  }
}
