/**
 * A dependent view is never lost when its parent's columns change (issue 12).
 *
 * dbt rebuilds a table with `drop … cascade`, which silently drops every view,
 * materialized view and function built on it. tsdbt sets dependent views aside and
 * recreates them inside the swap's transaction; this suite checks every way that
 * could still cost one, on the real server and on PGlite, asserting the rows left in
 * each relation, the exit code and the message:
 *  - `run -s parent` alone, the parent dropping a column a view outside the selection uses;
 *  - `run` of parent + child where the child's new SQL does not fit either (it used to be
 *    dropped "because it is rebuilt later", then its rebuild failed and it was gone);
 *  - the child's new SQL fits: recreated from it in the parent's swap, run passes;
 *  - a chain of views, a materialized view, a view owned by another role (postgres);
 *  - a function taking the table's row type (dbt's cascade drops it silently);
 *  - `--full-refresh`: what blocks is dropped as dbt does, each named in a warning.
 * And the race (postgres, threads 4): `build` reloads a seed feeding a source while the views
 * reading it through the source are rebuilt beside it; nothing fails, nothing is lost.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason, uniqueSchemaName } from '../../src/adapters/testing.ts';
import { FaultProject, type CliResult } from './harness.ts';

const pgSkip = await postgresSkipReason();

/** parent: a table whose `note` column goes away under `v: 2`; child and grandchild: views on it. */
const FILES = {
  'models/parent.sql': "{{ config(materialized='table') }}\nselect g as id, g * 10 as amount{% if var('v', 1) == 1 %}, 'n' || g as note{% endif %}\nfrom generate_series(1, 3) g",
  'models/child.sql':
    "{{ config(post_hook=('select 1/0' if var('break_child', false) else 'select 1')) }}\nselect id, {% if var('fixed', false) %}amount{% else %}note{% endif %} from {{ ref('parent') }}",
  'models/grandchild.sql': "select * from {{ ref('child') }}",
};

/** `[code, output]` for assertion messages. */
const show = (r: CliResult) => `exit ${r.code}\n${r.output}`;

