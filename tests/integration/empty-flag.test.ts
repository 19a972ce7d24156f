/**
 * `--empty` (run, build), as dbt's: every ref() and source() renders as
 * `(select * from x where false limit 0) _dbt_limit_subq_x`, so each model is built
 * with its columns and no rows; `{{ this }}` is unchanged; a run without it fills them.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('emp'),
  'seeds/raw.csv': 'id,name\n1,a\n2,b\n',
  'models/sources.yml': 'version: 2\nsources:\n  - name: land\n    schema: "{{ target.schema }}"\n    tables:\n      - name: raw\n',
  'models/stg.sql': "select id, name from {{ ref('raw') }}\n",
  'models/tbl.sql': // no alias after ref(): the subquery already has one (`_dbt_limit_subq_stg`), so `{{ ref('stg') }} s` fails under
  // --empty on Postgres, as it does with dbt-postgres
  "{{ config(materialized='table') }}\nselect id, name from {{ ref('stg') }}\n",
  'models/from_source.sql': "{{ config(materialized='table') }}\nselect id from {{ source('land', 'raw') }}\n",
  'models/schema.yml': 'version: 2\nmodels:\n  - name: tbl\n    columns:\n      - name: id\n        data_tests: [not_null]\n',
};

await describeEngines('--empty', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('run --empty builds every model with its columns and no rows', async () => {
    const s = await p.cli('seed');
    assert.equal(s.code, 0, s.output);
    const r = await p.cli('run', ['--empty']);
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count('stg'), 0);
    assert.equal(await p.count('tbl'), 0);
    assert.equal(await p.count('from_source'), 0);
    assert.deepEqual(await p.rows('select id, name from tbl'), []);
    const compiled = p.read('target/compiled/emp/models/stg.sql') ?? '';
    assert.match(compiled, new RegExp(`\\(select \\* from "[^"]+"\\."${p.schema}"\\."raw" where false limit 0\\) _dbt_limit_subq_raw`));
    assert.match(p.read('target/compiled/emp/models/from_source.sql') ?? '', /where false limit 0\) _dbt_limit_subq_raw/);
  });

  it('build --empty runs the tests on the empty models; a run without it fills them', async () => {
    const b = await p.cli('build', ['--empty', '--exclude', 'resource_type:seed']);
    assert.equal(b.code, 0, b.output);
    assert.equal(await p.count('tbl'), 0);
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count('tbl'), 2);
    assert.doesNotMatch(p.read('target/compiled/emp/models/stg.sql') ?? '', /limit 0/);
  });
});
