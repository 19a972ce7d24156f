import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { parseTestEntry, testMacroName } from './test-spec.ts';

const at = { file: 'models/schema.yml', line: 12 };

describe('parseTestEntry', () => {
  it('reads a bare name', () => {
    const s = parseTestEntry('unique', at);
    assert.equal(s.testName, 'unique');
    assert.equal(s.namespace, null);
    assert.deepEqual(s.kwargs, {});
    assert.deepEqual(s.config, {});
    assert.equal(s.explicitName, undefined);
    assert.equal(s.file, 'models/schema.yml');
    assert.equal(s.line, 12);
  });

  it('reads arguments with the older inline config keys', () => {
    const s = parseTestEntry({ accepted_values: { values: ['a', 'b'], quote: false, severity: 'warn', where: 'x > 1' } }, at);
    assert.equal(s.testName, 'accepted_values');
    assert.deepEqual(s.kwargs, { values: ['a', 'b'], quote: false });
    assert.deepEqual(s.config, { severity: 'warn', where: 'x > 1' });
  });

  it('reads nested config and relationships arguments', () => {
    const s = parseTestEntry(
      { relationships: { to: "ref('dim_user')", field: 'user_key', config: { error_if: '>10', warn_if: '>=5', store_failures: true } } },
      at,
    );
    assert.deepEqual(s.kwargs, { to: "ref('dim_user')", field: 'user_key' });
    assert.deepEqual(s.config, { error_if: '>10', warn_if: '>=5', store_failures: true });
  });

  it('reads the dbt 1.10+ arguments: form', () => {
    const s = parseTestEntry(
      { accepted_values: { arguments: { values: ['placed', 'shipped'], quote: true }, config: { severity: 'warn', limit: 10 } } },
      at,
    );
    assert.deepEqual(s.kwargs, { values: ['placed', 'shipped'], quote: true });
    assert.deepEqual(s.config, { severity: 'warn', limit: 10 });
  });

  it('reads a namespaced test and its macro name', () => {
    const s = parseTestEntry({ 'dbt_utils.expression_is_true': { arguments: { expression: 'a + b = c' } } }, at);
    assert.equal(s.namespace, 'dbt_utils');
    assert.equal(s.testName, 'expression_is_true');
    assert.equal(testMacroName(s), 'dbt_utils.test_expression_is_true');
    assert.equal(testMacroName(parseTestEntry('unique', at)), 'test_unique');
  });

  it('takes an explicit name and description out of the arguments', () => {
    const s = parseTestEntry({ unique: { name: 'orders_id_is_unique', description: 'ids are unique', config: { where: '1=1' } } }, at);
    assert.equal(s.explicitName, 'orders_id_is_unique');
    assert.equal(s.description, 'ids are unique');
    assert.deepEqual(s.kwargs, {});
    assert.deepEqual(s.config, { where: '1=1' });
  });

  it('reads the test_name: form', () => {
    const s = parseTestEntry({ test_name: 'not_null', name: 'nn', config: { severity: 'warn' } }, at);
    assert.equal(s.testName, 'not_null');
    assert.equal(s.explicitName, 'nn');
    assert.deepEqual(s.config, { severity: 'warn' });
  });

  it('does not mutate the YAML value it was given', () => {
    const entry = { unique: { config: { where: 'a' }, severity: 'warn' } };
    const copy = structuredClone(entry);
    parseTestEntry(entry, at);
    assert.deepEqual(entry, copy);
  });

  it('keeps Jinja in config strings for the caller to render', () => {
    const s = parseTestEntry({ unique: { config: { severity: "{{ 'warn' if target.name == 'dev' else 'error' }}" } } }, at);
    assert.match(String(s.config.severity), /target\.name/);
  });

  const bad: [string, unknown, RegExp, RegExp][] = [
    ['a number', 42, /must be a test name or a mapping/, /- unique/],
    ['two keys', { unique: {}, not_null: {} }, /exactly one key.*'unique', 'not_null'/, /indent/],
    ['null arguments', { not_null: null }, /arguments of test 'not_null' must be a mapping/, /without a colon/],
    ['list arguments', { accepted_values: ['a'] }, /must be a mapping, got a list/, /arguments/],
    ['bad name', 'not-null', /'not-null' is not a valid test name/, /identifier/],
    ['model argument', { unique: { model: 'x' } }, /argument named 'model'/, /remove it/],
    ['same key twice', { unique: { severity: 'warn', config: { severity: 'error' } } }, /both directly and under 'config:'/, /only/],
    ['bad severity', { unique: { config: { severity: 'fatal' } } }, /severity "fatal"/, /'warn' or 'error'/],
    ['bad limit', { unique: { config: { limit: 'ten' } } }, /limit "ten"/, /whole number/],
    ['config not a mapping', { unique: { config: 'x' } }, /'config' of test 'unique' must be a mapping/, /config/],
    ['arguments not a mapping', { unique: { arguments: [1] } }, /'arguments' of test 'unique' must be a mapping/, /arguments/],
    ['bad name:', { unique: { name: 3 } }, /'name' of test 'unique' must be a non-empty string/, /name/],
  ];
  for (const [label, entry, message, hint] of bad) {
    it(`rejects ${label} with test-invalid, file, line and hint`, () => {
      assert.throws(
        () => parseTestEntry(entry, at),
        (e: unknown) => {
          assert.ok(e instanceof TsdbtError);
          assert.equal(e.code, 'test-invalid');
          assert.equal(e.file, 'models/schema.yml');
          assert.equal(e.line, 12);
          assert.match(e.message, message);
          assert.match(e.hint ?? '', hint);
          return true;
        },
      );
    });
  }
});
