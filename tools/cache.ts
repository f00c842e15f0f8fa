/**
 * The per-user cache for tools built or resolved on first run (Temporal CLI, Java test server classpath), kept
 * outside the repository so clones and worktrees share it, and a cross-process lock so two concurrent runs
 * (e.g. `npm start` and `npm test`) don't build the same thing twice.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatDuration, isPidAlive, onProcessExit, type Log } from './procs';

/** `$AI_CREDITS_CACHE`, else `~/.cache/ai-credits`. */
export function cacheDir(): string {
  const fromEnv = process.env.AI_CREDITS_CACHE;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  return path.join(os.homedir(), '.cache', 'ai-credits');
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  what: string;
}

export interface LockOptions {
  /** What the holder does, for the waiting message, e.g. "building the Temporal CLI". */
  what: string;
  log: Log;
  /** Give up waiting after this long (default 30 min). */
  timeoutMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readOwner(lockDir: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path.join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** True when the lock's holder is gone (crashed or killed), so the lock can be taken over. */
function isStale(lockDir: string): boolean {
  const owner = readOwner(lockDir);
  if (owner === undefined) {
    // Created but owner.json not written yet (or the writer died right then): stale after a grace period.
    try {
      return Date.now() - statSync(lockDir).mtimeMs > 30_000;
    } catch {
      return true; // vanished meanwhile
    }
  }
  return owner.host === os.hostname() && !isPidAlive(owner.pid);
}

/**
 * Runs `fn` while holding the lock `<cacheDir>/locks/<name>.lock` (a directory: mkdir is atomic). Waits while
 * another live process holds it; takes over locks left by dead processes.
 */
export async function withLock<T>(name: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const locksDir = path.join(cacheDir(), 'locks');
  mkdirSync(locksDir, { recursive: true });
  const lockDir = path.join(locksDir, `${name}.lock`);
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const start = Date.now();
  let announced = false;
  let lastBeat = start;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStale(lockDir)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      const owner = readOwner(lockDir);
      opts.log(
        `Waiting for another process${owner ? ` (pid ${owner.pid})` : ''} that is ${opts.what} ` +
          `(lock ${lockDir}; delete it if no such process runs)…`,
      );
      announced = true;
    } else if (Date.now() - lastBeat >= 30_000) {
      lastBeat = Date.now();
      opts.log(`  still waiting (${formatDuration(Date.now() - start)})…`);
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `Timed out after ${formatDuration(timeoutMs)} waiting for the lock ${lockDir} (another process is ` +
          `${opts.what}). If no other run is active, delete that directory and retry.`,
      );
    }
    await sleep(1000);
  }
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), what: opts.what };
  writeFileSync(path.join(lockDir, 'owner.json'), JSON.stringify(owner));
  const release = (): void => {
    rmSync(lockDir, { recursive: true, force: true });
  };
  const removeHook = onProcessExit(release);
  try {
    return await fn();
  } finally {
    removeHook();
    release();
  }
}
