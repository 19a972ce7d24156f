/**
 * Secrets never leave the process, as dbt keeps them: the profile password
 * (here read from a DBT_ENV_SECRET_ variable in profiles.yml, where dbt allows
 * it) goes to the driver only; `env_var('DBT_ENV_SECRET_…')` anywhere else
 * (models, macros, properties, dbt_project.yml) is refused with file:line and
 * exit 2 before anything runs; `tsdbt debug` shows the password field masked.
 *
 * The test runs several commands with a distinctive password and secret, then
 * greps EVERY file under target/ and all stdout/stderr for them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason } from '../../src/adapters/testing.ts';
import { FaultProject, type CliResult } from '../faults/harness.ts';

const PASSWORD = 'pw-Zq81xK7v-unique';
const TOKEN = 'tok-9fH2kQpL3s-unique';
const ENV = { DBT_ENV_SECRET_DB_PASSWORD: PASSWORD, DBT_ENV_SECRET_API_TOKEN: TOKEN };

const skip = await postgresSkipReason();

describe('secrets stay out of every output (postgres)', { skip }, () => {
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
        'models/base.sql': "{{ config(materialized='table', meta={'owner': 'data'}) }}\nselect 1 as id, '{{ target.name }}' as t",
        'models/downstream.sql': "select * from {{ ref('base') }}",
        'models/_schema.yml':
          'version: 2\nmodels:\n  - name: base\n    description: a base table\n    columns:\n      - name: t\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: ["nope"]\n',
      },
      { profile: { password: "{{ env_var('DBT_ENV_SECRET_DB_PASSWORD') }}" } },
    );
  });
  after(async () => {
    await p?.cleanup();
  });

  it('debug masks the password field', async () => {
    const r = await cli('debug');
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /password: \*\*\*\*/);
    assert.match(r.stdout, /Connection test: OK/);
  });

  it('build, compile, run, retry, ls, show, docs, parse: the password is nowhere in target/ or the output', async () => {
    const build = await cli('build');
    assert.equal(build.code, 1, build.output);
    assert.deepEqual(await p.rows(`select id from ${p.schema}.base`), [{ id: 1 }]);
    await cli('compile');
    await cli('compile', ['--select', 'base']);
    await cli('run', ['--select', 'base', '--debug']);
    await cli('retry');
    await cli('ls', ['--output', 'json']);
    await cli('show', ['--select', 'base']);
    await cli('docs generate');
    await cli('parse');

    const files = p.filesUnder('target');
    const names = files.map((f) => f.path.slice(p.dir.length + 1));
    for (const must of ['target/manifest.json', 'target/run_results.json', 'target/catalog.json', 'target/index.html', 'target/partial_parse.json']) {
      assert.ok(names.includes(must), `${must} written (${names.join(', ')})`);
    }
    assert.ok(names.some((n) => n.startsWith('target/compiled/')), 'compiled files written');
    assert.ok(names.some((n) => n.startsWith('target/run/')), 'run files written');
    const leaks: string[] = [];
    for (const f of files) {
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
  });

  // dbt: "Secret env vars are allowed only in profiles.yml or packages.yml" (SecretEnvVarLocationError).
  const refused: [string, Record<string, string | null>, RegExp][] = [
    ['a model', { 'models/leak.sql': "select 1 as x,\n  '{{ env_var(\"DBT_ENV_SECRET_API_TOKEN\") }}' as t" }, /^models\/leak\.sql:2:\d+ \[secret-env-var\]/m],
    [
      'a macro (named in its file, with the model that called it)',
      { 'macros/leaky.sql': "{% macro leaky() %}\n  {{ return(env_var('DBT_ENV_SECRET_API_TOKEN', 'x')) }}\n{% endmacro %}\n", 'models/leak.sql': "select '{{ leaky() }}' as t" },
      /^macros\/leaky\.sql:2:\d+ \[secret-env-var\].*called from models\/leak\.sql:1/m,
    ],
    [
      'a properties file (a source)',
      { 'models/_src.yml': "version: 2\nsources:\n  - name: raw\n    schema: \"{{ env_var('DBT_ENV_SECRET_API_TOKEN') }}\"\n    tables:\n      - name: t\n" },
      /^models\/_src\.yml:[34](:\d+)? \[secret-env-var\]/m,
    ],
    [
      'a generic test argument',
      { 'models/tested.sql': 'select 1 as id', 'models/_t.yml': "version: 2\nmodels:\n  - name: tested\n    columns:\n      - name: id\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: [\"{{ env_var('DBT_ENV_SECRET_API_TOKEN') }}\"]\n" },
      /\[secret-env-var\]/,
    ],
  ];
  for (const [where, files, re] of refused) {
    it(`env_var('DBT_ENV_SECRET_…') in ${where} is refused: exit 2, file:line, nothing run, the value nowhere`, async () => {
      p.write(files);
      const before = await p.rows(`select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1`, [p.schema]);
      try {
        await p.cli('build', ['--full-refresh'], ENV).then((r) => {
          assert.equal(r.code, 2, r.output);
          assert.match(r.stderr, re);
          assert.match(r.stderr, /allowed only in profiles\.yml and packages\.yml/);
          assert.ok(!r.output.includes(TOKEN) && !r.output.includes(PASSWORD), r.output);
        });
        assert.deepEqual(await p.rows(`select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1`, [p.schema]), before);
        for (const f of p.filesUnder('target')) assert.ok(!f.content.includes(TOKEN), f.path);
      } finally {
        p.write(Object.fromEntries(Object.keys(files).map((k) => [k, null])));
      }
    });
  }

  it("env_var('DBT_ENV_SECRET_…') in dbt_project.yml is refused with its line", async () => {
    const yml = "name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\nmodels:\n  faults:\n    +meta:\n      k: \"{{ env_var('DBT_ENV_SECRET_API_TOKEN') }}\"\n";
    const original = p.filesUnder('.').find((f) => f.path.endsWith('/dbt_project.yml'))!.content;
    p.write({ 'dbt_project.yml': yml });
    try {
      const r = await p.cli('parse', [], ENV);
      assert.equal(r.code, 2, r.output);
      assert.match(r.stderr, /dbt_project\.yml:8(:\d+)? \[secret-env-var\]/);
      assert.ok(!r.output.includes(TOKEN));
    } finally {
      p.write({ 'dbt_project.yml': original });
    }
  });
});

describe('secret env vars are refused on the embedded database too (pglite)', () => {
  let p: FaultProject;
  before(async () => {
    p = await FaultProject.create(
      { 'models/ok.sql': 'select 1 as id', 'models/leak.sql': "select '{{ env_var(\"DBT_ENV_SECRET_API_TOKEN\") }}' as t" },
      { engine: 'pglite' },
    );
  });
  after(async () => {
    await p?.cleanup();
  });

  it('a model reading DBT_ENV_SECRET_… stops the run before anything is built (exit 2, file:line)', async () => {
    const r = await p.cli('run', [], ENV);
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /^models\/leak\.sql:1:\d+ \[secret-env-var\]/m);
    assert.ok(!r.output.includes(TOKEN));
    assert.deepEqual(await p.relations(), []);
  });
});
