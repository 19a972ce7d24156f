import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failingRowsSql, testResult, testStatus, wrapTestSql } from './test-sql.ts';

describe('wrapTestSql', () => {
  it("has dbt's get_test_sql shape with the defaults", () => {
    assert.equal(
      wrapTestSql('select * from t where x is null;  \n'),
      [
        'select',
        '  count(*) as failures,',
        '  count(*) != 0 as should_warn,',
        '  count(*) != 0 as should_error',
        'from (',
        'select * from t where x is null',
        ') dbt_internal_test',
      ].join('\n'),
    );
  });
  it('uses fail_calc, warn_if, error_if and limit', () => {
    const sql = wrapTestSql('select n from t -- note', { fail_calc: 'sum(n)', warn_if: '>=5', error_if: '>10', limit: 100 });
    assert.match(sql, /sum\(n\) as failures,\n {2}sum\(n\) >=5 as should_warn,\n {2}sum\(n\) >10 as should_error/);
    assert.match(sql, /select n from t -- note\nlimit 100\n\) dbt_internal_test$/);
  });
  it('failingRowsSql caps the rows shown', () => {
    assert.equal(failingRowsSql('select 1', 5), 'select * from (\nselect 1\n) dbt_internal_test\nlimit 5');
  });
});

describe('testStatus / testResult', () => {
  const row = (failures: number | string, should_warn: unknown, should_error: unknown) =>
    ({ failures, should_warn, should_error }) as Parameters<typeof testStatus>[0];

  it('severity error: error_if decides fail, else warn_if decides warn', () => {
    assert.equal(testStatus(row(12, true, true), 'error'), 'fail');
    assert.equal(testStatus(row(7, true, false), 'ERROR'), 'warn');
    assert.equal(testStatus(row(0, false, false), 'error'), 'pass');
  });
  it('severity warn: only warn_if counts, and the result is warn', () => {
    assert.equal(testStatus(row(12, true, true), 'warn'), 'warn');
    assert.equal(testStatus(row(12, false, true), 'warn'), 'pass');
  });
  it('--warn-error turns a warning into a failure', () => {
    assert.equal(testStatus(row(7, true, false), 'error', { warnError: true }), 'fail');
    assert.equal(testStatus(row(7, true, true), 'warn', { warnError: true }), 'fail');
  });
  it('accepts driver values: bigint strings and t/f strings', () => {
    assert.equal(testStatus(row('3', 'f', 't'), 'error'), 'fail');
    assert.equal(testStatus(row('3', 'true', 'false'), 'error'), 'warn');
  });
  it("gives dbt's messages and failure counts", () => {
    assert.deepEqual(testResult(row('3', true, true), { error_if: '>2' }), {
      status: 'fail',
      message: 'Got 3 results, configured to fail if >2',
      failures: 3,
    });
    assert.deepEqual(testResult(row(1, true, false), { warn_if: '>=1', error_if: '>10' }), {
      status: 'warn',
      message: 'Got 1 result, configured to warn if >=1',
      failures: 1,
    });
    assert.deepEqual(testResult(row(1, true, false), {}, { warnError: true }), {
      status: 'fail',
      message: 'Got 1 result, configured to fail if != 0',
      failures: 1,
    });
    assert.deepEqual(testResult(row(4, false, false), { warn_if: '>10', error_if: '>10' }), { status: 'pass', message: null, failures: 0 });
  });
});
