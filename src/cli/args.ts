import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** `--help` or `-h` after a command: main prints that command's usage (stdout, exit 0). */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
}

/**
 * Strict parsing: an unknown flag or a missing value is a UsageError with one clear line. A
 * `--help` or `-h` anywhere asks for the command's usage, even beside a mistake (`watch --lnd -h`):
 * whoever asks for help gets it rather than an error.
 */
export function parseCommandArgs<T extends OptionSpec>(command: { name: string; flags: T }, argv: string[]) {
  if (argv.some((a) => a === '--help' || a === '-h')) throw new HelpRequested(`${command.name} --help`);
  try {
    return parseArgs({ args: argv, options: command.flags, strict: true, allowPositionals: false });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${command.name}: ${msg.split('\n')[0]}`);
  }
}

export function parseDurationSeconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds, got "${text}"`);
  return n;
}
