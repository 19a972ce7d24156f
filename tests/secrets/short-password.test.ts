/**
 * A short or common password cannot corrupt output (issue 12, "Done when").
 *
 * Masking used to substitute the password's text everywhere, so a password
 * of `a`, `1`, `true`, `postgres` or `id` rewrote keys and values:
 * manifest.json and run_results.json became invalid JSON, `retry` could not
 * read them and the terminal printed `cre****ted`. As dbt, tsdbt now keeps the
 * password out structurally (it goes to the driver only; `debug` masks the
 * field), so every artifact and every line of output must be byte-identical
 * to a run with a long password, apart from timings and ids.
 *
 * A login role is created for the test and given each password in turn (the
 * server uses trust auth, so any password is accepted: what is checked is
 * what tsdbt writes).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { quoteIdentifier } from '../../src/adapters/quote.ts';
import { adminClient, FaultProject, type CliResult } from '../faults/harness.ts';

const skip = await postgresSkipReason();
const ROLE = `tsdbt_pw_${process.pid}_${randomBytes(3).toString('hex')}`;
const LONG = 'Long-Pw-8c41f2e9d7-unique-value';
/** The passwords of the issue; `1` and `true` unquoted in profiles.yml (YAML reads a number and a boolean). */
const SHORT: unknown[] = ['a', 1, true, 'postgres', 'id'];

const FILES = {
  'seeds/people.csv': 'id,name,expected\n1,alice,true\n2,bob,false\n3,a,true\n',
  'models/stg_people.sql': "{{ config(materialized='table') }}\nselect id, name, expected, 'postgres' as source_type, 'created' as state, true as a from {{ ref('people') }}",
  'models/people_view.sql': "select id, name, expected from {{ ref('stg_people') }} where id >= 1",
  'models/inc.sql': "{{ config(materialized='incremental', unique_key='id') }}\nselect id, name from {{ ref('stg_people') }}",
  'models/_schema.yml':
    'version: 2\nmodels:\n  - name: stg_people\n    description: "the expected id of a person"\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n      - name: name\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: ["alice", "bob"]\n',
};

/** JSON with timings and ids replaced (keys whose values differ by run, not by password). */
const VOLATILE = new Set([
  'generated_at', 'invocation_id', 'invocation_started_at', 'started_at', 'completed_at', 'execution_time', 'elapsed_time', 'created_at', 'thread_id',
  // the docs page's data (camelCase)
  'generatedAt', 'invocationId', 'completedAt', 'executionTime', 'elapsedTime',
]);
function normaliseJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normaliseJson);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = VOLATILE.has(k) ? '<volatile>' : normaliseJson(x);
    return out;
  }
  return typeof v === 'string' ? normaliseText(v) : v;
}
/** Text with durations, invocation tokens of helper relations and ids replaced. */
function normaliseText(s: string): string {
  return s
    .replace(/\b\d+\.\d+ ?s\b/g, '<secs>')
    .replace(/\b(time|timestamp)="[^"]*"/g, '$1="<volatile>"')
    .replace(/(__tsdbt_[a-z]+_)[0-9a-f]{6}\b/g, '$1<token>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<time>')
    // the console's clock (dbt's `HH:MM:SS  ` before each line) and its elapsed-time phrase
    .replace(/\b\d\d:\d\d:\d\d(\.\d+)?\b/g, '<clock>')
    .replace(/\d+ hours \d+ minutes and \d+(\.\d+)? seconds/g, '<elapsed>');
}

interface Snapshot {
  /** Output of each command, normalised. */
  readonly outputs: Record<string, { code: number | null; stdout: string; stderr: string }>;
  /** Every file under target/, normalised (JSON files parsed: they must be valid). */
  readonly files: Record<string, string>;
}

