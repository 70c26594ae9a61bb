// `watch` and `demo` sessions for the CLI tests (not a test file). A session ends when the test has
// seen what it waits for, the way an operator ends one with Ctrl-C, rather than after a --duration
// that races the machine: on a loaded machine a few seconds may not even cover the connection.
// The session's own /metrics (--metrics on a free loopback port) shows how far it has got.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { main } from '../../src/cli/cli';
import { Capture } from './faults-helpers';
import { until, untilAsync } from './wait';

const METRICS_LINE = /metrics on (http:\/\/\S+)\/metrics/;

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface CliSession {
  /** http://host:port of the session's /metrics and /healthz. */
  readonly base: string;
  stdout(): string;
  stderr(): string;
  /** htlc_monitor_<name> from the session's /metrics, summed over its labels. */
  metric(name: string): Promise<number>;
  /** Waits until pred holds for htlc_monitor_<name>. */
  untilMetric(name: string, pred: (value: number) => boolean, what: string): Promise<void>;
  /** Ends the session as Ctrl-C does (SIGTERM); resolves with how it ended. Safe to call twice. */
  stop(): Promise<CliResult>;
  [Symbol.asyncDispose](): Promise<void>;
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

function withMetrics(argv: string[]): string[] {
  return argv.includes('--metrics') ? argv : [...argv, '--metrics', '127.0.0.1:0'];
}

function session(base: string, stdout: () => string, stderr: () => string, stop: () => Promise<CliResult>): CliSession {
  // Only the samples asked for are read: the exposition's format is prom-parse's business (and
  // right after the start, the CLI's process metrics may hold a NaN it does not take).
  const metric = async (name: string) => {
    const sample = new RegExp(`^htlc_monitor_${name}(?:\\{.*\\})? (\\S+)$`, 'gm');
    return [...(await get(`${base}/metrics`)).matchAll(sample)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  return {
    base,
    stdout,
    stderr,
    metric,
    untilMetric: (name, pred, what) => untilAsync(async () => pred(await metric(name)), what),
    stop,
    [Symbol.asyncDispose]: async () => void (await stop()),
  };
}

/**
 * Runs `htlc-monitor <argv>` in this process (main()) with --metrics added unless given; resolves
 * once its metrics server is up, before the monitor connects.
 */
export async function startWatch(argv: string[]): Promise<CliSession> {
  const out = new Capture();
  const err = new Capture();
  let code: number | undefined;
  const done = main(withMetrics(argv), { stdout: out, stderr: err }).then((c) => (code = c));
  await until(() => METRICS_LINE.test(err.text) || code !== undefined, 'the metrics address on stderr');
  if (code !== undefined) throw new Error(`the session ended before it started (exit ${code}): ${err.text}`);
  // Its SIGINT/SIGTERM handlers are in place by now: main() installs them a few microtasks after
  // printing this line, and the poll above only sees the line on a later turn of the event loop.
  const stop = async (): Promise<CliResult> => {
    if (code === undefined) process.emit('SIGTERM');
    return { code: await done, out: out.text, err: err.text };
  };
  return session(METRICS_LINE.exec(err.text)![1], () => out.text, () => err.text, stop);
}

/** The same with the bundled CLI (`node dist/cli.js <argv>`) as a child process. */
export async function spawnWatch(cliJs: string, argv: string[]): Promise<CliSession> {
  const child = spawn(process.execPath, [cliJs, ...withMetrics(argv)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  // 'close', not 'exit': only then has all of its output been read
  let code: number | undefined;
  const closed = new Promise<number>((resolve) => child.once('close', (c) => resolve((code = c ?? -1))));
  await until(() => METRICS_LINE.test(err) || code !== undefined, 'the metrics address on stderr');
  if (code !== undefined) throw new Error(`the session ended before it started (exit ${code}): ${err}`);
  const stop = async (): Promise<CliResult> => {
    if (code === undefined) child.kill('SIGTERM');
    return { code: await closed, out, err };
  };
  return session(METRICS_LINE.exec(err)![1], () => out, () => err, stop);
}
