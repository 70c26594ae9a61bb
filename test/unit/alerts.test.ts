import { strict as assert } from 'node:assert';
import { Alert, AlertEngine, AlertQueue, alertJsonLine } from '../../src/core/alerts';
import { failure } from './store-helpers';

const H = 3_600_000;
const CH_A = 800_000n << 40n;
const CH_B = 800_001n << 40n;

/** A failure missing `sat` sat of fees on `chan` at `ts`. */
const miss = (chan: bigint, sat: number, ts: number) =>
  failure({ timestampMs: ts, outgoingChanId: chan, incomingAmtMsat: 10_000_000n + BigInt(sat) * 1000n, outgoingAmtMsat: 10_000_000n });

describe('AlertEngine (fake clock)', () => {
  let now: number;
  let engine: AlertEngine;
  beforeEach(() => {
    now = 100 * H;
    engine = new AlertEngine({ missedFeesSat: 1000, missedFeesWindowMs: H, streamDownMs: 10 * 60_000 }, { now: () => now });
  });

  it('raises when one channel misses more than N sat within the window, not at N', () => {
    engine.observe([miss(CH_A, 600, now - 10 * 60_000), miss(CH_A, 400, now - 5 * 60_000), miss(CH_B, 999, now)]);
    assert.deepEqual(engine.evaluate().raised, []);
    engine.observe([miss(CH_A, 1, now)]);
    const { raised } = engine.evaluate();
    assert.equal(raised.length, 1);
    assert.equal(raised[0].id, `missed-fees:${CH_A}`);
    assert.equal(raised[0].value, 1001);
    assert.match(raised[0].message, /800000x0x0 missed 1,001 sat of fees in the last 1 h/);
  });

  it('never repeats while the condition holds; raises again after it cleared', () => {
    engine.observe([miss(CH_A, 2000, now)]);
    assert.equal(engine.evaluate().raised.length, 1);
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      engine.observe([miss(CH_A, 500, now)]);
      assert.deepEqual(engine.evaluate().raised, [], 'no repeat while it holds');
    }
    now += 2 * H; // the window slid past every failure
    const c = engine.evaluate();
    assert.deepEqual(c.cleared, [`missed-fees:${CH_A}`]);
    engine.observe([miss(CH_A, 1500, now)]);
    assert.equal(engine.evaluate().raised.length, 1, 'a new episode alerts again');
  });

  it('ignores failures older than the window', () => {
    engine.observe([miss(CH_A, 5000, now - 2 * H)]);
    assert.deepEqual(engine.evaluate().raised, []);
  });

  it('"don\'t show again" mutes a channel, not the others', () => {
    engine.mute(CH_A.toString());
    engine.observe([miss(CH_A, 5000, now), miss(CH_B, 5000, now)]);
    assert.deepEqual(engine.evaluate().raised.map((a) => a.channelId), [CH_B.toString()]);
    const again = new AlertEngine({}, { now: () => now, muted: [CH_B.toString()] });
    again.observe([miss(CH_B, 5000, now)]);
    assert.deepEqual(again.evaluate().raised, [], 'muted keys survive a restart (globalState)');
  });

  it('raises stream-down after M minutes down, once, and clears when connected', () => {
    engine.setConnection('connected');
    engine.setConnection('reconnecting', 'stream', 'Cannot reach LND');
    now += 9 * 60_000;
    engine.setConnection('reconnecting', 'stream', 'Cannot reach LND'); // repeated states keep the start
    assert.deepEqual(engine.evaluate().raised, []);
    now += 2 * 60_000;
    const { raised } = engine.evaluate();
    assert.equal(raised.length, 1);
    assert.equal(raised[0].kind, 'stream-down');
    assert.match(raised[0].message, /11 min.*Cannot reach LND/);
    now += 60_000;
    assert.deepEqual(engine.evaluate().raised, []);
    engine.setConnection('connected', 'stream');
    assert.deepEqual(engine.evaluate().cleared, ['stream-down']);
  });

  it('history-only counts as down; stopping on purpose does not', () => {
    engine.setConnection('connected', 'history-only', 'permission');
    now += 11 * 60_000;
    assert.match(engine.evaluate().raised[0].message, /history-only|refuses/);
    engine.setConnection('stopped');
    assert.deepEqual(engine.evaluate().cleared, ['stream-down']);
  });

  it('writes JSON lines for the CLI', () => {
    engine.observe([miss(CH_A, 2000, now)]);
    const a = engine.evaluate().raised[0];
    const line = JSON.parse(alertJsonLine('raised', a, now));
    assert.equal(line.event, 'raised');
    assert.equal(line.kind, 'missed-fees');
    assert.equal(line.scid, '800000x0x0');
    assert.equal(JSON.parse(alertJsonLine('cleared', { id: a.id }, now)).id, a.id);
  });
});

describe('AlertQueue: one notification at a time', () => {
  const alert = (id: string): Alert => ({ id, kind: 'missed-fees', muteKey: id, raisedAtMs: 0, message: id, value: 1, threshold: 0 });

  it('shows one, queues the rest, shows the next when it is dismissed, drops cleared or muted ones', async () => {
    const shown: string[] = [];
    const resolvers: (() => void)[] = [];
    const valid = new Set(['a', 'b', 'c', 'd']);
    const q = new AlertQueue(
      (a) => {
        shown.push(a.id);
        return new Promise<void>((r) => resolvers.push(r));
      },
      (a) => valid.has(a.id),
    );
    q.push([alert('a'), alert('b')]);
    q.push([alert('b'), alert('c'), alert('d')]);
    assert.deepEqual(shown, ['a']);
    assert.deepEqual(q.pending.map((a) => a.id), ['b', 'c', 'd']);
    valid.delete('b'); // cleared while waiting
    resolvers.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(shown, ['a', 'c']);
    resolvers.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(shown, ['a', 'c', 'd']);
    resolvers.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.equal(q.current, undefined);
  });
});