for (const engine of ['postgres', 'pglite'] as const) {
  describe(`dependent views survive a parent whose columns change (${engine})`, { skip: engine === 'postgres' ? pgSkip : undefined, concurrency: 1 }, () => {
    let p: FaultProject;
    const q = (rel: string) => `"${p.schema}"."${rel}"`;
    const cols = async (rel: string) =>
      (
        await p.rows<{ c: string }>(
          `select a.attname::text as c from pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
          [q(rel)],
        )
      ).map((r) => r.c);
    const count = async (rel: string) => (await p.rows<{ n: number }>(`select count(*)::int as n from ${q(rel)}`))[0].n;
    /** Back to the first state: parent with note, child and grandchild reading it. */
    const reset = async () => {
      const r = await p.cli('run');
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(await cols('child'), ['id', 'note']);
    };
    /** The first state, intact: parent still has note and its 3 rows, the views read it. */
    const intact = async () => {
      assert.deepEqual(await cols('parent'), ['id', 'amount', 'note']);
      assert.equal(await count('parent'), 3);
      assert.deepEqual(await p.rows(`select note from ${q('grandchild')} order by id`), [{ note: 'n1' }, { note: 'n2' }, { note: 'n3' }]);
      assert.deepEqual((await p.relations()).filter((r) => r.includes('__tsdbt_')), [], 'no helper relation left');
    };

    before(async () => {
      p = await FaultProject.create(FILES, { engine });
      await reset();
    });
    after(async () => {
      await p?.cleanup();
    });

    it('run -s parent: a view outside the selection that needs the dropped column blocks the swap, named with its chain (exit 1)', async () => {
      const r = await p.cli('run', ['-s', 'parent', '--vars', '{v: 2}']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.output, /\[dependent-view-failed\]/);
      assert.match(r.output, new RegExp(`view "${p.schema}"\\."child", not rebuilt by this run: .*note`));
      assert.match(r.output, new RegExp(`view "${p.schema}"\\."grandchild", not rebuilt by this run: it is built on "${p.schema}"\\."child"`));
      assert.match(r.output, /--full-refresh/);
      assert.match(r.output, /select their models too/);
      await intact();
    });

    it('run of parent + child whose new SQL does not fit either: the parent is rolled back, nothing is lost (was: child dropped, then its rebuild failed)', async () => {
      const r = await p.cli('run', ['--vars', '{v: 2}']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.output, /\[dependent-view-failed\]/);
      assert.match(r.output, new RegExp(`view "${p.schema}"\\."child": .*note.*its model's new SQL does not fit either`));
      assert.match(r.output, /SKIP=2/);
      await intact();
    });

    it('run of parent + child whose new SQL fits but whose own node then fails: the child view is there, from its new SQL', async () => {
      const r = await p.cli('run', ['--vars', '{v: 2, fixed: true, break_child: true}']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.output, /division by zero/);
      assert.match(r.output, /PASS=1 WARN=0 ERROR=1 SKIP=1/);
      assert.deepEqual(await cols('parent'), ['id', 'amount']);
      assert.deepEqual(await cols('child'), ['id', 'amount']);
      assert.deepEqual(await p.rows(`select amount from ${q('grandchild')} order by id`), [{ amount: 10 }, { amount: 20 }, { amount: 30 }]);
      await reset();
    });

    it('run of parent + child whose new SQL fits: the child is recreated from it inside the parent swap, the run passes', async () => {
      const r = await p.cli('run', ['--vars', '{v: 2, fixed: true}']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(await cols('parent'), ['id', 'amount']);
      assert.deepEqual(await cols('child'), ['id', 'amount']);
      assert.deepEqual(await p.rows(`select amount from ${q('grandchild')} order by id`), [{ amount: 10 }, { amount: 20 }, { amount: 30 }]);
      await reset();
    });

    it('a materialized view of another team on the parent blocks it too; --full-refresh drops it with a warning, as dbt does', async () => {
      await p.rows(`create materialized view ${q('team_mv')} as select id, note from ${q('parent')}`);
      let r = await p.cli('run', ['-s', 'parent', 'child', 'grandchild', '--vars', '{v: 2, fixed: true}']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.output, new RegExp(`materialized view "${p.schema}"\\."team_mv", not rebuilt by this run: .*note`));
      assert.equal(await count('team_mv'), 3);
      await intact();
      r = await p.cli('run', ['-s', 'parent', 'child', 'grandchild', '--vars', '{v: 2, fixed: true}', '--full-refresh']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.output, new RegExp(`--full-refresh: dropped materialized view "${p.schema}"\\."team_mv", not rebuilt by this run`));
      assert.ok(!(await p.relations()).includes('team_mv'));
      assert.deepEqual(await cols('child'), ['id', 'amount']);
      assert.equal(await count('grandchild'), 3);
      await reset();
    });

    it('a function taking the table row type is never dropped silently: refused, then dropped with a warning under --full-refresh', async () => {
      await p.rows(`create function "${p.schema}".parent_label(p ${q('parent')}) returns text language sql as 'select $1.note'`);
      const fn = async () => (await p.rows<{ n: number }>(`select count(*)::int as n from pg_proc where proname = 'parent_label'`))[0].n;
      // Even a rebuild that keeps every column would drop it (dbt's cascade): refused.
      let r = await p.cli('run', ['-s', 'parent']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.output, /\[dependent-object-blocked\]/);
      assert.match(r.output, /function .*parent_label/);
      assert.match(r.output, /--full-refresh/);
      assert.equal(await fn(), 1);
      await intact();
      r = await p.cli('run', ['-s', 'parent', '--full-refresh']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.output, /--full-refresh: dropped function .*parent_label/);
      assert.equal(await fn(), 0);
      await intact();
    });

    it('a chain of views on the parent is kept when the columns it uses stay (nothing to name, exit 0)', async () => {
      await p.rows(`create view ${q('outside_v')} as select id from ${q('grandchild')}`);
      const r = await p.cli('run', ['-s', 'parent', '--vars', '{v: 1}']);
      assert.equal(r.code, 0, show(r));
      assert.equal(await count('outside_v'), 3);
      await intact();
    });
  });
}

for (const engine of ['postgres', 'pglite'] as const) describe(`a view owned by another role (${engine})`, { skip: engine === 'postgres' ? pgSkip : undefined, concurrency: 1 }, () => {
  let p: FaultProject;
  const role = uniqueSchemaName('alice');
  const q = (rel: string) => `"${p.schema}"."${rel}"`;
  before(async () => {
    // The other team reads parent through the model's grants config (a rebuilt table has only those).
    const parent = FILES['models/parent.sql'].replace("config(materialized='table')", `config(materialized='table', grants={'select': ['"${role}"']})`);
    p = await FaultProject.create({ ...FILES, 'models/parent.sql': parent }, { engine });
    await p.rows(`create role "${role}"`);
    const r = await p.cli('run');
    assert.equal(r.code, 0, show(r));
    await p.rows(`grant usage, create on schema "${p.schema}" to "${role}"`);
    await p.rows(`create view ${q('alice_v')} as select id, note from ${q('parent')}`);
    await p.rows(`alter view ${q('alice_v')} owner to "${role}"`);
  });
  after(async () => {
    await p?.cleanup();
    if (engine === 'postgres') await p?.rows(`drop role if exists "${role}"`).catch(() => undefined);
  });
  const owner = async () => (await p.rows<{ o: string }>(`select pg_get_userbyid(relowner)::text as o from pg_class where oid = $1::regclass`, [q('alice_v')]))[0]?.o;

  it('is recreated with its owner when it still fits', async () => {
    const r = await p.cli('run', ['-s', 'parent']);
    assert.equal(r.code, 0, show(r));
    assert.equal(await owner(), role);
    assert.deepEqual(await p.rows(`select note from ${q('alice_v')} order by id limit 1`), [{ note: 'n1' }]);
  });

  it('blocks the swap, named with its owner, when it no longer fits; the old table and the view stay', async () => {
    const r = await p.cli('run', ['-s', 'parent', 'child', 'grandchild', '--vars', '{v: 2, fixed: true}']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.output, new RegExp(`view "${p.schema}"\\."alice_v" \\(owner ${role}\\), not rebuilt by this run`));
    assert.equal(await owner(), role);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${q('alice_v')}`), [{ n: 3 }]);
    assert.deepEqual((await p.rows<{ c: string }>(`select column_name::text as c from information_schema.columns where table_schema = $1 and table_name = 'parent' order by ordinal_position`, [p.schema])).map((x) => x.c), ['id', 'amount', 'note']);
  });
});

describe('build with threads 4: a seed feeding a source is reloaded beside the views reading it (postgres)', { skip: pgSkip, concurrency: 1 }, () => {
  let p: FaultProject;
  const views = [1, 2, 3, 4, 5, 6];
  before(async () => {
    const schema = uniqueSchemaName('flt');
    const files: Record<string, string> = {
      'seeds/raw_pay.csv': 'id,amount\n1,10\n2,20\n3,30\n',
      // The source is the seed's table: no DAG edge, so build runs them side by side (as dbt).
      'models/src.yml': `version: 2\nsources:\n  - name: raw\n    schema: ${schema}\n    tables:\n      - name: raw_pay\n`,
    };
    for (const i of views) {
      files[`models/v${i}.sql`] = "select * from {{ source('raw', 'raw_pay') }}";
      files[`models/w${i}.sql`] = `select id, amount from {{ ref('v${i}') }}`;
    }
    p = await FaultProject.create(files, { schema, profile: { threads: 4 } });
    const r = await p.cli('seed');
    assert.equal(r.code, 0, show(r));
  });
  after(async () => {
    await p?.cleanup();
  });

  it('every build passes, and every view and the seed keep their rows (8 builds)', async () => {
    for (let round = 1; round <= 8; round++) {
      const r = await p.cli('build');
      assert.equal(r.code, 0, `round ${round}: ${show(r)}`);
      assert.doesNotMatch(r.output, /dependent-view-blocked|does not exist/);
      assert.match(r.output, /PASS=13 WARN=0 ERROR=0 SKIP=0/);
      const rels = await p.relations();
      assert.deepEqual(rels.filter((x) => x.includes('__tsdbt_')), [], `round ${round}: no helper relation left`);
      for (const i of views) {
        assert.deepEqual(await p.rows(`select sum(amount)::int as s from "${p.schema}".w${i}`), [{ s: 60 }], `round ${round}: w${i}`);
      }
    }
  });
});

// PostgreSQL only: PGlite's one session always runs as the superuser that owns everything, so tsdbt can drop any view there.
describe('a view of a role tsdbt cannot act for (postgres, tsdbt as a non-superuser)', { skip: pgSkip, concurrency: 1 }, () => {
  let p: FaultProject;
  const runner = uniqueSchemaName('runner');
  const bob = uniqueSchemaName('bob');
  const q = (rel: string) => `"${p.schema}"."${rel}"`;
  before(async () => {
    p = await FaultProject.create(FILES);
    await p.rows(`create role "${runner}" login`);
    await p.rows(`create role "${bob}"`);
    await p.rows(`create schema "${p.schema}" authorization "${runner}"`);
    p.writeProfile({ user: runner });
    const r = await p.cli('run');
    assert.equal(r.code, 0, show(r));
    await p.rows(`grant usage, create on schema "${p.schema}" to "${bob}"`);
    await p.rows(`grant select on ${q('parent')} to "${bob}"`);
    await p.rows(`create view ${q('bob_v')} as select id from ${q('parent')}`);
    await p.rows(`alter view ${q('bob_v')} owner to "${bob}"`);
  });
  after(async () => {
    await p?.cleanup();
    for (const r of [bob, runner]) await p?.rows(`drop owned by "${r}"`).then(() => p.rows(`drop role if exists "${r}"`)).catch(() => undefined);
  });

  it('refuses the swap, naming the view, its owner and what to do; the table and the view stay (exit 1)', async () => {
    // tsdbt's user owns the schema, so it may drop bob's view, but not give a new one to bob: rolled back.
    const r = await p.cli('run', ['-s', 'parent']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.output, /\[dependent-view-failed\]/);
    assert.match(r.output, new RegExp(`view "${p.schema}"\\."bob_v" \\(owner ${bob}\\), not rebuilt by this run: tsdbt, as ${runner}, may not recreate it as it was: must be member of role`));
    assert.match(r.output, new RegExp(`grant ${bob} to ${runner}`));
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${q('bob_v')}`), [{ n: 3 }]);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${q('parent')}`), [{ n: 3 }]);
    assert.deepEqual((await p.relations()).filter((x) => x.includes('__tsdbt_')), []);
  });

  it('when tsdbt may not even drop it (the schema is not its own), the swap is refused before anything changes (exit 1)', async () => {
    await p.rows(`alter schema "${p.schema}" owner to current_user`);
    await p.rows(`grant usage, create on schema "${p.schema}" to "${runner}"`);
    const r = await p.cli('run', ['-s', 'parent']);
    assert.equal(r.code, 1, show(r));
    assert.match(r.output, /\[dependent-view-blocked\]/);
    assert.match(r.output, new RegExp(`Could not set aside view "${p.schema}"\\."bob_v" \\(owner ${bob}\\).*must be owner of view bob_v`));
    assert.match(r.output, new RegExp(`grant ${bob} to ${runner}`));
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${q('bob_v')}`), [{ n: 3 }]);
    assert.deepEqual(await p.rows(`select count(*)::int as n from ${q('parent')}`), [{ n: 3 }]);
  });
});
