/**
 * Secrets never leave the process: the profile password and every env_var()
 * whose name contains PASSWORD, SECRET, TOKEN or KEY are masked (`****`) in
 * console output, error messages, target/ (manifest.json, run_results.json,
 * compiled and run SQL, catalog.json, the docs site) — while the database
 * receives the real values. `tsdbt debug` shows the password masked.
 *
 * The test runs several commands with a distinctive password and token, then
 * greps EVERY file under target/ and all stdout/stderr for them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject, type CliResult } from '../faults/harness.ts';

const PASSWORD = 'pw-Zq81xK7v-unique';
const TOKEN = 'tok-9fH2kQpL3s-unique';
const ENV = { TSDBT_TEST_DB_PASSWORD: PASSWORD, MY_API_TOKEN: TOKEN };

const skip = await postgresSkipReason();

describe('secrets are masked everywhere (postgres)', { skip }, () => {
  let p: FaultProject;
  const outputs: { what: string; r: CliResult }[] = [];
  const cli = async (command: string, args: string[] = []) => {
    const r = await p.cli(command, args, ENV);
    outputs.push({ what: `${command} ${args.join(' ')}`, r });
    return r;
  };

  before(async () => {
    p = await FaultProject.create(
      {
        // The token reaches the database (the row proves it) but not the artifacts.
        'models/uses_token.sql': `{{ config(materialized='table', meta={'owner': 'data'}) }}\nselect '{{ env_var("MY_API_TOKEN") }}' as t, length('{{ env_var("MY_API_TOKEN") }}') as n`,
        // Postgres's error message quotes the value: it must come out masked.
        'models/fails_with_token.sql': `{{ config(materialized='table') }}\nselect '{{ env_var("MY_API_TOKEN") }}'::int as t`,
        'models/downstream.sql': "select * from {{ ref('uses_token') }}",
        'models/_schema.yml':
          'version: 2\nmodels:\n  - name: uses_token\n    description: uses an API token\n    columns:\n      - name: t\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: ["nope"]\n',
      },
      { profile: { password: "{{ env_var('TSDBT_TEST_DB_PASSWORD') }}" } },
    );
  });
  after(async () => {
    await p?.cleanup();
  });

  it('debug masks the password', async () => {
    const r = await cli('debug');
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /password: \*\*\*\*/);
    assert.match(r.stdout, /Connection test: OK/);
  });

  it('build, compile, run, retry, ls, docs: the database gets the real value, nothing else does', async () => {
    const build = await cli('build');
    assert.equal(build.code, 1, build.output);
    assert.deepEqual(await p.rows(`select n from ${p.schema}.uses_token`), [{ n: TOKEN.length }]);
    // The failing model's error message (which quotes the value) is there, masked.
    assert.match(build.stderr, /invalid input syntax for type integer: "\*\*\*\*"/);
    // The failing test's message and failing rows are shown, masked.
    assert.match(build.output, /\*\*\*\*/);
    await cli('compile');
    await cli('compile', ['--select', 'uses_token']);
    await cli('run', ['--select', 'uses_token', '--debug']);
    await cli('retry');
    await cli('ls', ['--output', 'json']);
    await cli('show', ['--select', 'uses_token']);
    await cli('docs', ['generate']);
    await cli('parse');

    const files = p.filesUnder('target');
    const names = files.map((f) => f.path.slice(p.dir.length + 1));
    for (const must of ['target/manifest.json', 'target/run_results.json']) assert.ok(names.includes(must), `${must} written (${names.join(', ')})`);
    assert.ok(names.some((n) => n.startsWith('target/compiled/')), 'compiled files written');
    assert.ok(names.some((n) => n.startsWith('target/run/')), 'run files written');
    const leaks: string[] = [];
    for (const f of files) {
      if (f.path.endsWith('partial_parse.json')) continue; // see the next test
      for (const [name, secret] of [['password', PASSWORD], ['token', TOKEN]]) {
        if (f.content.includes(secret)) leaks.push(`${name} in ${f.path.slice(p.dir.length + 1)}`);
      }
    }
    for (const { what, r } of outputs) {
      for (const [name, secret] of [['password', PASSWORD], ['token', TOKEN]]) {
        if (r.stdout.includes(secret)) leaks.push(`${name} in stdout of ${what}`);
        if (r.stderr.includes(secret)) leaks.push(`${name} in stderr of ${what}`);
      }
    }
    assert.deepEqual(leaks, []);
    // The masked compiled SQL shows where the secret was.
    const compiled = files.find((f) => f.path.endsWith('compiled/faults/models/uses_token.sql'));
    assert.match(compiled?.content ?? '', /select '\*\*\*\*' as t/);
  });

  it(
    'a secret in a config value (meta) is masked in manifest.json and `ls --output json`',
    async () => {
      p.write({ 'models/meta_secret.sql': "{{ config(meta={'api': env_var('MY_API_TOKEN')}) }}\nselect 1 as x" });
      const parse = await p.cli('parse', [], ENV);
      const ls = await p.cli('ls', ['--output', 'json'], ENV);
      const manifest = p.filesUnder('target').find((f) => f.path.endsWith('manifest.json'));
      p.write({ 'models/meta_secret.sql': null });
      assert.equal(parse.code, 0, parse.output);
      assert.equal(manifest?.content.includes(TOKEN), false, 'the token is in manifest.json');
      assert.equal(ls.stdout.includes(TOKEN), false, 'the token is in the output of ls --output json');
    },
  );

  it('target/partial_parse.json holds no secret value', () => {
    const cache = p.filesUnder('target').find((f) => f.path.endsWith('partial_parse.json'));
    assert.ok(cache, 'partial_parse.json written');
    assert.equal(cache.content.includes(TOKEN), false, 'the token is in partial_parse.json');
  });
});
