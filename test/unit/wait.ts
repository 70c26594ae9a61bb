// Waiting in the unit tests (not a test file). A test waits for a condition, never for a length of
// time: how fast this machine is must not decide what a test sees.

/**
 * How long a wait may take before it fails. It only turns a hang into a failure that says what it
 * was waiting for, so it is far above what a loaded 2-core machine needs, and below mocha's timeout
 * (.mocharc.json), so that this message, not mocha's, is the one reported.
 */
export const WAIT_MS = 60_000;

/** Waits until cond() holds, polling; fails with what it was waiting for. */
export async function until(cond: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until the async cond() holds, polling (e.g. over HTTP); fails with what it was waiting for. */
export async function untilAsync(cond: () => Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** At least `ms` of wall time: for a minimum duration only, never to let something happen meanwhile. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
