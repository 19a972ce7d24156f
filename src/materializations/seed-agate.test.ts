/**
 * seed-agate.ts: dbt's `load_agate_table()` for a user-defined seed materialization, and
 * `adapter.add_query` bindings interpolated as psycopg2 does (`%s` → literal, `%%` → `%`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindSql, loadSeedAgate } from './seed-agate.ts';

describe('loadSeedAgate (dbt load_agate_table)', () => {
  it('reads every row with agate column types; empty fields are None; column_types columns stay text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-seed-agate-'));
    const file = join(dir, 's.csv');
    writeFileSync(file, 'id,price,ok,day,code\n1,2.5,True,2024-01-02,007\n2,,false,,010\n');
    const { table, sqlTypes } = await loadSeedAgate({ file, displayPath: 'seeds/s.csv', columnTypes: { code: 'varchar(3)' } });
    assert.deepEqual(table.column_names, ['id', 'price', 'ok', 'day', 'code']);
    assert.deepEqual(table.column_types, ['Number', 'Number', 'Boolean', 'Date', 'Text']);
    assert.deepEqual(sqlTypes, ['integer', 'numeric', 'boolean', 'date', 'varchar(3)']);
    assert.deepEqual(table.toData(), [
      [1, 2.5, true, '2024-01-02', '007'],
      [2, null, false, null, '010'],
    ]);
  });

  it('a ragged row is seed-ragged-row naming the file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-seed-agate-'));
    const file = join(dir, 'r.csv');
    writeFileSync(file, 'a,b\n1,2\n3\n');
    await assert.rejects(loadSeedAgate({ file, displayPath: 'seeds/r.csv' }), /seeds\/r\.csv: line 3 has 1 field, the header has 2/);
  });
});

describe('bindSql (adapter.add_query bindings, as psycopg2)', () => {
  it('binds None, booleans, numbers and quoted strings in order; %% is a percent sign', () => {
    assert.equal(bindSql("insert into t values (%s,%s,%s,%s) -- 100%%", [null, true, 1.5, "O'Brien"], 'm.sql'), "insert into t values (NULL,true,1.5,'O''Brien') -- 100%");
  });
  it('a count mismatch is an error', () => {
    assert.throws(() => bindSql('values (%s, %s)', [1], 'm.sql'), /2 %s placeholder\(s\) but 1 binding\(s\)/);
  });
});
