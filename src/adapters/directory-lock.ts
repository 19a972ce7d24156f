/**
 * An exclusive lock on a directory, between processes and within one process.
 *
 * PGlite has no lock of its own: two processes opening one data directory silently
 * lose writes. We keep `<dir>/tsdbt.lock`, created with O_EXCL, holding the owner's
 * pid, hostname and a random token. A lock whose pid is no longer running on this
 * host is stale and is taken over (under a short-lived `tsdbt.lock.break` guard, so
 * two processes cannot both break it and both believe they hold it).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsdbtError } from '../errors.ts';

/** Name of the lock file inside the locked directory. */
export const LOCK_FILE = 'tsdbt.lock';

interface LockContent {
  pid: number;
  hostname: string;
  token: string;
  since: string;
}

/** Locks held by this process: lock path → token. Used for stale detection and the exit handler. */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [path, token] of held) removeIfOurs(path, token);
  });
}

function readLock(path: string): LockContent | 'unreadable' | 'missing' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return 'unreadable';
  }
  try {
    const c = JSON.parse(text) as LockContent;
    if (typeof c.pid === 'number' && typeof c.token === 'string') return c;
  } catch {
    // being written right now, or garbage
  }
  return 'unreadable';
}

function removeIfOurs(path: string, token: string): void {
  const c = readLock(path);
  if (typeof c === 'object' && c.token === token) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * When process `pid` started (ms since the epoch), from Linux's /proc; undefined
 * elsewhere or when unreadable. Field 22 of /proc/<pid>/stat is the start time in
 * clock ticks since boot (USER_HZ, 100 on Linux), /proc/stat's `btime` the boot time.
 */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the command name may hold spaces
    const ticks = Number(fields[19]); // field 22 overall; fields[0] is field 3
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return btime * 1000 + (ticks * 1000) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder recorded in `c` is certainly gone. Locks from another host are
 * never stale. A live pid that started after the lock was taken is another process
 * that reuses the number of a killed holder (kill -9 leaves the file): stale too.
 */
function isStale(path: string, c: LockContent): boolean {
  if (c.hostname !== hostname()) return false;
  if (c.pid === process.pid) return held.get(path) !== c.token; // a previous process that had our pid
  if (!processAlive(c.pid)) return true;
  const started = processStartMs(c.pid);
  const since = Date.parse(c.since);
  return started !== undefined && Number.isFinite(since) && started > since + 30_000; // margin: clock steps
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Removes the lock at `path` if it still holds `expectedToken` (or is unreadable and old), under a guard. */
function breakLock(path: string, expectedToken: string | null): void {
  const guard = path + '.break';
  let fd: number;
  try {
    fd = openSync(guard, 'wx');
  } catch (err) {
    // Someone else is breaking it; a guard left by a crash is removed after 10 s.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && ageMs(guard) > 10_000) {
      try {
        unlinkSync(guard);
      } catch {
        // raced
      }
    }
    return;
  }
  try {
    const now = readLock(path);
    const same = expectedToken === null ? now === 'unreadable' : typeof now === 'object' && now.token === expectedToken;
    if (same) unlinkSync(path);
  } catch {
    // raced with another remover
  } finally {
    closeSync(fd);
    try {
      unlinkSync(guard);
    } catch {
      // ignore
    }
  }
}

/** A held lock. `release()` is idempotent. */
export interface DirectoryLock {
  readonly path: string;
  release(): void;
}

export interface LockOptions {
  /** How long to wait for another holder to let go, in ms (default 10 000). 0 = fail at once. */
  readonly timeoutMs?: number;
  /** Called once when we start waiting (e.g. for the CLI to say so); the lock module prints nothing. */
  readonly onWait?: (holder: { pid: number; hostname: string; since: string }) => void;
}

/**
 * Takes the lock on directory `dir` (which must exist), waiting up to `timeoutMs`
 * while another live process, or another adapter in this process, holds it.
 *
 * @throws TsdbtError `database-locked` naming the directory and the holder's pid
 *   when the lock is still held after the timeout.
 */
export async function lockDirectory(dir: string, options: LockOptions = {}): Promise<DirectoryLock> {
  const path = join(dir, LOCK_FILE);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const token = randomUUID();
  const content: LockContent = { pid: process.pid, hostname: hostname(), token, since: new Date().toISOString() };
  let waited = false;
  let unreadableSince: number | undefined;
  let delay = 50;

  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(content));
      } finally {
        closeSync(fd);
      }
      held.set(path, token);
      installExitHook();
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          if (held.get(path) === token) held.delete(path);
          removeIfOurs(path, token);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }

    const holder = readLock(path);
    if (holder === 'missing') continue;
    if (holder === 'unreadable') {
      // Either being written this instant, or left half-written by a crash.
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > 2000 && ageMs(path) > 2000) {
        breakLock(path, null);
        continue;
      }
    } else {
      unreadableSince = undefined;
      if (isStale(path, holder)) {
        breakLock(path, holder.token);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder.pid === process.pid ? `another adapter in this process (pid ${holder.pid})` : `process ${holder.pid}${holder.hostname !== hostname() ? ` on ${holder.hostname}` : ''}`;
        throw new TsdbtError('database-locked', `the PGlite database in ${dir} is in use by ${who} since ${holder.since}`, {
          kind: 'project',
          hint: `Wait for the other tsdbt command to finish, or stop process ${holder.pid}. If no such process is running tsdbt, delete ${path}.`,
        });
      }
      if (!waited) {
        waited = true;
        options.onWait?.({ pid: holder.pid, hostname: holder.hostname, since: holder.since });
      }
    }
    const remaining = deadline - Date.now();
    await sleep(Math.max(10, Math.min(delay, remaining > 0 ? remaining : delay)));
    delay = Math.min(delay * 2, 500);
  }
}
