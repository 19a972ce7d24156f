import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JinjaEnv } from '../jinja/index.ts';
import { findMaterializationMacro } from './materialization-macros.ts';

/** Registers `{% materialization %}` blocks per package (packages first, root last, as parseMacros does). */
function defsOf(files: Record<string, string>) {
  const env = new JinjaEnv({ rootPackage: 'root' });
  for (const [key, sql] of Object.entries(files)) {
    const [pkg, file] = key.split(':');
    env.addMacroFile(sql, file, pkg);
  }
  return env.macroDefinitions();
}

const block = (name: string, adapter?: string) => `{% materialization ${name}, ${adapter ? `adapter='${adapter}'` : 'default'} %}{{ return({'relations': []}) }}{% endmaterialization %}\n`;

test("dbt's find_materialization_macro_by_name: postgres over default, then root over packages", () => {
  const defs = defsOf({
    'pkg_a:macros/a.sql': block('my_mat') + block('other', 'postgres'),
    'root:macros/r.sql': block('my_mat') + block('other'),
  });
  assert.equal(findMaterializationMacro(defs, 'my_mat', 'root').choice?.macro, 'materialization_my_mat_default');
  assert.equal(findMaterializationMacro(defs, 'my_mat', 'root').choice?.packageName, 'root');
  // Specificity before locality (dbt's MaterializationCandidate ordering): the package's postgres block wins.
  const other = findMaterializationMacro(defs, 'other', 'root').choice;
  assert.deepEqual([other?.macro, other?.packageName], ['materialization_other_postgres', 'pkg_a']);
  assert.equal(findMaterializationMacro(defs, 'nothing', 'root').choice, undefined);
});

test('a package overriding a built-in materialization is ignored by default (dbt ≥ 1.8), with a warning; used when the flag is false', () => {
  const defs = defsOf({ 'obs:macros/v.sql': block('view', 'postgres') + block('view') });
  const strict = findMaterializationMacro(defs, 'view', 'root');
  assert.equal(strict.choice, undefined);
  assert.match(strict.warning ?? '', /Installed package 'obs' defines the built-in materialization 'view'.*not used/);
  const legacy = findMaterializationMacro(defs, 'view', 'root', false);
  assert.equal(legacy.choice?.macro, 'materialization_view_postgres');
  assert.match(legacy.warning ?? '', /overriding the built-in materialization 'view'/);
});

test('the root project overrides a built-in materialization; a package one is then ignored in its favour', () => {
  const defs = defsOf({ 'obs:macros/t.sql': block('table', 'postgres'), 'root:macros/t.sql': block('table') });
  const r = findMaterializationMacro(defs, 'table', 'root');
  assert.deepEqual([r.choice?.macro, r.choice?.packageName], ['materialization_table_default', 'root']);
  assert.match(r.warning ?? '', /not used/);
});
