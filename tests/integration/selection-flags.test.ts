/**
 * Selection flags as dbt's: selectors.yml with `--selector` (string, method dict with
 * parents, key-value, union / intersection / exclude, `method: selector`), a
 * `default: true` selector used when no --select / --exclude is given (and --selector
 * wins over --select); `-m` / `--models` as the old --select; `--resource-type` /
 * `--exclude-resource-type` (an unknown type is a usage error, exit 2);
 * `--indirect-selection eager|cautious|buildable|empty`. On both engines, through
 * `ls` and `build`.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('sel'),
  'seeds/raw.csv': 'id\n1\n2\n',
  'models/stg.sql': "{{ config(tags=['nightly']) }}\nselect id from {{ ref('raw') }}\n",
  'models/mart.sql': "{{ config(tags=['finance'], materialized='table') }}\nselect id from {{ ref('stg') }}\n",
  'models/other.sql': 'select 1 as id union all select 2\n',
  'models/schema.yml': `version: 2
models:
  - name: stg
    columns:
      - name: id
        data_tests: [not_null]
  - name: mart
    columns:
      - name: id
        data_tests:
          - relationships:
              to: ref('other')
              field: id
`,
  'selectors.yml': `selectors:
  - name: nightly
    default: true
    definition:
      union:
        - "tag:nightly"
        - method: tag
          value: finance
        - exclude:
            - other
  - name: mart_up
    definition:
      method: fqn
      value: mart
      parents: true
  - name: chained
    definition:
      method: selector
      value: mart_up
  - name: both
    definition:
      intersection:
        - "+mart"
        - tag: nightly
`,
};

const REL = 'relationships_mart_id__id__ref_other_';

await describeEngines('selection flags', (engine) => {
  let p: Project;
  const ls = async (...args: string[]) => {
    const r = await p.cli('ls', ['--output', 'name', ...args]);
    assert.equal(r.code, 0, r.output);
    return r.stdout.trim().split('\n').filter(Boolean).sort();
  };
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('uses the default: true selector when nothing is selected, and says so', async () => {
    const r = await p.cli('ls', ['--output', 'name']);
    assert.equal(r.code, 0, r.output);
    // the relationships test goes with the excluded `other` (dbt excludes eagerly)
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['mart', 'not_null_stg_id', 'stg']);
    assert.match(r.stderr, /Using the default selector nightly/);
  });

  it('--select replaces the default selector; --selector wins over --select', async () => {
    assert.deepEqual(await ls('--select', 'other'), ['other', REL]);
    assert.deepEqual(await ls('--selector', 'mart_up', '--select', 'other', '--resource-type', 'model'), ['mart', 'stg']);
  });

  it('evaluates parents, method: selector and intersections', async () => {
    assert.deepEqual(await ls('--selector', 'mart_up', '--resource-type', 'model', 'seed'), ['mart', 'raw', 'stg']);
    assert.deepEqual(await ls('--selector', 'chained', '--resource-type', 'model'), ['mart', 'stg']);
    assert.deepEqual(await ls('--selector', 'both', '--exclude-resource-type', 'test'), ['stg']);
  });

  it('an unknown selector is an error naming the defined ones (exit 2)', async () => {
    const r = await p.cli('ls', ['--selector', 'nope']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /could not find a selector named 'nope'; selectors\.yml defines: nightly, mart_up, chained, both/);
  });

  it('-m / --models select as --select does', async () => {
    assert.deepEqual(await ls('-m', 'stg'), ['not_null_stg_id', 'stg']);
    assert.deepEqual(await ls('--models', 'stg', 'other'), ['not_null_stg_id', 'other', REL, 'stg']);
  });

  it('an unknown --resource-type or --exclude-resource-type is a usage error (exit 2)', async () => {
    const r = await p.cli('ls', ['--resource-type', 'modle']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /'modle' is invalid/);
    const r2 = await p.cli('build', ['--exclude-resource-type', 'tset']);
    assert.equal(r2.code, 2, r2.output);
    assert.match(r2.stderr, /'tset' is invalid/);
  });

  it('--exclude-resource-type drops a type; all / default keep everything', async () => {
    assert.deepEqual(await ls('--select', 'mart+', 'other', '--exclude-resource-type', 'test'), ['mart', 'other']);
    assert.deepEqual(await ls('--select', 'stg', '--resource-type', 'all'), ['not_null_stg_id', 'stg']);
  });

  it('--indirect-selection: eager takes a test with any selected parent, cautious only with all, buildable with the rest upstream, empty none', async () => {
    assert.deepEqual(await ls('--select', 'mart'), ['mart', REL]);
    assert.deepEqual(await ls('--select', 'mart', '--indirect-selection', 'cautious'), ['mart']);
    assert.deepEqual(await ls('--select', 'mart', 'other', '--indirect-selection', 'cautious'), ['mart', 'other', REL]);
    assert.deepEqual(await ls('--select', 'stg', '--indirect-selection', 'empty'), ['stg']);
    assert.deepEqual(await ls('--select', 'mart', '--indirect-selection', 'buildable'), ['mart']);
  });

  it('build honours the default selector and --exclude-resource-type', async () => {
    // the default selector applies to seed too: select the seed explicitly
    const s = await p.cli('seed', ['--select', 'raw']);
    assert.equal(s.code, 0, s.output);
    const r = await p.cli('build', ['--exclude-resource-type', 'test', 'seed']);
    assert.equal(r.code, 0, r.output);
    const ids = p.json('target/run_results.json').results.map((x: { unique_id: string }) => x.unique_id).sort();
    assert.deepEqual(ids, ['model.sel.mart', 'model.sel.stg']);
    assert.equal(await p.count('mart'), 2);
    assert.equal((await p.relations()).other, undefined);
  });
});
