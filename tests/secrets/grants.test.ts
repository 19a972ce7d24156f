/**
 * The `grants` config with real roles, in the pattern the example project
 * shows (dbt_project.yml, README "Access"): a `loader` role builds, an
 * `analyst` role reads every layer, a `viewer` role reads only the mart.
 * Grants are off by default (`grants_enabled` var) so the project builds where
 * the roles do not exist. Roles are cluster-wide: each run uses unique names
 * and drops them afterwards.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { adminClient, FaultProject, pgSettings } from '../faults/harness.ts';

const skip = await postgresSkipReason();
const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const LOADER = `tsdbt_loader_${tag}`;
const ANALYST = `tsdbt_analyst_${tag}`;
const VIEWER = `tsdbt_viewer_${tag}`;

/** The example project's grants lines, with this run's role names. */
function projectYml(martReaders: string[]): string {
  const list = (roles: string[]) => JSON.stringify(roles).replace(/"/g, '\\"'); // inside a YAML "…" string
  return `name: faults
version: '1.0.0'
config-version: 2
profile: faults
models:
  faults:
    staging:
      +schema: staging
      +materialized: view
    dwh:
      +schema: dwh
      +materialized: table
    # Access: off unless --vars '{grants_enabled: true}' (the roles must exist then).
    +grants:
      select: "{{ ('${list([ANALYST])}' if var('grants_enabled', false) else '[]') | as_native }}"
    mart:
      +schema: mart
      +materialized: table
      +grants:
        select: "{{ ('${list(martReaders)}' if var('grants_enabled', false) else '[]') | as_native }}"
`;
}

/** Runs `sql` as `role` (set role on an admin connection); resolves to 'ok' or the error message. */
async function as(role: string, sql: string): Promise<string> {
  const c = await adminClient();
  try {
    await c.query(`set role ${role}`);
    await c.query(sql);
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end();
  }
}

describe('grants with real roles (postgres)', { skip }, () => {
  let p: FaultProject;
  let s: { staging: string; dwh: string; mart: string };
  before(async () => {
    const c = await adminClient();
    try {
      await c.query(`create role ${LOADER} login`);
      await c.query(`create role ${ANALYST} nologin`);
      await c.query(`create role ${VIEWER} nologin`);
      await c.query(`grant create on database ${pgSettings().database} to ${LOADER}`);
    } finally {
      await c.end();
    }
    p = await FaultProject.create(
      {
        'dbt_project.yml': projectYml([ANALYST, VIEWER]),
        'models/staging/stg.sql': 'select 1 as id',
        'models/dwh/dim.sql': "select id, 'x' as name from {{ ref('stg') }}",
        'models/mart/m.sql': "select id, name from {{ ref('dim') }}",
        'models/mart/inc.sql': "{{ config(materialized='incremental', unique_key='id') }}\nselect id, name from {{ ref('dim') }}",
      },
      { profile: { user: LOADER } },
    );
    s = { staging: `${p.schema}_staging`, dwh: `${p.schema}_dwh`, mart: `${p.schema}_mart` };
  });
  after(async () => {
    await p?.cleanup();
    const c = await adminClient();
    try {
      for (const r of [LOADER, ANALYST, VIEWER]) await c.query(`drop owned by ${r}`).catch(() => undefined);
      await c.query(`revoke create on database ${pgSettings().database} from ${LOADER}`).catch(() => undefined);
      for (const r of [LOADER, ANALYST, VIEWER]) await c.query(`drop role if exists ${r}`);
    } finally {
      await c.end();
    }
  });

  it('by default nothing is granted (the example builds where the roles do not exist)', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    assert.match(await as(ANALYST, `select * from ${s.mart}.m`), /permission denied for schema/);
  });

  it('the loader builds; the analyst reads every layer; the viewer reads the mart and nothing else', async () => {
    const r = await p.cli('run', ['--vars', '{grants_enabled: true}']);
    assert.equal(r.code, 0, r.output);
    // The loader owns what it built.
    const owners = await p.rows<{ owner: string }>(`select distinct tableowner as owner from pg_tables where schemaname = $1`, [s.mart]);
    assert.deepEqual(owners, [{ owner: LOADER }]);
    for (const rel of [`${s.staging}.stg`, `${s.dwh}.dim`, `${s.mart}.m`, `${s.mart}.inc`]) {
      assert.equal(await as(ANALYST, `select * from ${rel}`), 'ok', `analyst reads ${rel}`);
    }
    assert.equal(await as(VIEWER, `select * from ${s.mart}.m`), 'ok');
    assert.equal(await as(VIEWER, `select * from ${s.mart}.inc`), 'ok');
    assert.match(await as(VIEWER, `select * from ${s.dwh}.dim`), new RegExp(`permission denied for schema ${s.dwh}`));
    assert.match(await as(VIEWER, `select * from ${s.staging}.stg`), new RegExp(`permission denied for schema ${s.staging}`));
    const privs = await p.rows<{ usage_dwh: boolean; usage_mart: boolean; select_dim: boolean; insert_m: boolean }>(
      `select has_schema_privilege($1, $2, 'USAGE') as usage_dwh, has_schema_privilege($1, $3, 'USAGE') as usage_mart,
              has_table_privilege($1, $4, 'SELECT') as select_dim, has_table_privilege($1, $5, 'INSERT') as insert_m`,
      [VIEWER, s.dwh, s.mart, `${s.dwh}.dim`, `${s.mart}.m`],
    );
    assert.deepEqual(privs, [{ usage_dwh: false, usage_mart: true, select_dim: false, insert_m: false }]);
    // Writing is refused too.
    assert.match(await as(VIEWER, `insert into ${s.mart}.m values (2, 'y')`), /permission denied for table m/);
  });

  it('a grantee removed from the config loses access: rebuilt tables and the kept incremental table', async () => {
    p.write({ 'dbt_project.yml': projectYml([ANALYST]) });
    const r = await p.cli('run', ['--vars', '{grants_enabled: true}']);
    assert.equal(r.code, 0, r.output);
    assert.match(await as(VIEWER, `select * from ${s.mart}.m`), /permission denied for table m/);
    assert.match(await as(VIEWER, `select * from ${s.mart}.inc`), /permission denied for table inc/);
    assert.equal(await as(ANALYST, `select * from ${s.mart}.inc`), 'ok');
    // Grants off again: everything revoked (select: [] on the incremental table).
    const off = await p.cli('run');
    assert.equal(off.code, 0, off.output);
    assert.match(await as(ANALYST, `select * from ${s.mart}.inc`), /permission denied for table inc/);
    assert.match(await as(ANALYST, `select * from ${s.mart}.m`), /permission denied for table m/);
  });

  it('a grantee that is not a role name is refused before any SQL runs', async () => {
    p.write({ 'models/mart/bad.sql': "{{ config(grants={'select': ['x; drop table y']}) }}\nselect 1 as id" });
    try {
      const r = await p.cli('run', ['--select', 'bad']);
      assert.equal(r.code, 2, r.output); // a project error, found before the run starts
      assert.match(r.stderr, /models\/mart\/bad\.sql \[invalid-grantee\] config 'grants' of model 'bad': grants: "x; drop table y" is not a role name/);
      assert.deepEqual(await p.relations(s.mart), ['inc', 'm']); // bad was not swapped in
    } finally {
      p.write({ 'models/mart/bad.sql': null });
    }
  });
});
