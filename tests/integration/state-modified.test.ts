/**
 * `state:modified` as dbt's StateSelectorMethod, end to end on both engines:
 * depends_on.macros recorded at parse (a macro calling a macro, an
 * adapter.dispatch), a change in a macro two levels below a model selects the
 * model (and `build --select state:modified+` rebuilds it and its children
 * only), and the sub-selectors body / configs / macros / contract / relation /
 * persisted_descriptions each see only their own kind of change (dbt-core
 * nodes.py same_body, same_config, same_database_representation,
 * same_persisted_description, same_contract).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const CENTS = '{% macro cents(x) %}({{ x }} * 100){% endmacro %}\n';
const FILES: Files = {
  'dbt_project.yml': projectYml('statemod', 'models:\n  statemod:\n    +materialized: table\n'),
  'macros/money.sql':
    CENTS +
    "{% macro money(x) %}{{ return(adapter.dispatch('money', 'statemod')(x)) }}{% endmacro %}\n" +
    '{% macro default__money(x) %}{{ cents(x) }}::int{% endmacro %}\n',
  'macros/unused.sql': '{% macro unused() %}1{% endmacro %}\n',
  'models/priced.sql': 'select {{ money(3) }} as amount\n',
  'models/priced_child.sql': "select amount + 1 as amount from {{ ref('priced') }}\n",
  'models/plain.sql': 'select 1 as id\n',
  'models/described.sql': 'select 1 as id\n',
  'models/contracted.sql': "{{ config(materialized='table') }}\nselect 1::int as id\n",
  'models/schema.yml': `version: 2
models:
  - name: described
    description: before
    columns:
      - name: id
        description: an id
  - name: contracted
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: int
`,
};

await describeEngines('state:modified', (engine) => {
  let p: Project;
  let state: string;
  const ls = async (selector: string) => {
    const r = await p.cli('ls', ['--select', selector, '--state', state, '--resource-type', 'model', '--output', 'name']);
    assert.equal(r.code, 0, r.output);
    return r.stdout.trim().split('\n').filter((l) => l && !/^\d\d:\d\d|warn/i.test(l)).sort();
  };
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('records depends_on.macros at parse: the model\'s direct calls, and each macro\'s calls (dispatch included)', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows('select amount from priced_child'), [{ amount: 301 }]);
    const m = p.json('target/manifest.json');
    assert.deepEqual(m.nodes['model.statemod.priced'].depends_on.macros, ['macro.statemod.money']);
    assert.deepEqual(m.nodes['model.statemod.plain'].depends_on.macros, []);
    assert.deepEqual(m.macros['macro.statemod.money'].depends_on.macros, ['macro.statemod.default__money']);
    assert.deepEqual(m.macros['macro.statemod.default__money'].depends_on.macros, ['macro.statemod.cents']);
    state = join(p.dir, 'prod-state');
    cpSync(join(p.dir, 'target'), state, { recursive: true });
  });

  it('nothing changed: state:modified selects nothing', async () => {
    assert.deepEqual(await ls('state:modified'), []);
  });

  it('a change in a macro two calls below a model selects the model (state:modified and .macros), not .body', async () => {
    p.write({ 'macros/money.sql': p.read('macros/money.sql')!.replace('* 100', '* 1000') });
    assert.deepEqual(await ls('state:modified'), ['priced']);
    assert.deepEqual(await ls('state:modified.macros'), ['priced']);
    assert.deepEqual(await ls('state:modified.body'), []);
    const b = await p.cli('build', ['--select', 'state:modified+', '--state', state]);
    assert.equal(b.code, 0, b.output);
    assert.match(b.output, /priced_child/);
    assert.doesNotMatch(b.output, /\bplain\b/);
    assert.deepEqual(await p.rows('select amount from priced_child'), [{ amount: 3001 }]);
  });

  it('a change in a macro no node calls selects nothing', async () => {
    p.write({ 'macros/money.sql': FILES['macros/money.sql'], 'macros/unused.sql': '{% macro unused() %}2{% endmacro %}\n' });
    assert.deepEqual(await ls('state:modified'), []);
  });

  it('body: the SQL text; configs: config but not tags; relation: a configured schema', async () => {
    p.write({
      'models/plain.sql': 'select 2 as id\n',
      'models/priced_child.sql': "{{ config(tags=['nightly']) }}\n" + FILES['models/priced_child.sql'],
      'models/described.sql': "{{ config(materialized='view') }}\nselect 1 as id\n",
    });
    assert.deepEqual(await ls('state:modified.body'), ['described', 'plain', 'priced_child']);
    assert.deepEqual(await ls('state:modified.configs'), ['described']);
    assert.deepEqual(await ls('state:modified.relation'), []);
    p.write({ 'models/plain.sql': "{{ config(schema='other') }}\nselect 1 as id\n" });
    assert.deepEqual(await ls('state:modified.relation'), ['plain']);
    p.write({ 'models/plain.sql': FILES['models/plain.sql'], 'models/priced_child.sql': FILES['models/priced_child.sql'], 'models/described.sql': FILES['models/described.sql'] });
    assert.deepEqual(await ls('state:modified'), []);
  });

  it('persisted_descriptions: a description counts only when persist_docs writes it', async () => {
    const yml = FILES['models/schema.yml'];
    p.write({ 'models/schema.yml': yml.replace('description: before', 'description: after') });
    assert.deepEqual(await ls('state:modified'), []);
    assert.deepEqual(await ls('state:modified.persisted_descriptions'), []);
    // Turn persist_docs on in both the state and now: then the description is a change.
    p.write({ 'models/schema.yml': yml.replace('description: before', 'description: before\n    config:\n      persist_docs: {relation: true}') });
    const parsed = await p.cli('parse');
    assert.equal(parsed.code, 0, parsed.output);
    rmSync(state, { recursive: true, force: true });
    cpSync(join(p.dir, 'target'), state, { recursive: true });
    p.write({ 'models/schema.yml': yml.replace('description: before', 'description: after\n    config:\n      persist_docs: {relation: true}') });
    assert.deepEqual(await ls('state:modified.persisted_descriptions'), ['described']);
    assert.deepEqual(await ls('state:modified'), ['described']);
  });

  it('contract: a changed column type of an enforced contract is state:modified.contract', async () => {
    const now = p.read('models/schema.yml')!;
    p.write({ 'models/schema.yml': now.replace('data_type: int', 'data_type: bigint'), 'models/contracted.sql': "{{ config(materialized='table') }}\nselect 1::bigint as id\n" });
    assert.deepEqual(await ls('state:modified.contract'), ['contracted']);
    assert.ok((await ls('state:modified')).includes('contracted'));
  });
});
