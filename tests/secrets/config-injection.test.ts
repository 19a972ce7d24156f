/**
 * SQL injection through config, against the real PostgreSQL server: each config
 * key whose value reaches SQL gets a hostile value that would drop the table
 * `victim` if pasted into a statement. Each is either refused before the node
 * runs any statement (a project error naming the file and the key; the node's
 * relation is never created) or used as a quoted name — and `victim` still
 * holds its two rows afterwards.
 *
 * Exit code: a refused value fails the model before its first statement (exit 1)
 * today; once src/cli/pipeline.ts calls `checkNodeConfigs` before the run (see the
 * security branch's report) the whole invocation stops with exit 2 before any
 * statement. Both are accepted here; the message, the relations and the rows
 * left are asserted exactly.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject } from '../faults/harness.ts';

const skip = await postgresSkipReason();
const DROP = 'drop table {{ target.schema }}.victim; --';

/** A model `m` whose config holds the hostile value, and the error code and config key expected. */
const REFUSED: { name: string; file: string; body: string; code: string; key: string; command?: string }[] = [
  { name: 'index columns', file: 'models/m.sql', code: 'invalid-index-config', key: 'indexes', body: `{{ config(materialized='table', indexes=[{'columns': ['id); ${DROP}']}]) }}\nselect 1 as id` },
  { name: 'index type', file: 'models/m.sql', code: 'invalid-index-config', key: 'indexes', body: `{{ config(materialized='table', indexes=[{'columns': ['id'], 'type': 'btree (id); ${DROP}'}]) }}\nselect 1 as id` },
  { name: 'index unique', file: 'models/m.sql', code: 'invalid-index-config', key: 'indexes', body: `{{ config(materialized='table', indexes=[{'columns': ['id'], 'unique': 'true; ${DROP}'}]) }}\nselect 1 as id` },
  { name: 'unique_key (delete+insert)', file: 'models/m.sql', code: 'invalid-unique-key', key: 'unique_key', body: `{{ config(materialized='incremental', unique_key='id) in (select 1); ${DROP}') }}\nselect 1 as id` },
  { name: 'unique_key list entry', file: 'models/m.sql', code: 'invalid-unique-key', key: 'unique_key', body: `{{ config(materialized='incremental', unique_key=['id', 'id; ${DROP}']) }}\nselect 1 as id` },
  { name: 'unique_key expression with merge', file: 'models/m.sql', code: 'invalid-unique-key', key: 'unique_key', body: `{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id = id or true') }}\nselect 1 as id` },
  { name: 'incremental_predicates', file: 'models/m.sql', code: 'invalid-incremental-predicate', key: 'incremental_predicates', body: `{{ config(materialized='incremental', unique_key='id', incremental_predicates=['true); ${DROP}']) }}\nselect 1 as id` },
  { name: 'merge_update_columns', file: 'models/m.sql', code: 'invalid-merge-update-columns', key: 'merge_update_columns', body: `{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id', merge_update_columns=['id = 1; ${DROP}']) }}\nselect 1 as id` },
  { name: 'incremental_strategy', file: 'models/m.sql', code: 'invalid-incremental-strategy', key: 'incremental_strategy', body: `{{ config(materialized='incremental', incremental_strategy='append; ${DROP}') }}\nselect 1 as id` },
  { name: 'grants privilege', file: 'models/m.sql', code: 'invalid-grant-privilege', key: 'grants', body: `{{ config(materialized='table', grants={'select on {{ target.schema }}.victim to public; ${DROP}': ['postgres']}) }}\nselect 1 as id` },
  { name: 'grants role', file: 'models/m.sql', code: 'invalid-grantee', key: 'grants', body: `{{ config(materialized='table', grants={'select': ['postgres; ${DROP}']}) }}\nselect 1 as id` },
];

