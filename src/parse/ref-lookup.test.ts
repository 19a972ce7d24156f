/** ref()/source() lookup order across packages, as dbt-core's `_packages_to_search` and `RefableLookup`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameLookup, packagesToSearch } from './ref-lookup.ts';

test("packagesToSearch: a named package only; the root project's node: root then any; a package's node: root, its package, then any (dbt's order)", () => {
  assert.deepEqual(packagesToSearch('root', 'root', 'pkg'), ['pkg']);
  assert.deepEqual(packagesToSearch('root', 'root'), ['root', null]);
  assert.deepEqual(packagesToSearch('root', 'pkg'), ['root', 'pkg', null]);
});

test('NameLookup.resolve: the root project shadows a package for unqualified refs; "any package" is the first one recorded', () => {
  const l = new NameLookup();
  l.add('x', 'root', 'model.root.x');
  l.add('x', 'b_pkg', 'model.b_pkg.x');
  l.add('y', 'b_pkg', 'model.b_pkg.y');
  l.add('y', 'a_pkg', 'model.a_pkg.y');
  l.add('y', 'b_pkg', 'model.b_pkg.y_second');
  assert.equal(l.resolve('x', null, 'root', 'b_pkg'), 'model.root.x');
  assert.equal(l.resolve('x', 'b_pkg', 'root', 'root'), 'model.b_pkg.x');
  assert.equal(l.resolve('y', null, 'root', 'a_pkg'), 'model.a_pkg.y');
  assert.equal(l.resolve('y', null, 'root', 'root'), 'model.b_pkg.y');
  assert.equal(l.resolve('y', 'c_pkg', 'root', 'root'), undefined);
  assert.equal(l.resolve('z', null, 'root', 'root'), undefined);
  assert.deepEqual(l.names(), ['x', 'y']);
});
