/**
 * Issue 10, end to end on both engines: a custom generic test whose macro refs another model
 * (or reads a source) inside its body, not through its kwargs. As dbt renders each generic
 * test node through its macro at parse time, the test depends on that model, so `build`
 * runs it after the model and it passes; a failing variant exits 1 naming the test.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml } from './harness.ts';

const FILES = {
  'dbt_project.yml': projectYml('gtref'),
  'models/a.sql': 'select 1 as id union all select 2\n',
  'models/b.sql': "{{ config(materialized='table') }}\nselect 10 as id union all select 20\n",
  'macros/same_count_as.sql':
    "{% test same_count_as(model) %}select 1 as failure from (select count(*) as n from {{ model }}) x where n <> (select count(*) from {{ ref('b') }}){% endtest %}\n",
  'tests/generic/same_count_as_source.sql':
    "{% test same_count_as_source(model, column_name) %}select 1 as failure from (select count({{ column_name }}) as n from {{ model }}) x where n <> (select count(*) from {{ source('raw', 'events') }}){% endtest %}\n",
  'models/schema.yml': [
    'version: 2',
    'sources:',
    '  - name: raw',
    '    schema: "{{ target.schema }}"',
    '    tables:',
    '      - name: events',
    'models:',
    '  - name: a',
    '    data_tests:',
    '      - same_count_as',
    '    columns:',
    '      - name: id',
    '        data_tests:',
    '          - same_count_as_source',
    '',
  ].join('\n'),
};

const REF_TEST = 'same_count_as_a_';
const SOURCE_TEST = 'same_count_as_source_a_id';

await describeEngines('custom generic test with ref()/source() in its macro', (engine) => {
  let p: Project;
  const testNode = (name: string) => {
    const nodes = p.json('target/manifest.json').nodes as Record<string, { name: string; resource_type: string; depends_on: { nodes: string[] } }>;
    const n = Object.entries(nodes).find(([, v]) => v.resource_type === 'test' && v.name === name);
    assert.ok(n, `no test ${name} in the manifest`);
    return { uid: n[0], ...n[1] };
  };
  const results = () =>
    p.json('target/run_results.json').results as { unique_id: string; status: string; timing: { name: string; started_at: string; completed_at: string }[] }[];

  before(async () => {
    p = await Project.create(engine, FILES, { threads: 4 });
    await p.query(`create schema if not exists "${p.schema}"`, `create table "${p.schema}".events as select 1 as id union all select 2`);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('build passes, and the test depends on b and runs after it', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    const t = testNode(REF_TEST);
    assert.ok(t.depends_on.nodes.includes('model.gtref.b'), JSON.stringify(t.depends_on));
    assert.ok(t.depends_on.nodes.includes('model.gtref.a'), JSON.stringify(t.depends_on));
    const res = results();
    const testResult = res.find((x) => x.unique_id === t.uid);
    const bResult = res.find((x) => x.unique_id === 'model.gtref.b');
    assert.equal(testResult?.status, 'pass');
    assert.equal(bResult?.status, 'success');
    assert.ok(res.indexOf(testResult!) > res.indexOf(bResult!), 'the test is reported after b');
    const bDone = bResult!.timing.find((x) => x.name === 'execute')?.completed_at;
    const testStart = testResult!.timing.find((x) => x.name === 'compile' || x.name === 'execute')?.started_at;
    assert.ok(bDone && testStart, 'run_results.json has execute timings');
    assert.ok(Date.parse(testStart) >= Date.parse(bDone), `test started ${testStart}, b completed ${bDone}`);
  });

  it('the source() variant depends on the source and passes', async () => {
    const t = testNode(SOURCE_TEST);
    assert.ok(t.depends_on.nodes.includes('source.gtref.raw.events'), JSON.stringify(t.depends_on));
    assert.equal(results().find((x) => x.unique_id === t.uid)?.status, 'pass');
  });

  it('a failing variant of the ref() test exits 1 naming the test', async () => {
    p.write({ 'models/b.sql': "{{ config(materialized='table') }}\nselect 10 as id union all select 20 union all select 30\n" });
    const r = await p.cli('build');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, new RegExp(REF_TEST));
    assert.equal(results().find((x) => x.unique_id === testNode(REF_TEST).uid)?.status, 'fail');
    assert.equal(results().find((x) => x.unique_id === testNode(SOURCE_TEST).uid)?.status, 'pass');
  });

  it('a failing variant of the source() test exits 1 naming the test', async () => {
    p.write({ 'models/b.sql': FILES['models/b.sql'] });
    await p.query(`insert into "${p.schema}".events values (3)`);
    const r = await p.cli('build');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, new RegExp(SOURCE_TEST));
    assert.equal(results().find((x) => x.unique_id === testNode(SOURCE_TEST).uid)?.status, 'fail');
    assert.equal(results().find((x) => x.unique_id === testNode(REF_TEST).uid)?.status, 'pass');
  });
});
