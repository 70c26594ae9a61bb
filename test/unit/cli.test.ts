import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { parseCommandArgs } from '../../src/cli/args';
import { COMMANDS, main } from '../../src/cli/cli';
import { LndSimulator } from '../../src/core/sim';
import { spawnWatch, startWatch } from './cli-session';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr });
  return { code, out: stdout.text, err: stderr.text };
}

describe('htlc-monitor CLI', function () {
  let sim: LndSimulator;
  let dir: string;
  let creds: { certPath: string; macaroonPath: string; readonlyMacaroonPath: string };
  let noOffchainPath: string;

  before(async () => {
    sim = await LndSimulator.start({ seed: 9 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htlc-cli-'));
    creds = await sim.writeCredentials(dir);
    noOffchainPath = path.join(dir, 'no-offchain.macaroon');
    fs.writeFileSync(noOffchainPath, sim.bakeMacaroon(['info:read', 'onchain:read', 'peers:read']));
  });
  after(async () => {
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const good = () => ['--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath];

  it('watch --json prints one JSON document, channels ranked by missed fees, uint64 as strings', async () => {
    await using session = await startWatch(['watch', ...good(), '--json']);
    await sim.waitForStreams(1);
    const emitted = sim.step(1500, { flush: true });
    await session.untilMetric('events_received_total', (n) => n === 1 + emitted, 'the events read');
    const { code, out, err } = await session.stop();
    assert.equal(code, 0, err);
    const doc = JSON.parse(out);
    assert.ok(doc.channels.length >= 3);
    for (const ch of doc.channels) {
      assert.match(ch.channelId, /^\d+$/);
      assert.match(ch.scid, /^\d+x\d+x\d+$/);
      assert.match(ch.missedFeesMsat, /^\d+$/);
      assert.match(ch.missedAmountMsat, /^\d+$/);
      assert.equal(typeof ch.failedForwards, 'number');
      assert.equal(typeof ch.failuresByReason, 'object');
      if (ch.lastFailureAt) assert.match(ch.lastFailureAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    }
    const fees = doc.channels.map((c: { missedFeesMsat: string }) => BigInt(c.missedFeesMsat));
    for (let i = 1; i < fees.length; i++) assert.ok(fees[i - 1] >= fees[i], 'ranked by missed fees');
    assert.equal(doc.node.pubkey, sim.identityPubkey);
    assert.equal(doc.counters.received, 1 + emitted);
    assert.ok(!out.includes(sim.macaroonHex) && !err.includes(sim.macaroonHex), 'macaroon never printed');
  });

  const bad: [string, () => string[], RegExp, number][] = [
    ['an unknown flag', () => ['watch', ...good(), '--colour'], /unknown option '--colour'/i, 2],
    ['an unknown command', () => ['wach'], /unknown command "wach"/, 2],
    ['a malformed HOST:PORT', () => ['watch', '--lnd', 'localhost', '--tls-cert', creds.certPath, '--macaroon', creds.macaroonPath], /no port/, 2],
    ['a missing cert file', () => ['watch', '--lnd', sim.address, '--tls-cert', path.join(dir, 'nope.cert'), '--macaroon', creds.macaroonPath], /TLS certificate not found: .*nope\.cert/, 2],
    ['a missing macaroon file', () => ['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', path.join(dir, 'nope.macaroon')], /Macaroon file not found: .*nope\.macaroon/, 2],
    ['a missing required flag', () => ['watch', '--lnd', sim.address], /--tls-cert FILE is required/, 2],
    ['a bad duration', () => ['watch', ...good(), '--duration', 'soon'], /--duration must be a positive number/, 2],
    ['a wrong macaroon', () => {
      const p = path.join(dir, 'wrong.macaroon');
      fs.writeFileSync(p, Buffer.from('0201036c6e640000', 'hex'));
      return ['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', p];
    }, /macaroon/, 1],
    ['a wrong cert', () => {
      const p = path.join(dir, 'other.cert');
      fs.writeFileSync(p, fs.readFileSync(path.join(__dirname, 'fixtures', 'other-tls.cert')));
      return ['watch', '--lnd', sim.address, '--tls-cert', p, '--macaroon', creds.macaroonPath];
    }, /certificate/, 1],
    ['a macaroon without offchain:read', () => ['watch', '--lnd', sim.address, '--tls-cert', creds.certPath, '--macaroon', noOffchainPath], /offchain:read/, 1],
  ];
  for (const [what, args, pattern, exitCode] of bad) {
    // Ends by itself (no --duration: a retry would never end) with its own reason (not a deadline)
    // and one line (no "Reconnecting in"): it failed at the first attempt, without waiting for
    // anything. How many milliseconds that took is this machine's business.
    it(`refuses ${what} with one clear line, at the first attempt`, async () => {
      const r = await run(args());
      assert.equal(r.code, exitCode, r.err);
      assert.match(r.err, pattern);
      assert.doesNotMatch(r.err, /did not answer .* in time/);
      const lines = r.err.trim().split('\n').filter((l) => !/^Run "htlc-monitor( \w+)? --help" for usage\.$/.test(l));
      assert.equal(lines.length, 1, `one line: ${r.err}`);
      assert.equal(r.out, '');
    });
  }

  it('the bundled CLI runs as a program (dist/cli.js)', async function () {
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    if (!fs.existsSync(cli)) this.skip(); // npm test builds it first
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /htlc-monitor <command>/);
    const badFlag = spawnSync(process.execPath, [cli, 'watch', '--nope'], { encoding: 'utf8' });
    assert.equal(badFlag.status, 2);
    assert.match(badFlag.stderr, /unknown option '--nope'/i);
    // stopped with SIGTERM once it has streamed, as a daemon is (a --duration may end before it connects)
    await using demo = await spawnWatch(cli, ['demo', '--json', '--rate', '300']);
    await demo.untilMetric('events_received_total', (n) => n > 1, 'events from the simulator');
    const r = await demo.stop();
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.ok(doc.counters.received > 1, 'the demo streamed events from the simulator');
  });
});

describe('htlc-monitor <command> --help', () => {
  const cli = path.resolve(__dirname, '../../dist/cli.js');

  /** The command line of the help's example, as argv after the command name. */
  const exampleArgs = (example: string) =>
    example
      .replace(/\\\n/g, ' ')
      .split(/\s+/)
      .filter(Boolean)
      .slice(2);

  for (const [name, usage] of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      it(`${name} ${flag}: its usage, options and an example on stdout, exit 0`, async () => {
        const r = await run([name, flag]);
        assert.equal(r.code, 0, r.err);
        assert.equal(r.err, '');
        assert.ok(r.out.startsWith(`Usage: htlc-monitor ${name} [options]\n`), r.out);
        const options = /\nOptions:\n([\s\S]*?)\n\n/.exec(r.out)?.[1] ?? '';
        for (const f of Object.keys(usage.flags)) assert.match(options, new RegExp(`^  --${f}\\b`, 'm'), `--${f} is described`);
        assert.match(options, /^ {2}-h, --help /m);
        assert.match(options, /\(default/, 'defaults are given');
        const example = /\nExample:\n {2}(htlc-monitor [\s\S]*)$/.exec(r.out)?.[1];
        assert.ok(example?.startsWith(`htlc-monitor ${name} `), r.out);
        assert.doesNotThrow(() => parseCommandArgs(usage, exampleArgs(example!)), 'the example is a valid command line');
      });
    }

    it(`${name} with an unknown option: one clear line and where help is, exit 2`, async () => {
      const r = await run([name, '--bogus']);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(r.err, `htlc-monitor: ${name}: Unknown option '--bogus'\nRun "htlc-monitor ${name} --help" for usage.\n`);
    });
  }

  it('help wins over a mistake beside it, and `help <command>` is the same as `<command> --help`', async () => {
    const asked = await run(['watch', '--lnd', '--help']);
    assert.equal(asked.code, 0, asked.err);
    assert.equal((await run(['help', 'report'])).out, (await run(['report', '-h'])).out);
    const unknown = await run(['help', 'wach']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "wach"/);
  });

  it('htlc-monitor --help: every command, and how to get its options', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    for (const [name, usage] of COMMANDS) {
      assert.ok(r.out.includes(usage.summary), `${name} is listed`);
      assert.match(r.out, new RegExp(`^  ${name} `, 'm'));
    }
    assert.match(r.out, /htlc-monitor <command> --help/);
  });

  it('the bundled CLI answers every command\'s --help and -h on stdout with exit 0', function () {
    if (!fs.existsSync(cli)) this.skip(); // npm test builds it first
    this.timeout(60_000);
    const names = ['watch', 'demo', 'sim', 'report', 'export'];
    assert.deepEqual([...COMMANDS.keys()], names);
    for (const name of names)
      for (const flag of ['--help', '-h']) {
        const r = spawnSync(process.execPath, [cli, name, flag], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${name} ${flag}: ${r.stderr}`);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`^Usage: htlc-monitor ${name} \\[options\\][\\s\\S]*\\nExample:\\n {2}htlc-monitor ${name} `));
      }
  });
});
