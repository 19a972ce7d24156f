import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { loadProjectConfig } from './project.ts';
import { parseVars, resolveVar, varsFor } from './vars.ts';
import { thrown, writeProject } from './write-project.ts';

describe('parseVars', () => {
  it('reads YAML and JSON mappings', () => {
    assert.deepEqual(parseVars('{start_date: "2024-01-01", n: 3}'), { start_date: '2024-01-01', n: 3 });
    assert.deepEqual(parseVars('{"a": [1, 2], "b": {"c": null}}'), { a: [1, 2], b: { c: null } });
    assert.deepEqual(parseVars('flag: yes'), { flag: true });
    assert.deepEqual(parseVars('  '), {});
  });

  it('errors: bad-vars for invalid YAML and non-mappings', () => {
    let e = thrown(() => parseVars('{a: 1'));
    assert.equal(e.code, 'bad-vars');
    assert.match(e.message, /^--vars is not valid YAML or JSON \(column \d+\): /);
    assert.match(e.hint!, /--vars '\{start_date/);
    e = thrown(() => parseVars('just_a_string'));
    assert.equal(e.code, 'bad-vars');
    assert.equal(e.message, '--vars must be a mapping of names to values, but was a string');
    e = thrown(() => parseVars('[1, 2]'));
    assert.equal(e.message, '--vars must be a mapping of names to values, but was a list');
  });
});

describe('resolveVar', () => {
  const root = loadProjectConfig(writeProject({
    'dbt_project.yml': 'name: shop\nvars:\n  x: global\n  y: global_y\n  shop:\n    x: scoped\n  dbt_utils:\n    x: utils_scoped\n',
  }));
  const pkg = loadProjectConfig(writeProject({
    'dbt_project.yml': 'name: dbt_utils\nvars:\n  z: pkg_global\n  w: pkg_global_w\n  dbt_utils:\n    w: pkg_scoped_w\n  y: pkg_y\n',
  }));

  it('uses dbt precedence: --vars > project-scoped > global > default', () => {
    assert.equal(resolveVar('x', root, { x: 'cli' }, 'shop'), 'cli');
    assert.equal(resolveVar('x', root, {}, 'shop'), 'scoped');
    assert.equal(resolveVar('y', root, {}, 'shop'), 'global_y');
    assert.equal(resolveVar('nope', root, {}, 'shop', { default: 5 }), 5);
    assert.equal(resolveVar('nope', root, {}, 'shop', { default: null }), null);
    assert.equal(resolveVar('x', root, {}, 'other_pkg'), 'global');
  });

  it("puts the root project's vars above a package's own", () => {
    assert.equal(resolveVar('x', root, {}, 'dbt_utils', { packageProject: pkg }), 'utils_scoped');
    assert.equal(resolveVar('y', root, {}, 'dbt_utils', { packageProject: pkg }), 'global_y');
    assert.equal(resolveVar('z', root, {}, 'dbt_utils', { packageProject: pkg }), 'pkg_global');
    assert.equal(resolveVar('w', root, {}, 'dbt_utils', { packageProject: pkg }), 'pkg_scoped_w');
    assert.deepEqual(
      Object.fromEntries(['x', 'y', 'z', 'w'].map((k) => [k, varsFor(root, { z: 'cli' }, 'dbt_utils', pkg)[k]])),
      { x: 'utils_scoped', y: 'global_y', z: 'cli', w: 'pkg_scoped_w' },
    );
  });

  it('errors: var-missing without a default', () => {
    const e = thrown(() => resolveVar('start', root, {}, 'shop', { node: 'model.shop.orders', file: 'models/orders.sql', line: 4 }));
    assert.equal(e.code, 'var-missing');
    assert.equal(e.format(), "models/orders.sql:4 [var-missing] required var 'start' not found in config (used by model.shop.orders)\n" +
      "  hint: define it under vars: in dbt_project.yml, pass --vars '{start: value}', or give a default: var('start', 'value')");
  });
});