describe('SQL injection through config (postgres)', { skip, concurrency: 1 }, () => {
  let p: FaultProject;
  const victimRows = async () => p.rows<{ id: number }>(`select id from "${p.schema}".victim order by id`);

  before(async () => {
    p = await FaultProject.create({ 'models/m.sql': 'select 1 as id' });
    await p.rows(`create schema "${p.schema}"`);
    await p.rows(`create table "${p.schema}".victim (id int); insert into "${p.schema}".victim values (1), (2)`);
  });
  after(async () => {
    await p?.cleanup();
  });

  for (const c of REFUSED) {
    it(`${c.name}: refused naming ${c.file} and '${c.key}', no statement run, victim intact`, async () => {
      // target.schema is rendered by Jinja inside the config string, so the DROP names the real victim.
      p.write({ [c.file]: c.body.replaceAll('{{ target.schema }}', p.schema) });
      const r = await p.cli('run', ['--select', 'm']);
      assert.equal(r.code, 2, r.output); // refused before any statement: a project error
      assert.match(r.output, new RegExp(`\\[${c.code}\\]`), r.output);
      assert.match(r.output, new RegExp(`config '${c.key}'|${c.key}:`), r.output);
      assert.match(r.output, /models\/m\.sql/);
      assert.doesNotMatch(r.output, /\n\s+at /, 'no stack trace');
      assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
      // Nothing of m was built: not the model, not its intermediate relation.
      assert.deepEqual(await p.relations(), ['victim']);
    });
  }

  it('seed column_types: refused naming the key, victim intact', async () => {
    p.write({
      'models/m.sql': null,
      'seeds/s.csv': 'id,name\n1,a\n',
      'seeds/_seeds.yml': `version: 2\nseeds:\n  - name: s\n    config:\n      column_types:\n        id: 'integer); drop table ${p.schema}.victim; --'\n`,
    });
    const r = await p.cli('seed');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /\[invalid-column-type\]/);
    assert.match(r.output, /column_types/);
    assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(await p.relations(), ['victim']);
  });

  it('seed with quote_columns: false and a hostile header: the header is a quoted column name', async () => {
    p.write({
      'seeds/s.csv': `"ID); drop table ${p.schema}.victim; --",name\n1,a\n`,
      'seeds/_seeds.yml': 'version: 2\nseeds:\n  - name: s\n    config:\n      quote_columns: false\n',
    });
    const r = await p.cli('seed');
    assert.equal(r.code, 0, r.output);
    const cols = await p.rows<{ column_name: string }>(`select column_name from information_schema.columns where table_schema = $1 and table_name = 's' order by ordinal_position`, [p.schema]);
    // Folded to lower case as dbt's unquoted name would be, then quoted.
    assert.deepEqual(cols.map((x) => x.column_name), [`id); drop table ${p.schema}.victim; --`, 'name']);
    assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
    p.write({ 'seeds/s.csv': null, 'seeds/_seeds.yml': null });
    await p.rows(`drop table "${p.schema}".s`);
  });

  it('a quoted grants role is used as a role name: the server says no such role, victim intact', async () => {
    p.write({ 'models/m.sql': `{{ config(materialized='table', grants={'select': ['"x; drop table ${p.schema}.victim; --"']}) }}\nselect 1 as id` });
    const r = await p.cli('run', ['--select', 'm']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /role "x; drop table [^"]+\.victim; --" does not exist/);
    assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(await p.relations(), ['victim']);
  });

  it('on_schema_change is never written into SQL: a hostile value is dbt\'s warning and ignore', async () => {
    const model = `{{ config(materialized='incremental', on_schema_change='fail; drop table ${p.schema}.victim; --') }}\nselect 1 as id`;
    p.write({ 'models/m.sql': model });
    for (let i = 0; i < 2; i++) {
      const r = await p.cli('run', ['--select', 'm']);
      assert.equal(r.code, 0, r.output);
      if (i === 1) assert.match(r.output, /Invalid value for on_schema_change/);
    }
    assert.deepEqual(await p.rows(`select id from "${p.schema}".m`), [{ id: 1 }, { id: 1 }]);
    assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
    await p.rows(`drop table "${p.schema}".m`);
  });

  it('materialized is never written into SQL: an unknown one is a project error (exit 2)', async () => {
    p.write({ 'models/m.sql': `{{ config(materialized='table; drop table ${p.schema}.victim; --') }}\nselect 1 as id` });
    const r = await p.cli('run', ['--select', 'm']);
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /models\/m\.sql/);
    assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(await p.relations(), ['victim']);
  });

  it('accepted expressions still work as dbt writes them: an expression unique_key and predicate (delete+insert), twice', async () => {
    p.write({
      'models/m.sql':
        "{{ config(materialized='incremental', unique_key='coalesce(id, 0)', incremental_predicates=[\"DBT_INTERNAL_DEST.id > 0 or DBT_INTERNAL_DEST.name = ''\"], indexes=[{'columns': ['id', 'name'], 'unique': true}]) }}\n" +
        "select 1 as id, 'b' as name union all select 2, 'c'",
    });
    for (let i = 0; i < 2; i++) {
      const r = await p.cli('run', ['--select', 'm']);
      assert.equal(r.code, 0, r.output);
    }
    assert.deepEqual(await p.rows(`select id, name from "${p.schema}".m order by id`), [{ id: 1, name: 'b' }, { id: 2, name: 'c' }]);
    assert.deepEqual(await victimRows(), [{ id: 1 }, { id: 2 }]);
  });
});