describe('a short or common password leaves every artifact valid and identical to a long one (postgres)', { skip }, () => {
  let p: FaultProject;

  before(async () => {
    const c = await adminClient();
    try {
      await c.query(`create role ${quoteIdentifier(ROLE)} login`);
      await c.query(`grant create, connect on database ${quoteIdentifier((await c.query('select current_database() as d')).rows[0].d)} to ${quoteIdentifier(ROLE)}`);
    } finally {
      await c.end();
    }
    p = await FaultProject.create(FILES, { profile: { user: ROLE } });
  });
  after(async () => {
    await p?.cleanup();
    const c = await adminClient();
    try {
      await c.query(`drop owned by ${quoteIdentifier(ROLE)}`);
      await c.query(`drop role if exists ${quoteIdentifier(ROLE)}`);
    } finally {
      await c.end();
    }
  });

  /** Sets the role's and the profile's password, runs the commands from an empty schema and target/. */
  async function runWith(password: unknown): Promise<Snapshot> {
    const c = await adminClient();
    try {
      await c.query(`alter role ${quoteIdentifier(ROLE)} password ${quoteLiteral(String(password))}`);
      await c.query(`drop schema if exists ${quoteIdentifier(p.schema)} cascade`);
    } finally {
      await c.end();
    }
    rmSync(`${p.dir}/target`, { recursive: true, force: true });
    p.writeProfile({ user: ROLE, password, threads: 1 }); // one thread: the order of output lines is the same every run
    const outputs: Snapshot['outputs'] = {};
    const files: Record<string, string> = {};
    const keep = (what: string, r: CliResult) => {
      outputs[what] = { code: r.code, stdout: normaliseText(r.stdout), stderr: normaliseText(r.stderr) };
    };
    const snapshot = (stage: string) => {
      for (const f of p.filesUnder('target')) {
        const rel = f.path.slice(p.dir.length + 1);
        let text = f.content;
        if (rel.endsWith('.json')) {
          let parsed: unknown;
          assert.doesNotThrow(() => (parsed = JSON.parse(Buffer.from(f.content, 'latin1').toString('utf8'))), `${rel} is not valid JSON with password ${JSON.stringify(password)}`);
          text = JSON.stringify(normaliseJson(parsed));
        } else if (rel.endsWith('.jsonl')) {
          // The run_results journal: one JSON document a line, each must parse; normalised as the artifacts are.
          text = f.content
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => {
              let parsed: unknown;
              assert.doesNotThrow(() => (parsed = JSON.parse(Buffer.from(l, 'latin1').toString('utf8'))), `a line of ${rel} is not valid JSON with password ${JSON.stringify(password)}`);
              return JSON.stringify(normaliseJson(parsed));
            })
            .join('\n');
        } else if (rel.endsWith('index.html')) {
          // The page embeds its data as JSON: normalised as the artifacts are (it must parse too).
          text = normaliseText(text.replace(/(<script id="tsdbt-data" type="application\/json">)([\s\S]*?)(<\/script>)/, (_m, a: string, json: string, b: string) => {
            let parsed: unknown;
            assert.doesNotThrow(() => (parsed = JSON.parse(Buffer.from(json, 'latin1').toString('utf8'))), `the data in ${rel} is not valid JSON with password ${JSON.stringify(password)}`);
            return a + JSON.stringify(normaliseJson(parsed)) + b;
          }));
        } else text = normaliseText(text);
        files[`${stage}:${rel}`] = text;
      }
    };
    keep('debug', await p.cli('debug'));
    const build = await p.cli('build', ['--junit', 'target/junit.xml']);
    keep('build', build);
    assert.equal(build.code, 1, `the accepted_values test fails (row 'a'): ${build.output}`);
    snapshot('build');
    const retry = await p.cli('retry');
    keep('retry', retry);
    assert.match(retry.output, /accepted_values/, `retry read run_results.json and re-ran the failed test: ${retry.output}`);
    snapshot('retry');
    keep('run', await p.cli('run'));
    keep('ls', await p.cli('ls', ['--output', 'json']));
    keep('docs', await p.cli('docs generate'));
    snapshot('docs');
    return { outputs, files };
  }

  it('each of a, 1, true, postgres, id: same files, same bytes, same output as the long password', async () => {
    const long = await runWith(LONG);
    assert.match(long.outputs.debug.stdout, /password: \*\*\*\*/);
    assert.match(long.outputs.debug.stdout, new RegExp(`user: ${ROLE}`));
    assert.ok(Object.keys(long.files).some((f) => f.endsWith('target/manifest.json')));
    assert.ok(Object.keys(long.files).some((f) => f.endsWith('target/run_results.json')));
    assert.ok(Object.keys(long.files).some((f) => f.includes('target/run/')));
    assert.ok(Object.keys(long.files).some((f) => f.endsWith('target/junit.xml')));
    const leaks = [...Object.entries(long.files), ...Object.entries(long.outputs).map(([k, o]) => [k, o.stdout + o.stderr] as const)]
      .filter(([, text]) => text.includes(LONG))
      .map(([k]) => k);
    assert.deepEqual(leaks, [], 'the long password is in these outputs');
    for (const pw of SHORT) {
      const short = await runWith(pw);
      assert.deepEqual(Object.keys(short.files).sort(), Object.keys(long.files).sort(), `password ${JSON.stringify(pw)}: the same files`);
      for (const [name, text] of Object.entries(long.files)) {
        assert.equal(short.files[name], text, `password ${JSON.stringify(pw)}: ${name} differs`);
      }
      assert.deepEqual(short.outputs, long.outputs, `password ${JSON.stringify(pw)}: the output differs`);
    }
  });
});

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
