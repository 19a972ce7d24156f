/**
 * The embedded database (PGlite) after kill -9, and two processes on one data
 * directory. PGlite has no lock of its own (two processes silently lose writes);
 * tsdbt's directory lock (src/adapters/directory-lock.ts) admits one process,
 * takes over a lock whose process is dead, and otherwise refuses with
 * `database-locked` naming the holder. Real child processes, real kill -9.
 *
 * Models: base (table) → log (incremental, append: one row per run) → slow
 * (table, sleeps), run one at a time in that order.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createAdapter } from '../../src/adapters/index.ts';
import { pgliteTargetForDir } from '../../src/adapters/testing.ts';
import { TsdbtError } from '../../src/errors.ts';
import { LOCK_FILE } from '../../src/adapters/directory-lock.ts';
import { FaultProject } from './harness.ts';

const FILES = {
  'models/base.sql': "{{ config(materialized='table') }}\nselect {{ var('version', 1) }} as version",
  'models/log.sql': "{{ config(materialized='incremental') }}\nselect version from {{ ref('base') }}",
  'models/slow.sql': "{{ config(materialized='table') }}\nselect pg_sleep({{ var('sleep', 0) }}) is not null as slept, max(version) as version from {{ ref('log') }}",
};

describe('PGlite: kill -9 and two processes on one data directory', { concurrency: 1 }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  let dataDir: string;
  const state = async () => ({
    base: (await p.rows<{ version: number }>(`select version from ${p.schema}.base`)).map((r) => r.version),
    log: (await p.rows<{ version: number }>(`select version from ${p.schema}.log order by version`)).map((r) => r.version),
    slow: (await p.rows<{ version: number }>(`select version from ${p.schema}.slow`)).map((r) => r.version),
    relations: await p.relations(),
  });
  const run = (version: number, sleep = 0) => p.start('run', ['--vars', `{version: ${version}, sleep: ${sleep}}`]);

  before(async () => {
    p = await FaultProject.create(FILES, { engine: 'pglite' });
    dataDir = (/path: "([^"]+)"/.exec(readFileSync(join(p.dir, 'profiles.yml'), 'utf8')) ?? [])[1]!;
    const first = await run(1).done;
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('kill -9 mid-run: the directory reopens (stale lock taken over) with every committed relation intact; the next run completes', async () => {
    const a = run(2, 120);
    try {
      await a.waitForOutput(/OK created sql \S+ model \S+\.log/, 60000);
      await new Promise((r) => setTimeout(r, 500)); // slow is sleeping now
    } finally {
      a.child.kill('SIGKILL');
    }
    const ra = await a.done;
    assert.equal(ra.signal, 'SIGKILL');
    // The killed process's lock file is still there, naming a dead pid.
    const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as { pid: number };
    assert.equal(lock.pid, a.child.pid);
    // Reopened: base and log committed before the kill; slow's rebuild never committed.
    assert.deepEqual(await state(), { base: [2], log: [1, 2], slow: [1], relations: ['base', 'log', 'slow'] });
    const next = await run(3).done;
    assert.equal(next.code, 0, next.output);
    assert.deepEqual(await state(), { base: [3], log: [1, 2, 3], slow: [3], relations: ['base', 'log', 'slow'] });
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the lock is released at exit');
  });

  it('a second run waits for the first and then runs: both runs\' writes are kept, in order', async () => {
    const a = run(4, 3);
    await a.waitForOutput(/OK created sql \S+ model \S+\.log/);
    const b = run(5);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.output);
    assert.equal(rb.code, 0, rb.output);
    assert.deepEqual(await state(), { base: [5], log: [1, 2, 3, 4, 5], slow: [5], relations: ['base', 'log', 'slow'] });
  });

  it('a second run that cannot get the directory fails with database-locked naming the holder (exit 2) and writes nothing', async () => {
    const a = run(6, 120);
    try {
      await a.waitForOutput(/OK created sql \S+ model \S+\.log/, 60000);
      const rb = await run(7).done;
      assert.equal(rb.code, 2, rb.output);
      assert.match(rb.stderr, new RegExp(`\\[database-locked\\] the PGlite database in \\S+ is in use by process ${a.child.pid} since `));
      assert.match(rb.stderr, new RegExp(`hint: Wait for the other tsdbt command to finish, or stop process ${a.child.pid}`));
      assert.doesNotMatch(rb.output, /\n\s+at /, 'no stack trace');
    } finally {
      a.child.kill('SIGKILL');
      await a.done;
    }
    // A's base and log committed before it was killed mid-slow; B wrote nothing.
    assert.deepEqual(await state(), { base: [6], log: [1, 2, 3, 4, 5, 6], slow: [5], relations: ['base', 'log', 'slow'] });
  });

  it('kill -9 of the holder while a second run waits: the waiting run takes over and completes', async () => {
    const a = run(7, 120);
    let rb;
    try {
      await a.waitForOutput(/OK created sql \S+ model \S+\.log/, 60000);
      const b = run(8);
      await new Promise((r) => setTimeout(r, 1500)); // b is starting, then waiting for the directory
      a.child.kill('SIGKILL');
      rb = await b.done;
    } finally {
      a.child.kill('SIGKILL');
      await a.done;
    }
    assert.equal(rb.code, 0, rb.output);
    assert.deepEqual(await state(), { base: [8], log: [1, 2, 3, 4, 5, 6, 7, 8], slow: [8], relations: ['base', 'log', 'slow'] });
  });

  it('a lock whose pid now belongs to a process started after it was taken (pid reuse after kill -9) is stale; a live holder is not', async () => {
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'no tsdbt process holds the directory');
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const write = (since: string) =>
        writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid: other.pid, hostname: hostname(), token: 'reused', since }));
      // Taken 10 minutes before that process started: the holder is gone and its pid reused.
      write(new Date(Date.now() - 600_000).toISOString());
      const opened = await createAdapter(pgliteTargetForDir(dataDir, p.schema), { lockTimeoutMs: 1000 });
      await opened.close();
      // Taken after it started: a live holder; refused, naming it.
      write(new Date(Date.now() + 1000).toISOString());
      await assert.rejects(createAdapter(pgliteTargetForDir(dataDir, p.schema), { lockTimeoutMs: 500 }), (e: unknown) => {
        assert.ok(e instanceof TsdbtError && e.code === 'database-locked', String(e));
        assert.match(e.message, new RegExp(`in use by process ${other.pid} since `));
        return true;
      });
    } finally {
      other.kill('SIGKILL');
      rmSync(join(dataDir, LOCK_FILE), { force: true });
    }
    assert.deepEqual((await state()).relations, ['base', 'log', 'slow']);
  });
});
