/**
 * Child process of the crash test (not a test file): opens the store given as argv[2] and records
 * and flushes batches in a loop, printing "flushed <total failures>" after each finished flush,
 * until it is killed.
 */
import * as fsp from 'node:fs/promises';
import { HtlcStore } from '../../src/core/store';
import { failure } from './store-helpers';

const BATCH = 2000;

async function main(): Promise<void> {
  const file = process.argv[2];
  const store = await HtlcStore.open(file, {
    flushIntervalMs: 0,
    maxRawEvents: 10_000_000,
    retentionDays: 100_000,
    fs: {
      // the real sequence (write, fsync, close), in small chunks so a kill can land inside it;
      // "writing" tells the parent the write phase has begun
      async writeFileDurable(path, data) {
        process.stdout.write('writing\n');
        const fh = await fsp.open(path, 'w', 0o600);
        try {
          for (let off = 0; off < data.byteLength; off += 16_384) await fh.write(data, off, Math.min(16_384, data.byteLength - off));
          await fh.sync();
        } finally {
          await fh.close();
        }
      },
    },
  });
  let total = store.windows('all').node.failures;
  process.stdout.write(`opened ${total}\n`);
  const t0 = Date.UTC(2026, 0, 1);
  for (;;) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) {
      const n = total + i;
      batch.push(failure({ timestampMs: t0 + n * 1000, outgoingChanId: BigInt(1 + (n % 50)), incomingChanId: BigInt(100 + (n % 7)), incomingHtlcId: BigInt(n), failureString: `event ${n}` }));
    }
    store.record(batch);
    await store.flush();
    total += BATCH;
    process.stdout.write(`flushed ${total}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
