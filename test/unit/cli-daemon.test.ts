import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/cli';
import { LndSimulator, NO_HTLC_STREAM_PERMISSIONS } from '../../src/core/sim';
import { startWatch } from './cli-session';
import { parseExposition } from './prom-parse';
import { until } from './wait';

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

describe('htlc-monitor watch as a daemon', function () {
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
    // ended below, once it has been looked at (a --duration could end it first on a slow machine)
    await using run = await startWatch(['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath, '--json', '--metrics', '127.0.0.1:0', '--alerts-file', alertsFile, '--alert-missed-fees', '1']);
    const base = run.base;
    await sim.waitForStreams(1);
    sim.step(1500, { flush: true });
    await until(() => fs.existsSync(alertsFile) && fs.readFileSync(alertsFile, 'utf8').includes('"raised"'), 'an alert');
    const h = await get(`${base}/healthz`);
    assert.equal(h.status, 200, h.body);
    const m = await get(`${base}/metrics`);
    const { samples } = parseExposition(m.body);
    assert.ok(samples.find((s) => s.name === 'htlc_monitor_node_failures_total')!.value > 0);
    assert.ok(samples.some((s) => s.name === 'htlc_monitor_process_cpu_seconds_total'), 'process metrics in the CLI');
    const { code, err } = await run.stop();
    assert.equal(code, 0, err);
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
    await using run = await startWatch(['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', noStreamPath, '--json', '--history-poll', '0.2']);
    await until(() => run.stderr().includes('HISTORY-ONLY'), 'the history-only line');
    const before = sim.truth({ resolveAliases: false }).totals.settles;
    sim.step(800, { flush: true });
    const settled = sim.truth({ resolveAliases: false }).totals.settles - before;
    await run.untilMetric('node_successes_total', (n) => n === settled, 'the settles polled from ForwardingHistory');
    const { code, out, err } = await run.stop();
    assert.equal(code, 0, err);
    assert.match(err, /LND refused the HTLC event stream: .*offchain:read/);
    assert.match(err, /Failed forwards are NOT visible/);
    const doc = JSON.parse(out);
    assert.equal(doc.node.mode, 'history-only');
    assert.match(doc.node.modeReason, /offchain:read/);
    assert.equal(doc.node.failedForwards, 0);
    assert.equal(doc.node.successfulForwards, settled);
  });

  it('refuses a bad --metrics address with one line', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-daemon-'));
    const stderr = new Capture();
    const code = await main(['demo', '--metrics', 'localhost'], { stdout: new Capture(), stderr });
    assert.equal(code, 2);
    assert.match(stderr.text, /--metrics must be HOST:PORT/);
  });
});
