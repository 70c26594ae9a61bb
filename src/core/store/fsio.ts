/**
 * File operations of the store, behind a seam so tests can inject failures (ENOSPC, EACCES, EROFS)
 * even when they run as root, where chmod does not stop writes.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export interface StoreFs {
  /** Writes a new file (replacing any) and makes its content durable (fsync) before resolving. */
  writeFileDurable(file: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Hard link; may fail on file systems without them (the caller then copies). */
  link(existing: string, newPath: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Makes a rename in `dir` durable where the platform allows (a no-op where it does not). */
  fsyncDir(dir: string): Promise<void>;
}

export const nodeStoreFs: StoreFs = {
  async writeFileDurable(file, data) {
    const fh = await fsp.open(file, 'w', 0o600);
    try {
      let off = 0;
      while (off < data.byteLength) {
        const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
        if (bytesWritten <= 0) throw Object.assign(new Error(`short write to ${file}`), { code: 'EIO' });
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  link: (existing, newPath) => fsp.link(existing, newPath),
  copyFile: (from, to) => fsp.copyFile(from, to),
  unlink: (file) => fsp.unlink(file),
  async fsyncDir(dir) {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(dir, 'r');
      await fh.sync();
    } catch (err) {
      // Windows cannot open or fsync a directory; some file systems refuse: nothing more to do.
      const code = (err as NodeJS.ErrnoException).code;
      if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES', 'ENOTSUP', 'EBADF'].includes(code ?? '')) throw err;
    } finally {
      await fh?.close();
    }
  },
};

export function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Replaces `file` with `data` so that a crash at any instant leaves either the old or the new file:
 * write `<file>.tmp` + fsync, keep the current file as `<file>.prev` (hard link, else a copy;
 * `file` never disappears), rename the temporary over `file`, fsync the folder.
 */
export async function writeAtomic(io: StoreFs, file: string, data: Uint8Array, keepPrevious: boolean): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await io.writeFileDurable(tmp, data);
    if (keepPrevious && fs.existsSync(file)) {
      const prevTmp = `${file}.prev.tmp`;
      await io.unlink(prevTmp).catch(() => undefined);
      try {
        await io.link(file, prevTmp);
      } catch {
        await io.copyFile(file, prevTmp);
      }
      await io.rename(prevTmp, `${file}.prev`);
    }
    await io.rename(tmp, file);
  } catch (err) {
    await io.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await io.fsyncDir(path.dirname(file));
}

/** Renames a file we cannot use to `<file>.corrupt-<timestamp>` (never deletes it); returns the new path. */
export function moveAside(file: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let i = 1; fs.existsSync(target); i++) target = `${file}.corrupt-${stamp}-${i}`;
  fs.renameSync(file, target);
  return target;
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * An advisory lock (`<file>.lock`, created exclusively) so two processes — two VS Code windows on
 * the same node, or the CLI beside the extension — never overwrite each other's history. A lock
 * left by a dead process on this host is taken over.
 */
/** Lock files held by this process (a second store on the same file in-process must not take it). */
const heldHere = new Set<string>();

export class FileLock {
  private held = false;
  constructor(readonly lockFile: string) {}

  /** Takes the lock; returns the holder when another live process has it. */
  acquire(): LockInfo | undefined {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(this.lockFile, 'wx', 0o600);
        try {
          const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
          fs.writeSync(fd, JSON.stringify(info));
        } finally {
          fs.closeSync(fd);
        }
        this.held = true;
        heldHere.add(path.resolve(this.lockFile));
        return undefined;
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
      }
      const holder = readLock(this.lockFile);
      if (holder && heldHere.has(path.resolve(this.lockFile))) return holder;
      if (holder && !isStale(holder)) return holder;
      if (!holder && isFresh(this.lockFile)) return { pid: 0, host: 'unknown', startedAt: '' }; // being written
      try {
        fs.unlinkSync(this.lockFile); // stale: its process is gone
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
    }
    return readLock(this.lockFile) ?? { pid: 0, host: 'unknown', startedAt: '' };
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    heldHere.delete(path.resolve(this.lockFile));
    try {
      const holder = readLock(this.lockFile);
      if (holder && holder.pid === process.pid && holder.host === os.hostname()) fs.unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return { pid: v.pid, host: v.host, startedAt: String(v.startedAt ?? '') };
  } catch {
    // unreadable or half-written: treated as stale below
  }
  return undefined;
}

function isFresh(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

function isStale(holder: LockInfo): boolean {
  if (holder.host !== os.hostname()) return false; // cannot check another machine's processes
  // Our own pid but not held by this process: left by an earlier run that had the same pid (a
  // container's pid 1, say).
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return errorCode(err) === 'ESRCH';
  }
}
