import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { LndSimulator } from '../../src/core/sim';
import { untilAsync, WAIT_MS } from './wait';

const cli = path.resolve(__dirname, '../../dist/cli.js');
const CHANNELS = 2000;

/**
 * Reads like a slow consumer (`| jq` on a busy machine): a pause after every chunk, so the pipe
 * stays full and the CLI's writes stay queued in the process for a while.
 */
function readSlowly(stream: Readable, pauseMs = 15): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      stream.pause();
      setTimeout(() => stream.resume(), pauseMs);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

interface Started {
  child: ChildProcess;
  /** stderr so far. */
  err(): string;
  done: Promise<Run>;
}

/** Starts the bundled CLI with stdout to a slow pipe. */
function startCli(args: string[]): Started {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b) => (err += String(b)));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const out = readSlowly(child.stdout!);
  const done = Promise.all([exited, out]).then(([code, text]) => ({ code, out: text, err }));
  return { child, err: () => err, done };
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}


const REASONS: [string, string][] = [
  ['TEMPORARY_CHANNEL_FAILURE', 'INSUFFICIENT_BALANCE'],
  ['TEMPORARY_CHANNEL_FAILURE', 'HTLC_EXCEEDS_MAX'],
  ['FEE_INSUFFICIENT', 'NO_DETAIL'],
  ['INCORRECT_CLTV_EXPIRY', 'NO_DETAIL'],
];
const FAILURES = CHANNELS * REASONS.length;

describe('CLI output through a slow pipe, on a node with 2000 channels', function () {
  this.timeout(300_000);
  let sim: LndSimulator;
  let dir: string;
  let db: string;
  let watch: Run;

  /**
   * watch --json --db listens to the simulator, gets failures with every reason on every channel,
   * and is stopped with SIGTERM (as Ctrl-C) once it counted them all (its /metrics says so). The
   * reports below read the history it kept: what they print does not depend on how fast they ran.
   */
  before(async function () {
    if (!fs.existsSync(cli)) this.skip(); // `npm test` builds dist/ first
    sim = await LndSimulator.start({ seed: 31, channels: CHANNELS });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-cli-output-'));
    db = path.join(dir, 'history.sqlite');
    const creds = await sim.writeCredentials(dir);
    const lnd = ['--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath];
    const runs = [startCli(['watch', ...lnd, '--json', '--db', db, '--metrics', '127.0.0.1:0'])];
    try {
      await sim.waitForStreams(runs.length, WAIT_MS);
      const chans = sim.channels;
      chans.forEach((out, i) => {
        for (const [wireFailure, failureDetail] of REASONS)
          sim.linkFail({
            incomingChanId: chans[(i + 1) % chans.length]!.chanIdStr,
            outgoingChanId: out.chanIdStr,
            incomingAmtMsat: '1000150000',
            outgoingAmtMsat: '1000000000',
            wireFailure,
            failureDetail,
          });
      });
      const metrics = /metrics on (http:\/\/\S+)\/metrics/.exec(runs[0]!.err())?.[1];
      assert.ok(metrics, `the watch says where its metrics are: ${runs[0]!.err()}`);
      const counted = new RegExp(`^htlc_monitor_node_failures_total ${FAILURES}$`, 'm');
      await untilAsync(async () => counted.test(await get(`${metrics}/metrics`)), 'the watch to count every failure');
    } finally {
      for (const r of runs) r.child.kill('SIGTERM');
    }
    [watch] = await Promise.all(runs.map((r) => r.done));
  });
  after(async () => {
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('watch --json: the whole document arrives, every channel in it', () => {
    assert.equal(watch.code, 0, watch.err);
    const doc = wholeJson(watch.out) as { channels: { channelId: string; failedForwards: number }[]; node: { failedForwards: number } };
    assert.equal(doc.channels.length, CHANNELS);
    assert.equal(doc.node.failedForwards, FAILURES);
    for (const c of doc.channels) assert.equal(c.failedForwards, REASONS.length);
  });

  it('report --db --json, over the history the watch kept: the whole document arrives, every channel in it', async () => {
    const r = await startCli(['report', '--db', db, '--window', 'all', '--all', '--json']).done;
    assert.equal(r.code, 0, r.err);
    const doc = wholeJson(r.out) as { channels: { windows: Record<string, { failures: number }> }[] };
    assert.equal(doc.channels.length, CHANNELS);
    for (const c of doc.channels) assert.equal(c.windows['all']!.failures, REASONS.length);
  });

  it('report --db --csv and export, over the history the watch kept: the whole output arrives', async () => {
    const csv = await startCli(['report', '--db', db, '--window', 'all', '--all', '--csv']).done;
    assert.equal(csv.code, 0, csv.err);
    assertCsvComplete(csv.out, 150_000); // no advice without LND: shorter lines
    const exp = await startCli(['export', '--db', db, '--window', 'all']).done;
    assert.equal(exp.code, 0, exp.err);
    assert.equal((wholeJson(exp.out) as { failures: unknown[] }).failures.length, FAILURES);
  });
});

/** The test means something only if the output is far more than a pipe holds (64 KiB on Linux). */
function assertLarge(text: string, minBytes = 500_000): void {
  assert.ok(text.length > minBytes, `a result much larger than a pipe's buffer (${text.length} bytes)`);
}

function wholeJson(text: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    assert.fail(`not a whole JSON document (${text.length} bytes arrived): ${(err as Error).message}`);
  }
  assertLarge(text);
  return doc;
}

function assertCsvComplete(text: string, minBytes?: number): void {
  assert.ok(text.endsWith('\n'), `ends with a whole line (${text.length} bytes arrived)`);
  assertLarge(text, minBytes);
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0]!, /^window,channel_id,scid/);
  assert.equal(lines.length, CHANNELS + 1, 'a header and one line per channel');
  const ids = new Set(lines.slice(1).map((l) => l.split(',')[1]));
  assert.equal(ids.size, CHANNELS);
}
