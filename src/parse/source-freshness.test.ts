import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { freshnessStatus, hasFreshness, mergeFreshness } from './source-freshness.ts';

const where = { file: 'models/sources.yml', line: 3 };

describe('mergeFreshness (dbt: project < source < table, key by key)', () => {
  it('a table inherits its source and overrides key by key, count and period each', () => {
    const f = mergeFreshness([{ warn_after: { count: 1, period: 'day' } }, { error_after: { count: 2, period: 'day' } }, { warn_after: { count: 6 } }], where);
    assert.deepEqual(f, { warn_after: { count: 6, period: 'day' }, error_after: { count: 2, period: 'day' }, filter: null });
  });
  it('not written inherits; a table written `freshness: null` has none; a later layer can set it again', () => {
    assert.equal(mergeFreshness([undefined, undefined], where), null);
    assert.equal(mergeFreshness([{ warn_after: { count: 1, period: 'hour' } }, null], where), null);
    assert.deepEqual(mergeFreshness([null, { filter: 'x > 1', error_after: { count: 1, period: 'minute' } }], where), {
      warn_after: { count: null, period: null },
      error_after: { count: 1, period: 'minute' },
      filter: 'x > 1',
    });
  });
  it('rejects a bad period or count with the file and line', () => {
    assert.throws(
      () => mergeFreshness([{ warn_after: { count: 1, period: 'week' } }], where),
      (e: unknown) => e instanceof TsdbtError && e.code === 'invalid-freshness' && e.file === 'models/sources.yml' && e.line === 3 && /minute, hour or day/.test(e.message),
    );
    assert.throws(() => mergeFreshness([{ error_after: { count: 'many', period: 'day' } }], where), /whole number/);
  });
});

describe('freshnessStatus (dbt FreshnessThreshold.status)', () => {
  const f = mergeFreshness([{ warn_after: { count: 1, period: 'hour' }, error_after: { count: 1, period: 'day' } }], where)!;
  it('pass up to the limit, warn past warn_after, error past error_after (strictly greater)', () => {
    assert.equal(freshnessStatus(f, 3600), 'pass');
    assert.equal(freshnessStatus(f, 3601), 'warn');
    assert.equal(freshnessStatus(f, 86400), 'warn');
    assert.equal(freshnessStatus(f, 86401), 'error');
  });
  it('a threshold with only a filter or a half-set time checks nothing (has_freshness false)', () => {
    assert.equal(hasFreshness(mergeFreshness([{ filter: 'a' }], where)), false);
    assert.equal(hasFreshness(mergeFreshness([{ warn_after: { count: 3 } }], where)), false);
    assert.equal(hasFreshness(f), true);
  });
});
