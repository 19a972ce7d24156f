/**
 * Identifiers and literals reach SQL only through the adapter's quoting: a
 * model alias, a custom schema, seed columns and model columns containing
 * quotes, spaces and semicolons are created exactly as named — and nothing is
 * injected (a sentinel table survives). On PostgreSQL and PGlite.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject } from '../faults/harness.ts';

const FILES = {
  'models/weird.sql': `{{ config(alias='we"ird; drop table sentinel; --', materialized='table') }}\nselect 1 as "col; drop table sentinel", 'it''s "quoted"; --' as "Quote""d"`,
  'models/spaced.sql': `{{ config(schema='sp ace"; x', materialized='view') }}\nselect * from {{ ref('weird') }}`,
  'seeds/odd seed.csv': '"a""b; c",plain\n1,x\n2,y\n',
  'models/uses_seed.sql': `{{ config(materialized='table') }}\nselect "a""b; c" as n from {{ ref('odd seed') }}`,
};
/** A generic test on the odd column, `quote: true` as dbt requires for such names (column_name is otherwise an SQL expression). */
const QUOTED_COLUMN_TEST =
  'version: 2\nmodels:\n  - name: weird\n    columns:\n      - name: \'col; drop table sentinel\'\n        quote: true\n        data_tests: [not_null]\n';

const skip = await postgresSkipReason();

for (const engine of ['postgres', 'pglite'] as const) {
  describe(`odd identifiers end to end (${engine})`, { skip: engine === 'postgres' ? skip : undefined }, () => {
    let p: FaultProject;
    before(async () => {
      p = await FaultProject.create(FILES, { engine });
      await p.rows(`create table if not exists "${p.schema}".sentinel (x int)`).catch(async () => {
        await p.rows(`create schema if not exists "${p.schema}"`);
        await p.rows(`create table "${p.schema}".sentinel (x int)`);
      });
    });
    after(async () => {
      await p?.cleanup();
    });

    it('builds twice (create, then swap) with every name as written and nothing injected', async () => {
      for (let i = 0; i < 2; i++) {
        const r = await p.cli('build');
        assert.equal(r.code, 0, r.output);
      }
      assert.deepEqual(await p.relations(), ['odd seed', 'sentinel', 'uses_seed', 'we"ird; drop table sentinel; --']);
      assert.deepEqual(await p.relations(`${p.schema}_sp ace"; x`), ['spaced']);
      const rows = await p.rows(`select * from "${p.schema}_sp ace""; x".spaced`);
      assert.deepEqual(rows, [{ 'col; drop table sentinel': 1, 'Quote"d': 'it\'s "quoted"; --' }]);
      assert.deepEqual(await p.rows(`select n from "${p.schema}".uses_seed order by n`), [{ n: 1 }, { n: 2 }]);
    });

    it('a generic test on a column with quote: true quotes it', async () => {
      p.write({ 'models/_schema.yml': QUOTED_COLUMN_TEST });
      try {
        const r = await p.cli('test');
        assert.equal(r.code, 0, r.output);
        assert.match(r.stdout, /PASS not_null_weird/);
      } finally {
        p.write({ 'models/_schema.yml': null });
      }
      assert.ok((await p.relations()).includes('sentinel'));
    });
  });
}
