import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { backfillClock } from '../../src/cli/sim';
import { spawnWatch } from './cli-session';

const cli = path.resolve(__dirname, '../../dist/cli.js');

/** Starts `htlc-monitor sim` and resolves with its ready line. */
function startSim(args: string[]) {
  const child = spawn(process.execPath, [cli, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += String(b)));
  const ready = new Promise<{ address: string; certPath: string; macaroonPath: string; pid: number }>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (c) => reject(new Error(`sim exited ${c}: ${stderr}`)));
  });
  // 'close', not 'exit': only then has all of its stderr been read
  const exited = new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  return { child, ready, exited, stderr: () => stderr };
}

/** `watch --json` on it until it has seen a failed forward on a channel, then SIGTERM (not a --duration: that races the connection). */
async function watchJson(ready: { address: string; certPath: string; macaroonPath: string }) {
  await using w = await spawnWatch(cli, ['watch', '--lnd', ready.address, '--tls-cert', ready.certPath, '--macaroon', ready.macaroonPath, '--json']);
  await w.untilMetric('failures_total', (n) => n > 0, 'a failed forward on a channel');
  const r = await w.stop();
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as { channels: { alias: string | null; failedForwards: number; firstSeen: string; lastFailureAt: string | null }[]; node: { alias: string } };
}

describe('htlc-monitor sim', function () {
  let dir: string;
  before(function () {
    if (!fs.existsSync(cli)) this.skip(); // `npm test` builds dist/ first
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-sim-'));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('runs standalone, writes credentials, serves `watch`, stops on SIGTERM and reuses its credentials on restart', async () => {
    const creds = path.join(dir, 'node');
    const a = startSim(['--port', '0', '--rate', '200', '--seed', '5', '--credentials', creds]);
    const ready = await a.ready;
    assert.match(ready.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(ready.certPath, path.join(creds, 'tls.cert'));
    assert.equal(ready.macaroonPath, path.join(creds, 'admin.macaroon'));
    for (const f of ['tls.cert', 'tls.key', 'admin.macaroon', 'readonly.macaroon']) assert.ok(fs.existsSync(path.join(creds, f)), f);
    const doc = await watchJson(ready);
    assert.ok(doc.channels.length > 0);
    assert.equal(doc.node.alias, 'sim-routing-node');
    for (const c of doc.channels) assert.doesNotMatch(c.alias ?? '', /[<>*=|"]/, 'plain aliases by default');
    const cert = fs.readFileSync(ready.certPath, 'utf8');
    const mac = fs.readFileSync(ready.macaroonPath);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.match(a.stderr(), /simulator stopped \(SIGTERM\)/);

    const port = ready.address.split(':')[1]!;
    const b = startSim(['--port', port, '--rate', '200', '--credentials', creds]);
    const again = await b.ready;
    assert.equal(again.address, ready.address, 'same port');
    assert.equal(fs.readFileSync(again.certPath, 'utf8'), cert, 'same certificate');
    assert.deepEqual(fs.readFileSync(again.macaroonPath), mac, 'same macaroon');
    assert.ok((await watchJson(again)).channels.length > 0, 'a client configured for the first run connects to the second');
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
  });

  it('--backfill spreads the first traffic over the past minutes', async () => {
    const s = startSim(['--rate', '400', '--credentials', path.join(dir, 'bf'), '--backfill', '30']);
    const ready = await s.ready;
    const doc = await watchJson(ready);
    s.child.kill('SIGTERM');
    await s.exited;
    const first = Math.min(...doc.channels.map((c) => Date.parse(c.firstSeen)));
    assert.ok(Date.now() - first > 60_000, `history reaches back (first event ${new Date(first).toISOString()})`);
  });

  it('refuses bad flags with a usage error', () => {
    const r = spawnSync(process.execPath, [cli, 'sim', '--port', 'x'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port must be an integer/);
  });
});

describe('backfillClock', () => {
  it('lags by the backfill, then runs fast until it meets real time, never going back', () => {
    let t = 1_000_000;
    const c = backfillClock(60_000, 10, () => t);
    assert.equal(c.now(), t - 60_000);
    t += 1000;
    c.warp();
    const seen: number[] = [];
    for (let i = 0; i < 100; i++) {
      seen.push(c.now());
      t += 100;
    }
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!);
    assert.equal(c.now(), t, 'caught up (60 s behind at 9x net speed: under 7 s)');
    assert.equal(backfillClock(0, 10, () => 5).now(), 5);
  });
});
