/**
 * The node-session policy every runner goes through, whatever the resource
 * type: a borrowed connection that stops at the next statement once the run
 * is cancelled, the node's `query_timeout` as the session's statement_timeout
 * (reset afterwards), a re-run on a new connection when the connection was
 * lost and the profile's `retries` allow it, and the executed statements
 * written to target/run/… (no secret can be in them: see src/secrets.ts).
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import type { Adapter, Connection } from '../adapters/adapter.ts';
import type { ManifestNode } from '../parse/manifest.ts';
import type { ProjectConfig } from '../config/types.ts';
import { compiledPathOf } from '../compile/compile.ts';
import { isRetrySafe } from '../materializations/index.ts';
import { CancelledError, guardConnection, isCancellation, isConnectionLost } from './faults.ts';
import { queryTimeoutSeconds } from './run.ts';

export interface NodeSessionOptions {
  readonly adapter: Adapter;
  readonly project: ProjectConfig;
  readonly signal?: AbortSignal;
  /** The profile's `retries`: re-runs of a node that lost its connection, when safe. Default 0. */
  readonly retries?: number;
  /** Wait before the first retry, in ms (doubled each time, at most 10 s). Default 1000. */
  readonly retryDelayMs?: number;
  /** Something the user should know that did not fail the node (a retry, an unenforced timeout). */
  readonly warn: (node: ManifestNode, message: string) => void;
}

/** What runners get: connections under the policy, and target/run/ output. */
export interface NodeSession {
  /**
   * Runs `fn` on a borrowed connection under the policy (see the file header).
   * @throws CancelledError after a cancel; the last error when retries are exhausted or unsafe.
   */
  onConnection<T>(node: ManifestNode, fn: (conn: Connection) => Promise<T>): Promise<T>;
  /**
   * Writes the statements a node executed to target/run/<package>/<path> (nothing when empty), in the
   * background (the file system's latency off the run's path); {@link runFilesWritten} waits for them.
   */
  writeRunFile(node: ManifestNode, statements: readonly string[]): void;
  /** Resolves once every target/run file started so far is written (a write that failed is a warning on its node). */
  runFilesWritten(): Promise<void>;
}

/** Hooks are user SQL of unknown effect: a node with any is never re-run (see retry-safety.ts). */
function hasHooks(node: ManifestNode): boolean {
  const c = node.config as { pre_hook?: unknown[]; post_hook?: unknown[] };
  return (c.pre_hook?.length ?? 0) > 0 || (c.post_hook?.length ?? 0) > 0;
}

/** The policy for one invocation. */
export function createNodeSession(opts: NodeSessionOptions): NodeSession {
  const { adapter } = opts;
  const retries = Math.max(0, Math.floor(opts.retries ?? 0));
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const madeDirs = new Set<string>();
  const pendingWrites = new Set<Promise<void>>();
  return {
    async onConnection<T>(node: ManifestNode, fn: (conn: Connection) => Promise<T>): Promise<T> {
      let timeout = queryTimeoutSeconds(node);
      if (timeout !== null && !adapter.capabilities.cancel) {
        opts.warn(node, `query_timeout is not enforced on ${adapter.type}: a running statement cannot be interrupted there`);
        timeout = null;
      }
      for (let attempt = 0; ; attempt++) {
        try {
          return await adapter.withConnection(async (raw) => {
            const conn = guardConnection(raw, opts.signal);
            if (timeout !== null) await conn.query(`set statement_timeout = ${Math.max(1, Math.round(timeout * 1000))}`);
            try {
              return await fn(conn);
            } finally {
              if (timeout !== null) await raw.query('reset statement_timeout').catch(() => undefined);
            }
          });
        } catch (e) {
          if (opts.signal?.aborted) throw isCancellation(e) || isConnectionLost(e) ? new CancelledError() : e;
          if (attempt >= retries || !isConnectionLost(e) || !isRetrySafe(e) || hasHooks(node)) throw e;
          const wait = Math.min(10_000, retryDelayMs * 2 ** attempt);
          const reason = e instanceof Error ? e.message : String(e);
          opts.warn(node, `lost the connection to the database (${reason}); running it again on a new connection in ${(wait / 1000).toFixed(1)} s (retry ${attempt + 1} of ${retries})`);
          try {
            await sleep(wait, undefined, { signal: opts.signal });
          } catch {
            throw new CancelledError();
          }
        }
      }
    },
    writeRunFile(node: ManifestNode, statements: readonly string[]): void {
      if (!statements.length) return;
      const path = join(opts.project.root, compiledPathOf(opts.project, node, 'run'));
      const dir = dirname(path);
      if (!madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        madeDirs.add(dir);
      }
      const p = writeFile(path, statements.map((s) => s.trim() + ';').join('\n\n') + '\n').catch((e: unknown) => {
        opts.warn(node, `could not write ${path}: ${e instanceof Error ? e.message : String(e)}`);
      });
      pendingWrites.add(p);
      void p.then(() => pendingWrites.delete(p));
    },
    async runFilesWritten(): Promise<void> {
      while (pendingWrites.size) await Promise.all([...pendingWrites]);
    },
  };
}
