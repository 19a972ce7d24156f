/**
 * Model hooks (dbt's `pre_hook` / `post_hook` config), end to end on both
 * engines: hooks from `config()` and from dbt_project.yml (`+pre-hook:` /
 * `+post-hook:`) are rendered with the model's context (`{{ this }}`), run
 * around the build, and appear in target/run/.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const HOOKS: Files = {
  'dbt_project.yml': projectYml(
    'hooks',
    `models:
  hooks:
    +pre-hook: "create table if not exists {{ target.schema }}.hook_log (model text, n int)"
    +post-hook:
      - "insert into {{ target.schema }}.hook_log select '{{ this.name }}', count(*) from {{ this }}"
`,
  ),
  'models/a.sql': `{{ config(materialized='table', post_hook="create table {{ this.schema }}.hook_ran as select 1 as x") }}
select 1 as id union all select 2
`,
  'models/b.sql': "select id from {{ ref('a') }} where id > 1\n",
};

await describeEngines('model hooks', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, HOOKS);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('runs pre- and post-hooks from config() and dbt_project.yml, with {{ this }} rendered', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select x from hook_ran'), [{ x: 1 }]);
    const log = await p.rows<{ model: string; n: unknown }>('select model, n from hook_log order by model');
    assert.deepEqual(log.map((l) => [l.model, Number(l.n)]), [['a', 2], ['b', 1]]);
  });

  it('writes the executed hook SQL to target/run/', () => {
    const run = p.read('target/run/hooks/models/a.sql') ?? '';
    assert.match(run, new RegExp(`create table ${p.schema}\\.hook_ran as select 1 as x`));
    assert.match(run, new RegExp(`insert into ${p.schema}\\.hook_log select 'a', count\\(\\*\\) from (\\S+\\.)?"${p.schema}"\\."a"`));
    assert.match(run, /create table if not exists .*hook_log/);
  });

  it('a failing hook fails its model and skips what is downstream', async () => {
    p.write({ 'models/a.sql': "{{ config(materialized='table', post_hook='insert into no_such_table select 1') }}\nselect 1 as id\n" });
    const r = await p.cli('run');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /no_such_table/);
    assert.match(r.output, /SKIP/i);
    // the post-hook runs inside the swap's transaction: the previous table is kept
    assert.equal(await p.count('a'), 2);
  });
});

// dbt's `transaction: false` hooks: `before_begin()` pre-hooks run before the model's statements, `after_commit()`
// post-hooks after its transaction commits (so `vacuum`, which Postgres refuses inside a transaction, works), as the
// dict `{sql, transaction: false}` in dbt_project.yml too; in-transaction hooks keep their place.
const TX_HOOKS: Files = {
  'dbt_project.yml': projectYml(
    'txhooks',
    `on-run-start: "create table if not exists {{ target.schema }}.hook_order (n serial, what text)"
models:
  txhooks:
    dicts:
      +post-hook:
        - sql: "vacuum {{ this }}"
          transaction: false
`,
  ),
  'models/vac.sql': `{{ config(
    materialized='table',
    pre_hook=["insert into {{ target.schema }}.hook_order (what) values ('pre in transaction')",
              before_begin("insert into {{ target.schema }}.hook_order (what) values ('before begin')")],
    post_hook=[after_commit("vacuum analyze {{ this }}"),
               after_commit("insert into {{ target.schema }}.hook_order (what) values ('after commit')"),
               "insert into {{ target.schema }}.hook_order (what) values ('post in transaction')"]
) }}
select 1 as id
`,
  'models/dicts/d.sql': "{{ config(materialized='table') }}\nselect 2 as id\n",
};

await describeEngines('model hooks outside the transaction', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, TX_HOOKS);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('runs before_begin() first and after_commit() last, outside the transaction (vacuum succeeds)', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    const order = await p.rows<{ what: string }>('select what from hook_order order by n');
    assert.deepEqual(order.map((o) => o.what), ['before begin', 'pre in transaction', 'post in transaction', 'after commit']);
    const run = p.read('target/run/txhooks/models/vac.sql') ?? '';
    assert.match(run, new RegExp(`vacuum analyze (\\S+\\.)?"${p.schema}"\\."vac"`));
    assert.ok(run.lastIndexOf('vacuum analyze') > run.lastIndexOf('post in transaction'), run);
    assert.equal(await p.count('d'), 1);
    assert.match(p.read('target/run/txhooks/models/dicts/d.sql') ?? '', /vacuum .*"d"/);
  });

  it('an in-transaction post_hook still runs inside the transaction: vacuum there fails the model', async () => {
    p.write({ 'models/dicts/d.sql': "{{ config(materialized='table', post_hook='vacuum {{ this }}') }}\nselect 3 as id\n" });
    p.write({ 'dbt_project.yml': projectYml('txhooks') });
    const r = await p.cli('run', ['--select', 'd']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /VACUUM cannot run inside a transaction block/i);
    assert.deepEqual(await p.rows('select id from d'), [{ id: 2 }]);
  });
});
