/**
 * Two targets that share a schema (PostgreSQL). A `generate_schema_name` override
 * sends the models of targets `dev` and `other` (different target schemas, so
 * different run locks before this fix) to one schema. Run at the same time they
 * used to collide on `shared.t1__tsdbt_tmp` ("relation … does not exist").
 * Now each invocation builds under its own name (`t1__tsdbt_tmp_<token>`), a
 * live invocation's helper relation is never dropped by another run, and the
 * run lock can cover every schema a run writes (`schemas`), taken all at once.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresSkipReason, postgresTarget, uniqueSchemaName } from '../../src/adapters/testing.ts';
import { createAdapter } from '../../src/adapters/index.ts';
import { materialize } from '../../src/materializations/index.ts';
import { acquireRunLock } from '../../src/adapters/run-lock.ts';
import { INVOCATION_LOCK_CLASS, invocationLockKey } from '../../src/adapters/invocation-token.ts';
import { TsdbtError } from '../../src/errors.ts';
import { adminClient, FaultProject, pgSettings, until } from './harness.ts';

const skip = await postgresSkipReason();

describe('two targets writing one schema (postgres)', { skip, concurrency: 1 }, () => {
  let p: FaultProject;
  // Every case ends with the secrets grep: no output or artifact holds the password or a DBT_ENV_SECRET_ value.
  afterEach(async () => {
    await p?.assertNoLeaks();
  });
  let shared: string;
  const helpers = async () =>
    (await p.rows<{ relname: string }>(`select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where nspname = $1 and relname like '%\\_\\_tsdbt\\_%' order by 1`, [shared])).map((r) => r.relname);

  before(async () => {
    shared = uniqueSchemaName('flt');
    p = await FaultProject.create({
      'macros/generate_schema_name.sql': `{% macro generate_schema_name(custom_schema_name, node) %}${shared}{% endmacro %}`,
      'models/t1.sql': "{{ config(materialized='table') }}\nselect pg_sleep({{ var('sleep', 0) }}) is not null as slept, '{{ target.name }}' as built_by",
      'models/v1.sql': "select built_by from {{ ref('t1') }}",
    });
    const s = pgSettings();
    const target = (schema: string) =>
      Object.entries({ type: 'postgres', host: s.host, port: s.port, user: s.user, dbname: s.database, schema, threads: 2, connect_timeout: 5, retries: 0, ...(s.password ? { password: s.password } : {}) })
        .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
        .join('\n');
    writeFileSync(join(p.dir, 'profiles.yml'), `faults:\n  target: dev\n  outputs:\n    dev:\n${target(p.schema)}\n    other:\n${target(`${p.schema}_other`)}\n`);
    const first = await p.cli('run');
    assert.equal(first.code, 0, first.output);
  });
  after(async () => {
    const c = await adminClient();
    try {
      await c.query(`drop schema if exists "${shared}" cascade`);
    } finally {
      await c.end();
    }
    await p?.cleanup();
  });

  it('both targets run at once: both succeed in turn or side by side, one t1 is left, no helper relation remains', async () => {
    const a = p.start('run', ['--vars', '{sleep: 15}']); // long enough for the second CLI to start on a loaded machine
    await until('dev to be building t1', async () =>
      (await p.rows(`select 1 from pg_stat_activity where query like 'create table %t1\\_\\_tsdbt\\_tmp\\_%' and strpos(query, $1) > 0 and state = 'active'`, [shared])).length > 0,
    );
    const b = p.start('run', ['--target', 'other', '--vars', '{sleep: 0}']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.output);
    assert.equal(rb.code, 0, rb.output);
    assert.doesNotMatch(ra.output + rb.output, /does not exist|DeprecationWarning/);
    // With the run lock over every schema written, other waits for dev (naming it) and swaps last;
    // with the lock over the target schema only, both build at once under their own names and dev swaps last.
    const waited = new RegExp(`waiting for another tsdbt run on \\S+ \\(pid ${a.child.pid} on `).test(rb.stderr);
    assert.deepEqual(await p.rows(`select built_by from "${shared}".v1`), [{ built_by: waited ? 'other' : 'dev' }]);
    assert.deepEqual(await helpers(), []);
  });

  it('two invocations build the same relation of one schema at the same time under their own names (no run lock)', async () => {
    const adapters = await Promise.all([createAdapter(postgresTarget(p.schema)), createAdapter(postgresTarget(`${p.schema}_other`))]);
    try {
      assert.notEqual(adapters[0].invocationToken, adapters[1].invocationToken);
      const results = await Promise.all(
        adapters.map((adapter, i) =>
          adapter.withConnection((conn) =>
            materialize({ conn, adapter, relation: { schema: shared, identifier: 't2' }, sql: `select pg_sleep(1) is not null as slept, ${i} as who`, config: { materialized: 'table' }, fullRefresh: false }),
          ),
        ),
      );
      for (const [i, r] of results.entries()) {
        assert.equal(r.message, 'SELECT 1');
        assert.ok(r.statements.some((x) => x.includes(`"t2__tsdbt_tmp_${adapters[i].invocationToken}"`)), r.statements.join('\n'));
      }
      const who = await p.rows<{ who: number }>(`select who from "${shared}".t2`);
      assert.equal(who.length, 1);
      assert.deepEqual(await helpers(), []);
    } finally {
      await Promise.all(adapters.map((a) => a.close()));
    }
  });

  it("a live invocation's helper relation is left alone; once its connections are gone the next run drops it", async () => {
    const token = 'abc123';
    const holder = await adminClient();
    try {
      await holder.query('select pg_advisory_lock_shared($1::int4, $2::int4)', [INVOCATION_LOCK_CLASS, invocationLockKey(token)]);
      await holder.query(`create table "${shared}".t1__tsdbt_tmp_${token} as select 1 as x`);
      const r = await p.cli('run');
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(await helpers(), [`t1__tsdbt_tmp_${token}`]);
    } finally {
      await holder.end();
    }
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await helpers(), []);
    assert.deepEqual(await p.rows(`select built_by from "${shared}".t1`), [{ built_by: 'dev' }]);
  });
});

describe('run lock over several schemas (postgres)', { skip }, () => {
  const s = pgSettings();
  const config = { host: s.host, port: s.port, user: s.user, password: s.password, database: s.database };
  const base = uniqueSchemaName('lck');
  const [a, b, c] = [`${base}_a`, `${base}_b`, `${base}_c`];

  it('a run holding {a, b} excludes runs writing b, not runs writing only c; the message names the schema', async () => {
    const first = await acquireRunLock(config, { database: s.database, schema: a, schemas: [b], wait: false });
    try {
      await assert.rejects(
        acquireRunLock(config, { database: s.database, schema: c, schemas: [b], wait: false }),
        (e: unknown) => e instanceof TsdbtError && e.code === 'run-locked' && e.message.includes(`on schema ${b} of database`) && e.message.includes(`pid ${process.pid}`),
      );
      const other = await acquireRunLock(config, { database: s.database, schema: c, wait: false });
      await other.release();
    } finally {
      await first.release();
    }
    const again = await acquireRunLock(config, { database: s.database, schema: c, schemas: [b], wait: false });
    await again.release();
  });

  it('two waiting runs with overlapping sets in opposite orders never deadlock: all locks or none', async () => {
    const first = await acquireRunLock(config, { database: s.database, schema: a, schemas: [b], wait: false });
    const waits: string[] = [];
    const x = acquireRunLock(config, { database: s.database, schema: b, schemas: [c], wait: true, pollMs: 20, onWait: (h) => waits.push(`x:${h?.schema}`) });
    const y = acquireRunLock(config, { database: s.database, schema: c, schemas: [a], wait: true, pollMs: 20, onWait: (h) => waits.push(`y:${h?.schema}`) });
    await until('both to wait', async () => waits.length === 2, 5000, 20);
    await first.release();
    // x and y overlap on c: one gets both its locks, then the other once it is released.
    const winner = await Promise.race([x.then(() => 'x'), y.then(() => 'y')]);
    const loser = winner === 'x' ? y : x;
    const lock1 = await (winner === 'x' ? x : y);
    const raced = await Promise.race([loser.then(() => 'acquired'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    assert.equal(raced, 'waiting');
    await lock1.release();
    const lock2 = await loser;
    await lock2.release();
    assert.deepEqual(waits.sort(), [`x:${b}`, `y:${a}`]);
  });
});
