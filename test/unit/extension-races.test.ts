// Races in the extension's pipeline, reproduced by explicit ordering (no sleeps that depend on the
// machine's speed): concurrent start/stop of the ConnectionManager against the LND simulator.
import { strict as assert } from 'node:assert';
import { HtlcMonitor, type MonitorState } from '../../src/core/monitor';
import { LndSimulator } from '../../src/core/sim';
import type { ConnectionManager as CM } from '../../src/extension/connection/connectionManager';
import type { Log as L } from '../../src/extension/common/log';
import type { MacaroonStore } from '../../src/extension/connection/secrets';
import { drained, until } from './faults-helpers';
import { withVscodeStub } from './vscode-stub-loader';

/* eslint-disable @typescript-eslint/no-require-imports */
const { ConnectionManager } = withVscodeStub(() => require('../../src/extension/connection/connectionManager')) as { ConnectionManager: typeof CM };
const { DEFAULTS } = withVscodeStub(() => require('../../src/extension/config')) as typeof import('../../src/extension/config');
const { Log } = withVscodeStub(() => require('../../src/extension/common/log')) as { Log: typeof L };
/* eslint-enable @typescript-eslint/no-require-imports */

const macaroons = { get: async () => undefined } as unknown as MacaroonStore;

/** Every HtlcMonitor made while `fn` runs, to see which still run afterwards. */
function trackMonitors(): { all: HtlcMonitor[]; restore(): void } {
  const all: HtlcMonitor[] = [];
  const proto = HtlcMonitor.prototype as unknown as { start(this: HtlcMonitor): Promise<void> };
  const orig = proto.start;
  proto.start = function (this: HtlcMonitor) {
    all.push(this);
    return orig.call(this);
  };
  return { all, restore: () => void (proto.start = orig) };
}

const live = (ms: HtlcMonitor[]) => ms.filter((m) => !(['stopped', 'failed', 'idle'] as MonitorState[]).includes(m.state));

describe('extension races: ConnectionManager start/stop', function () {
  this.timeout(30_000);
  let sim: LndSimulator;
  let manager: CM;
  let tracked: ReturnType<typeof trackMonitors>;
  const config = () => ({ server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex });

  before(async () => {
    sim = await LndSimulator.start({ seed: 1313 });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    tracked = trackMonitors();
    manager = new ConnectionManager(new Log(), macaroons, { ...DEFAULTS }, false, {});
  });
  afterEach(async () => {
    tracked.restore();
    await manager.stop();
    for (const m of tracked.all) await m.stop();
    manager.dispose();
  });

  it('two starts at once (autostart on activation and "Start Monitoring"): one monitor runs, one stream, nothing counted twice', async () => {
    await Promise.all([manager.start(config()), manager.start(config())]);
    assert.equal(live(tracked.all).length, 1, `monitors still running: ${tracked.all.map((m) => m.state).join(', ')}`);
    assert.equal(manager.currentMonitor, live(tracked.all)[0]);
    await until(() => manager.state === 'connected' && sim.liveStreams >= 1, 'connected');
    const emitted = sim.step(300, { flush: true });
    await drained(manager.currentMonitor!, 1 + emitted); // subscribed_event, then the forwards
    const truth = sim.truth();
    assert.equal(manager.memoryWindows.totals('all').failures, truth.totals.linkFailures + truth.totals.downstream, 'each failure counted once in the windows');
    assert.equal(manager.stats.node.failedForwards, truth.totals.linkFailures + truth.totals.downstream, 'each failure counted once in the stats');
    await manager.stop();
    assert.equal(live(tracked.all).length, 0, "no monitor left running after stop");
    await until(() => sim.liveStreams === 0, 'no stream left open');
  });

  it('"Stop Monitoring" while a start is under way: nothing runs afterwards', async () => {
    const started = manager.start(config());
    const stopped = manager.stop();
    await Promise.all([started, stopped]);
    assert.equal(live(tracked.all).length, 0, `monitors still running: ${tracked.all.map((m) => m.state).join(', ')}`);
    assert.equal(manager.currentMonitor, undefined);
    assert.ok(!['connecting', 'connected', 'reconnecting'].includes(manager.state), manager.state);
    assert.equal(manager.running, false);
  });

  it('autostart (ifIdle) after a start the user asked for first leaves that monitor alone', async () => {
    await Promise.all([manager.start(config()), manager.start(config(), { ifIdle: true })]);
    assert.equal(tracked.all.length, 1, 'one monitor was made');
    assert.equal(live(tracked.all).length, 1);
  });

  it('a start while another is connecting replaces it: the first monitor is stopped first', async () => {
    const first = manager.start(config());
    await until(() => tracked.all.length === 1, 'the first monitor');
    const second = manager.start(config());
    await Promise.all([first, second]);
    assert.equal(tracked.all.length, 2);
    assert.equal(tracked.all[0].state, 'stopped');
    assert.equal(manager.currentMonitor, tracked.all[1]);
    assert.ok(live(tracked.all).length === 1 && live(tracked.all)[0] === tracked.all[1], "only the second runs");
  });
});
