/**
 * `--favor-state` with `--defer --state DIR` (dbt's RuntimeRefResolver.create_relation):
 * an unselected parent resolves to the state's relation even when the parent
 * also exists in the current target; without --favor-state the current
 * target's parent wins; without --defer it is a warning, not silence.
 * Both engines.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('favor', "models:\n  favor:\n    +materialized: table\n"),
  'models/parent.sql': "select {{ var('n', 1) }} as id\n",
  'models/child.sql': "select id * 10 as x from {{ ref('parent') }}\n",
};

await describeEngines('--favor-state', (engine) => {
  let p: Project;
  let state: string;
  let b: string;
  const child = async () => (await p.rows<{ x: unknown }>(`select x from "${b}".child`)).map((r) => Number(r.x));
  before(async () => {
    p = await Project.create(engine, FILES);
    b = `${p.schema}_b`;
    const r = await p.cli('run'); // "production": parent n=1 in schema A
    assert.equal(r.code, 0, r.output);
    state = join(p.dir, 'state-a');
    cpSync(join(p.dir, 'target'), state, { recursive: true });
    p.writeProfile({ schema: b });
    const dev = await p.cli('run', ['--select', 'parent', '--vars', '{n: 7}']); // "dev": parent n=7 in schema B
    assert.equal(dev.code, 0, dev.output);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('--defer alone: the parent that exists in this target is used', async () => {
    const r = await p.cli('run', ['--select', 'child', '--defer', '--state', state]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await child(), [70]);
  });

  it('--defer --favor-state: the unselected parent is read from the state, though it exists here', async () => {
    const r = await p.cli('run', ['--select', 'child', '--defer', '--favor-state', '--state', state]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await child(), [10]);
    assert.match(p.read('target/compiled/favor/models/child.sql') ?? '', new RegExp(`"${p.schema}"\\."parent"`));
  });

  it('DBT_FAVOR_STATE=true does the same; --no-favor-state turns it off', async () => {
    const r = await p.cli('run', ['--select', 'child', '--defer', '--state', state], { DBT_FAVOR_STATE: 'true' });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await child(), [10]);
    const off = await p.cli('run', ['--select', 'child', '--defer', '--no-favor-state', '--state', state], { DBT_FAVOR_STATE: 'true' });
    assert.equal(off.code, 0, off.output);
    assert.deepEqual(await child(), [70]);
  });

  it('a selected parent is built here and used, favor-state or not', async () => {
    const r = await p.cli('run', ['--select', 'parent', 'child', '--defer', '--favor-state', '--state', state, '--vars', '{n: 3}']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await child(), [30]);
  });

  it('--favor-state without --defer is a warning saying it has no effect', async () => {
    const r = await p.cli('run', ['--select', 'child', '--favor-state']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /--favor-state has no effect without --defer/);
    assert.deepEqual(await child(), [30]);
  });
});
