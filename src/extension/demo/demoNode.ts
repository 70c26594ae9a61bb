import type { Log } from '../common/log';
import type { ConnectionManager } from '../connection/connectionManager';
import { Disposable, toDisposable } from '../common/lifecycle';

/** The part of the simulator the demo uses. */
interface Simulator {
  readonly address: string;
  readonly certPem: string;
  readonly macaroonHex: string;
  stop(): Promise<void>;
  setMode(mode: 'ok' | 'down'): Promise<void>;
}

export interface DemoOptions {
  seed?: number;
  eventsPerSecond?: number;
}

/**
 * "HTLC: Start Demo Node": starts the built-in LND simulator on 127.0.0.1 (TLS, macaroon, an
 * ephemeral port) and monitors it, so the extension can be seen working without a node. Its
 * throwaway macaroon never reaches settings or secret storage. Stopping the monitor stops it.
 */
export class DemoNode extends Disposable {
  private sim: Simulator | undefined;

  constructor(private readonly manager: ConnectionManager, private readonly log: Log) {
    super();
    this._register(toDisposable(() => void this.sim?.stop()));
  }

  get running(): boolean {
    return this.sim !== undefined;
  }

  /** For tests: simulate the node going away and coming back. */
  async setMode(mode: 'ok' | 'down'): Promise<void> {
    await this.sim?.setMode(mode);
  }

  async start(opts: DemoOptions = {}): Promise<string> {
    await this.manager.stop();
    const { LndSimulator } = await loadSimulator();
    const seed = opts.seed ?? (Date.now() % 100_000);
    const sim: Simulator = await LndSimulator.start({ seed, eventsPerSecond: opts.eventsPerSecond ?? 40 });
    this.sim = sim;
    this.log.addSecret(sim.macaroonHex);
    this.log.info(`demo node (simulator, seed ${seed}) listening on ${sim.address}`);
    await this.manager.start(
      { server: sim.address, tlsCertPem: sim.certPem, macaroonHex: sim.macaroonHex },
      { demo: true, label: `demo node ${sim.address}` },
      async () => {
        if (this.sim === sim) this.sim = undefined;
        await sim.stop();
        this.log.info('demo node stopped');
      },
    );
    return sim.address;
  }
}

/** Set by esbuild.mjs in the extension bundle: the simulator's own bundle beside it. */
declare const __SIM_BUNDLE__: string | undefined;

type SimModule = typeof import('../../core/sim');

/**
 * The simulator, loaded when a demo starts: in the bundle it is dist/sim.js, kept out of
 * dist/extension.js so activation does not parse it (~300 KiB with its certificate generator);
 * run from source (tests), the module itself. Both specifiers are variables on purpose: esbuild
 * would bundle a literal one even in a branch that never runs.
 */
async function loadSimulator(): Promise<SimModule> {
  const specifier = typeof __SIM_BUNDLE__ === 'string' ? __SIM_BUNDLE__ : '../../core/sim';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(specifier) as SimModule;
}
