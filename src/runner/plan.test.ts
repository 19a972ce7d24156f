/**
 * planRun on plain manifests (no database): order, waits, dbt build's test
 * gating, ephemeral models left out, unselected nodes looked through.
 */
import { it, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestBuilder } from '../graph/fixtures.ts';
import { planRun } from './plan.ts';
import { withUnitTestNodes } from '../unittests/run-unit-test.ts';

const m = new ManifestBuilder('p')
  .seed('raw')
  .model('stg', { refs: ['raw'] })
  .model('eph', { refs: ['stg'], config: { materialized: 'ephemeral' } })
  .model('mart', { refs: ['eph'] })
  .model('other', { refs: ['raw'] })
  .genericTest('unique', 'stg', 'id')
  .build();
const topo = ['seed.p.raw', 'model.p.stg', 'test.p.unique_stg_id', 'model.p.eph', 'model.p.other', 'model.p.mart'];
const deps = (plan: ReturnType<typeof planRun>) => Object.fromEntries(plan.nodes.map((n) => [n.name, n.dependsOn]));

describe('planRun', () => {
  it('run: models in topological order; an ephemeral model is not run and is looked through', () => {
    const plan = planRun(m, { command: 'run', selected: ['model.p.mart', 'model.p.eph', 'model.p.stg', 'model.p.other'] }, topo);
    assert.deepEqual(plan.nodes.map((n) => n.name), ['stg', 'other', 'mart']);
    assert.deepEqual(deps(plan), { stg: [], other: [], mart: ['model.p.stg'] });
    assert.deepEqual(plan.nodes.map((n) => n.priority), [0, 1, 2]);
  });

  it('build: a test gates the children of the node it tests (dbt build), not unrelated nodes', () => {
    const all = ['seed.p.raw', 'model.p.stg', 'model.p.mart', 'model.p.other', 'test.p.unique_stg_id'];
    const plan = planRun(m, { command: 'build', selected: all }, topo);
    assert.deepEqual(deps(plan), {
      raw: [],
      stg: ['seed.p.raw'],
      unique_stg_id: ['model.p.stg'],
      other: ['seed.p.raw'],
      mart: ['model.p.stg', 'test.p.unique_stg_id'],
    });
  });

  it('run (not build): tests do not gate anything', () => {
    const plan = planRun(m, { command: 'test', selected: ['test.p.unique_stg_id'] }, topo);
    assert.deepEqual(deps(plan), { unique_stg_id: [] });
  });

  it('is plain data: survives a JSON round trip unchanged', () => {
    const plan = planRun(m, { command: 'build', selected: ['seed.p.raw', 'model.p.stg'] }, topo);
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
    assert.equal(plan.command, 'build');
  });
});

describe('planRun with unit tests', () => {
  const ut = {
    unique_id: 'unit_test.p.other.t',
    resource_type: 'unit_test' as const,
    package_name: 'p',
    name: 't',
    model: 'other',
    path: 'u.yml',
    original_file_path: 'models/u.yml',
    fqn: ['p', 'other', 't'],
    description: '',
    given: [],
    expect: { rows: [], format: 'dict' as const, fixture: null },
    overrides: null,
    config: { tags: [], meta: {}, enabled: true },
    depends_on: { nodes: ['model.p.other'], macros: [] },
    schema: 'analytics',
    tags: [],
    checksum: null,
    versions: null,
    version: null,
    created_at: 0,
  };
  const withUt = withUnitTestNodes({ ...m, unit_tests: { [ut.unique_id]: ut } }, [ut.unique_id]);

  it('build: the unit test waits for the model\'s parents and the model waits for the unit test (dbt runs it first; a failure skips the model)', () => {
    const plan = planRun(withUt, { command: 'build', selected: ['seed.p.raw', 'model.p.other', ut.unique_id] }, [...topo, ut.unique_id]);
    assert.deepEqual(deps(plan), { raw: [], t: ['seed.p.raw'], other: ['seed.p.raw', ut.unique_id] });
  });

  it('test: a unit test alone waits for nothing', () => {
    const plan = planRun(withUt, { command: 'test', selected: [ut.unique_id] }, topo);
    assert.deepEqual(deps(plan), { t: [] });
    assert.equal(plan.nodes[0]!.resourceType, 'unit_test');
  });
});
