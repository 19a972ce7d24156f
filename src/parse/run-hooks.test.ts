import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectRunHooks } from './run-hooks.ts';

describe('projectRunHooks (dbt RunTask._hook_keyfunc order and HookNode names)', () => {
  it('packages by name, the root project last, each in written order; operation nodes named <pkg>-<type>-<i>', () => {
    const hooks = projectRunHooks(
      'on-run-end',
      { project: { name: 'root', onRunEnd: ['select 1', 'select 2'] } },
      [{ project: { name: 'zeta', onRunEnd: ['select 3'] }, dir: 'dbt_packages/zeta' }, { project: { name: 'alpha', onRunEnd: ['select 4'] } }, { project: { name: 'empty' } }],
      { schema: 's', database: 'db' },
    );
    assert.deepEqual(
      hooks.map((h) => [h.unique_id, h.index, h.raw_code]),
      [
        ['operation.alpha.alpha-on-run-end-0', 0, 'select 4'],
        ['operation.zeta.zeta-on-run-end-0', 0, 'select 3'],
        ['operation.root.root-on-run-end-0', 0, 'select 1'],
        ['operation.root.root-on-run-end-1', 1, 'select 2'],
      ],
    );
    const z = hooks[1];
    assert.equal(z.resource_type, 'operation');
    assert.equal(z.original_file_path, 'dbt_packages/zeta/dbt_project.yml');
    assert.deepEqual(z.fqn, ['zeta', 'hooks', 'zeta-on-run-end-0']);
    assert.deepEqual(z.tags, ['on-run-end']);
    assert.equal(hooks[2].original_file_path, './dbt_project.yml');
  });
  it('no hooks, no nodes', () => {
    assert.deepEqual(projectRunHooks('on-run-start', { project: { name: 'root' } }, [], { schema: 's', database: 'db' }), []);
  });
});
