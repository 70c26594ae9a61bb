import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/cli';
import { LndSimulator, NO_HTLC_STREAM_PERMISSIONS } from '../../src/core/sim';
import { parseExposition } from './prom-parse';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('htlc-monitor watch as a daemon', function () {
  this.timeout(30_000);
  let sim: LndSimulator;
  let dir: string;
  afterEach(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--metrics serves /metrics and /healthz; alerts go to --alerts-file as JSON lines', async () => {
    sim = await LndSimulator.start({ seed: 4 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-daemon-'));
    const creds = await sim.writeCredentials(dir);
    const alertsFile = path.join(dir, 'alerts.jsonl');
    const stdout = new Capture();
    const stderr = new Capture();
    const done = main(
      ['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath, '--duration', '3', '--json', '--metrics', '127.0.0.1:0', '--alerts-file', alertsFile, '--alert-missed-fees', '1'],
      { stdout, stderr },
    );
    await until(() => /metrics on (http:\/\/\S+)\/metrics/.test(stderr.text), 'the metrics address');
    const base = /metrics on (http:\/\/\S+)\/metrics/.exec(stderr.text)![1];
    await sim.waitForStreams(1);
    sim.step(1500, { flush: true });
    await until(() => fs.existsSync(alertsFile) && fs.readFileSync(alertsFile, 'utf8').includes('"raised"'), 'an alert', 10_000);
    const h = await get(`${base}/healthz`);
    assert.equal(h.status, 200, h.body);
    const m = await get(`${base}/metrics`);
    const { samples } = parseExposition(m.body);
    assert.ok(samples.find((s) => s.name === 'htlc_monitor_node_failures_total')!.value > 0);
    assert.ok(samples.some((s) => s.name === 'htlc_monitor_process_cpu_seconds_total'), 'process metrics in the CLI');
    const code = await done;
    assert.equal(code, 0, stderr.text);
    const lines = fs.readFileSync(alertsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.every((l) => l.event === 'raised' || l.event === 'cleared'));
    const first = lines.find((l) => l.event === 'raised')!;
    assert.equal(first.kind, 'missed-fees');
    assert.match(first.scid, /^\d+x\d+x\d+$/);
    await assert.rejects(get(`${base}/healthz`), 'the server is closed at exit');
  });

  it('history-only when the stream is refused: successes only, and it says failures are not visible', async () => {
    sim = await LndSimulator.start({ seed: 4 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-daemon-'));
    const creds = await sim.writeCredentials(dir);
    const noStreamPath = path.join(dir, 'no-stream.macaroon');
    fs.writeFileSync(noStreamPath, sim.bakeMacaroon(NO_HTLC_STREAM_PERMISSIONS));
    sim.step(500, { flush: true }); // history before we start: not ours (monitoring starts now)
    const stdout = new Capture();
    const stderr = new Capture();
    const done = main(['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', noStreamPath, '--duration', '3', '--json', '--history-poll', '0.2'], { stdout, stderr });
    await until(() => stderr.text.includes('HISTORY-ONLY'), 'the history-only line');
    const before = sim.truth({ resolveAliases: false }).totals.settles;
    sim.step(800, { flush: true });
    const code = await done;
    assert.equal(code, 0, stderr.text);
    assert.match(stderr.text, /LND refused the HTLC event stream: .*offchain:read/);
    assert.match(stderr.text, /Failed forwards are NOT visible/);
    const doc = JSON.parse(stdout.text);
    assert.equal(doc.node.mode, 'history-only');
    assert.match(doc.node.modeReason, /offchain:read/);
    assert.equal(doc.node.failedForwards, 0);
    assert.equal(doc.node.successfulForwards, sim.truth({ resolveAliases: false }).totals.settles - before);
  });

  it('refuses a bad --metrics address with one line', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-daemon-'));
    const stderr = new Capture();
    const code = await main(['demo', '--metrics', 'localhost'], { stdout: new Capture(), stderr });
    assert.equal(code, 2);
    assert.match(stderr.text, /--metrics must be HOST:PORT/);
  });
});
