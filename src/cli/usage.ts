import type { OptionSpec } from './args';

/**
 * Each command keeps its flags and their help in one CommandUsage beside its code: the parser reads
 * `flags`, `htlc-monitor <command> --help` prints the texts whole and `htlc-monitor --help` lists the
 * summaries.
 */
export interface CommandUsage {
  readonly name: string;
  /** What parseCommandArgs accepts (every one is described in `options`). */
  readonly flags: OptionSpec;
  /** Synopsis and what the command does, as listed under "Commands:" in `htlc-monitor --help`. */
  readonly summary: string;
  /** One or more lines per option, each saying its default when it has one. */
  readonly options: string;
  /** A command line to copy (lines may continue with a backslash). */
  readonly example: string;
}

export const HELP_OPTION = '  -h, --help          show this help';

/** What `htlc-monitor <command> --help` prints. */
export function commandHelp(u: CommandUsage): string {
  return `Usage: htlc-monitor ${u.name} [options]

${u.summary}

Options:
${u.options}
${HELP_OPTION}

Example:
  ${u.example.split('\n').join('\n  ')}
`;
}

/** The connection to LND, shared by watch and report. */
export const CONNECTION_OPTIONS = `  --lnd HOST:PORT     LND's gRPC address, e.g. 127.0.0.1:10009 or [::1]:10009
  --tls-cert FILE     LND's tls.cert (the connection is verified against it)
  --macaroon FILE     a macaroon with offchain:read and info:read (readonly.macaroon works)
  --tls-server-name N verify the certificate for name N (default: the host of --lnd)`;
