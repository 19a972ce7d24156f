/**
 * SQL validation before anything runs (issue 15): the planted syntax errors of
 * tests/fixtures/sql-errors are all reported in one go, each at the file, line
 * and column where the user wrote it (the model, a macro, a Jinja loop), exit 2,
 * and no model is built. dbt itself finds these only when the database runs each
 * statement (against the compiled file); `--no-validate` gives that behaviour back.
 * On PostgreSQL and PGlite.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, fixture, Project } from '../integration/harness.ts';

const FILES = fixture('sql-errors');

/** The `file:line:col [code]` heads of the errors printed. */
function heads(output: string): string[] {
  return [...output.matchAll(/^(\S+:\d+(?::\d+)?|\S+\.sql) \[(sql-[a-z-]+)\]/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

const EXPECTED = [
  'macros/casts.sql:2:21 sql-syntax', // cast({{ col }} as ) — the macro's line, not the model's
  'models/bad_static.sql:3:6 sql-syntax', // id,,
  'models/empty.sql sql-empty',
  'models/loop.sql:4:24 sql-syntax', // the loop body's second `as`
  'models/two.sql:2:1 sql-multiple-statements',
];

await describeEngines('SQL validation', (engine) => {
  it('run: every syntax error at its file:line:column, with a caret, exit 2, nothing built', async () => {
    const p = await Project.create(engine, FILES);
    try {
      const r = await p.cli('run');
      assert.equal(r.code, 2, r.output);
      assert.deepEqual(heads(r.output), EXPECTED, r.output);
      assert.match(r.output, / {2}3 \| {3}id,,\n {4}\| {6}\^/, 'the line and a caret under the second comma');
      assert.match(r.output, /syntax error at or near "\)"/);
      assert.match(r.output, /called from model 'uses_macro' at models\/uses_macro\.sql:3/);
      assert.match(r.output, /SQL not validated \(config validate: false\): skipped/);
      assert.match(r.output, /5 errors found; nothing was run/);
      assert.deepEqual(await p.relations(), {}, 'no model was built');
    } finally {
      await p.cleanup();
    }
  });

  it('run --no-validate: the check is off (said so), the database finds the errors instead', async () => {
    const p = await Project.create(engine, FILES);
    try {
      const r = await p.cli('run', ['--no-validate']);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /SQL validation is off \(--no-validate\)/);
      assert.equal((await p.relations()).a, 'view', r.output);
      assert.equal((await p.relations()).trailing, 'view', 'a trailing ; is fine');
    } finally {
      await p.cleanup();
    }
  });
});

await describeEngines('SQL validation in compile and parse', (engine) => {
  it('compile and parse run the same check (exit 2, same errors)', { skip: engine.name === 'postgres' ? 'compile/parse ask no database: checked once, on PGlite' : undefined }, async () => {
    const p = await Project.create(engine, FILES);
    try {
      for (const cmd of ['compile', 'parse']) {
        const r = await p.cli(cmd);
        assert.equal(r.code, 2, `${cmd}: ${r.output}`);
        assert.deepEqual(heads(r.output), EXPECTED, `${cmd}: ${r.output}`);
      }
      // Only the broken models removed: compile passes and writes lineage.json.
      p.write({ 'models/bad_static.sql': null, 'models/uses_macro.sql': null, 'models/loop.sql': null, 'models/two.sql': null, 'models/empty.sql': null });
      const ok = await p.cli('compile');
      assert.equal(ok.code, 0, ok.output);
      const lineage = p.json<{ nodes: Record<string, { columns: Record<string, unknown> }> }>('target/lineage.json');
      assert.deepEqual(Object.keys(lineage.nodes['model.sql_errors.a'].columns), ['id', 'name']);
    } finally {
      await p.cleanup();
    }
  });
});
