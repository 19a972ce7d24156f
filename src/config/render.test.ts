/**
 * yml values are rendered by the same Jinja as models (src/jinja), so they print and convert as dbt's
 * Jinja2 does: `True`/`None` as Python prints them, and `as_native` of a list or dict gives the list or dict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderValue } from './render.ts';
import { thrown } from './write-project.ts';

const ctx = { env: {}, cliVars: { flag: true, regions: ['eu', 'us'] }, file: 'dbt_project.yml', fileKind: 'dbt_project.yml' };

test('values print as Jinja2 prints them (dbt renders a non-native value to text)', () => {
  assert.equal(renderValue("{{ var('flag') }}", ctx), 'True');
  assert.equal(renderValue("{{ none }}", ctx), 'None');
  assert.equal(renderValue("{{ var('regions') }}", ctx), "['eu', 'us']");
});

test('as_native turns a list or dict into the list or dict; as_bool / as_number convert', () => {
  assert.deepEqual(renderValue("{{ var('regions') | as_native }}", ctx), ['eu', 'us']);
  assert.deepEqual(renderValue("{{ {'select': ['analyst']} | as_native }}", ctx), { select: ['analyst'] });
  assert.equal(renderValue("{{ var('flag') | as_bool }}", ctx), true);
  assert.equal(renderValue("{{ '8' | as_number }}", ctx), 8);
});

test('a syntax error is jinja-error naming the file and line once', () => {
  const e = thrown(() => renderValue('{{ unclosed ', ctx, 4));
  assert.equal(e.code, 'jinja-error');
  assert.equal(e.message, 'could not render "{{ unclosed " in dbt_project.yml: Jinja syntax error: expected variable end');
  assert.equal(e.line, 4);
});
