/**
 * File writes taken off the main thread for the large cold compile: one
 * worker thread per invocation (started on first use) writes, in the order
 * they were queued, the compiled SQL files of target/compiled/… and the big
 * JSON artifacts, while the main thread goes on rendering, parsing SQL and
 * building the next artifact. Creating 12,000 small files on ext4 costs
 * about a second of blocking system calls (more when the disk is shared);
 * the worker overlaps that with the rest of the compile.
 *
 * The same rules as the synchronous writers: a compiled file already holding
 * exactly the text is left alone (see write-compiled.ts), an artifact is
 * written to `<path>.<pid>.tmp` then renamed (see writeFileAtomic).
 * Every queued write is finished, and its error (the file system's) raised,
 * by {@link flushBackgroundWrites}, which the CLI awaits before every
 * command returns (src/cli/main.ts): nothing is left half-written on exit.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { writeCompiledFiles, type WriteCompiledStats } from './write-compiled.ts';
import type { CompiledNode } from './compile.ts';

/** Below this many files the writes stay on the main thread (a worker costs ~30 ms to start). */
export const BACKGROUND_MIN_FILES = 400;
/** Below this many characters an artifact is written on the main thread. */
export const BACKGROUND_MIN_CHARS = 1 << 20;

// Plain CommonJS run by the worker (eval: no loader, the same under tsx and in the bundle).
// Job shapes: {id, kind: 'compiled', files: [[absPath, text], …]} | {id, kind: 'atomic', path, text: Uint8Array}.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { mkdirSync, readFileSync, writeFileSync, renameSync } = require('node:fs');
const { dirname } = require('node:path');
const created = new Map();
parentPort.on('message', (job) => {
  try {
    if (job.kind === 'atomic') {
      const tmp = job.path + '.' + process.pid + '.tmp';
      writeFileSync(tmp, job.text);
      renameSync(tmp, job.path);
      parentPort.postMessage({ id: job.id });
      return;
    }
    let written = 0, unchanged = 0;
    for (const [path, text] of job.files) {
      const dir = dirname(path);
      let fresh = created.get(dir);
      if (fresh === undefined) { fresh = mkdirSync(dir, { recursive: true }) !== undefined; created.set(dir, fresh); }
      if (!fresh) {
        let current;
        try { current = readFileSync(path, 'utf8'); } catch { current = undefined; }
        if (current === text) { unchanged++; continue; }
      }
      writeFileSync(path, text);
      written++;
    }
    parentPort.postMessage({ id: job.id, stats: { written, unchanged } });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: { message: String(e && e.message || e), code: e && e.code, path: e && e.path } });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly stats?: WriteCompiledStats;
  readonly error?: { message: string; code?: string; path?: string };
}

let worker: Worker | null = null;
let nextId = 0;
const waiting = new Map<number, { resolve: (s: WriteCompiledStats | undefined) => void; reject: (e: Error) => void }>();
const queued: Promise<unknown>[] = [];

function post(job: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<WriteCompiledStats | undefined> {
  if (!worker) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (r: Reply) => {
      const k = waiting.get(r.id);
      if (!k) return;
      waiting.delete(r.id);
      if (!waiting.size) w.unref();
      if (r.error) k.reject(Object.assign(new Error(r.error.message), { code: r.error.code, path: r.error.path }));
      else k.resolve(r.stats);
    });
    w.on('error', (e) => {
      for (const k of waiting.values()) k.reject(e);
      waiting.clear();
      worker = null;
    });
    worker = w;
  }
  worker.ref(); // pending writes keep the process alive; an idle worker does not
  const id = nextId++;
  const p = new Promise<WriteCompiledStats | undefined>((resolve, reject) => waiting.set(id, { resolve, reject }));
  // Never an unhandled rejection: the error is raised by flushBackgroundWrites.
  p.catch(() => undefined);
  queued.push(p);
  worker.postMessage({ ...job, id }, transfer);
  return p;
}

/**
 * Queues each node's `compiledCode` for `<root>/<compiledPath>` (as
 * {@link writeCompiledFiles}); with fewer than {@link BACKGROUND_MIN_FILES}
 * files they are written at once on this thread instead.
 * @returns the written/unchanged counts once the files are on disk.
 * @throws (synchronously) the file system's error when written on this thread;
 *   a worker's error is raised by the returned promise and by {@link flushBackgroundWrites}.
 */
export function writeCompiledFilesInBackground(root: string, compiled: readonly Pick<CompiledNode, 'compiledPath' | 'compiledCode'>[]): Promise<WriteCompiledStats> {
  if (compiled.length < BACKGROUND_MIN_FILES) return Promise.resolve(writeCompiledFiles(root, compiled));
  const files: [string, string][] = new Array(compiled.length);
  for (let i = 0; i < compiled.length; i++) files[i] = [join(root, compiled[i].compiledPath), compiled[i].compiledCode];
  return post({ kind: 'compiled', files }) as Promise<WriteCompiledStats>;
}

/**
 * Writes `text` to `path` through a temporary file and a rename (as
 * writeFileAtomic in src/artifacts), on the worker when the text is longer
 * than {@link BACKGROUND_MIN_CHARS}, else at once. The caller must not read
 * the file before {@link flushBackgroundWrites}.
 */
export function writeFileAtomicInBackground(path: string, text: string, writeNow: (path: string, text: string) => void): void {
  if (text.length < BACKGROUND_MIN_CHARS) writeNow(path, text);
  else {
    // Encoded here and moved (not copied) to the worker: the string can go as soon as the caller drops it.
    const bytes = Buffer.from(text, 'utf8');
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    void post({ kind: 'atomic', path, text: data }, [bytes.buffer as ArrayBuffer]);
  }
}

/**
 * Waits for every queued write, stops the worker, and throws the first
 * write's error (the file system's, with its `code` and `path`).
 */
export async function flushBackgroundWrites(): Promise<void> {
  const all = queued.splice(0);
  const results = await Promise.allSettled(all);
  const w = worker;
  worker = null;
  if (w) await w.terminate();
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
