/**
 * The artifacts tsdbt writes validate against dbt's published JSON schemas
 * (tests/fixtures/dbt-schemas/: manifest v12, run-results v6, catalog v1, as
 * dbt-core 1.11 publishes them at https://schemas.getdbt.com/dbt/…), on both
 * engines, for a project with seeds, sources, models of every
 * materialization, a snapshot and data tests — after `build`, after
 * `docs generate` (catalog.json with its sources) and after a parse error
 * (run_results.json is still written, as dbt's `dbt run` writes it when the
 * manifest fails to load: no results, `success: false` — see the test below).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { describeEngines, FIXTURES, Project, projectYml, REPO_ROOT, type Files } from './harness.ts';
import { DBT_VERSION } from '../../src/parse/jinja-context.ts';

const addFormats = addFormatsImport as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
const schema = (name: string): ValidateFunction => ajv.compile(JSON.parse(readFileSync(join(FIXTURES, 'dbt-schemas', `${name}.json`), 'utf8')));
const validators = { manifest: schema('manifest-v12'), runResults: schema('run-results-v6'), catalog: schema('catalog-v1') };

/** Asserts `file` (JSON) validates against `validate`; the message lists the first schema errors. */
function assertValid(validate: ValidateFunction, file: string): Record<string, unknown> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const ok = validate(data);
  assert.ok(ok, `${file}:\n${(validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('\n')}`);
  return data;
}

const FILES: Files = {
  'dbt_project.yml': projectYml('artp'),
  'seeds/raw_orders.csv': 'id,amount,updated_at\n1,10,2024-01-01\n2,20,2024-01-02\n',
  'models/sources.yml': `version: 2
sources:
  - name: shop
    schema: "{{ target.schema }}"
    description: the shop's tables
    tables:
      - name: raw_orders
        description: orders as loaded
        columns:
          - name: id
            data_tests: [not_null]
models:
  - name: orders
    description: one row per order
    columns:
      - name: id
        data_tests: [unique, not_null]
`,
  'models/stg_orders.sql': "select * from {{ source('shop', 'raw_orders') }}\n",
  'models/eph.sql': "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('stg_orders') }}\n",
  'models/orders.sql': "{{ config(materialized='table') }}\nselect o.* from {{ ref('stg_orders') }} o join {{ ref('eph') }} using (id)\n",
  'models/orders_inc.sql': "{{ config(materialized='incremental', unique_key='id') }}\nselect * from {{ ref('raw_orders') }}\n",
  'snapshots/orders_snap.sql': "{% snapshot orders_snap %}\n{{ config(target_schema=target.schema, unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ ref('raw_orders') }}\n{% endsnapshot %}\n",
  'tests/data_quality/positive.sql': "select * from {{ ref('orders') }} where amount < 0\n",
};

await describeEngines('artifacts validate against dbt schemas', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('build: manifest.json (v12) and run_results.json (v6) validate; both say the dbt version tsdbt reports', async () => {
    // The source reads the seed's table: load it first (a source has no dependency to order by).
    const seed = await p.cli('seed');
    assert.equal(seed.code, 0, seed.output);
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    const m = assertValid(validators.manifest, join(p.dir, 'target', 'manifest.json')) as { metadata: { dbt_version: string; dbt_schema_version: string } };
    assert.equal(m.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
    assert.equal(m.metadata.dbt_version, DBT_VERSION);
    const rr = assertValid(validators.runResults, join(p.dir, 'target', 'run_results.json')) as { metadata: { dbt_version: string }; results: unknown[] };
    assert.equal(rr.metadata.dbt_version, DBT_VERSION);
    assert.ok(rr.results.length >= 8, String(rr.results.length));
  });

  it('docs generate: catalog.json (v1) validates and holds the sources with their columns', async () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'docs', 'generate', '--project-dir', p.dir, '--profiles-dir', p.dir], { cwd: p.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const c = assertValid(validators.catalog, join(p.dir, 'target', 'catalog.json')) as {
      metadata: { dbt_version: string };
      nodes: Record<string, unknown>;
      sources: Record<string, { unique_id: string; metadata: { schema: string; name: string; type: string }; columns: Record<string, { type: string; index: number }> }>;
    };
    assert.equal(c.metadata.dbt_version, DBT_VERSION);
    const src = c.sources['source.artp.shop.raw_orders'];
    assert.ok(src, `sources: ${Object.keys(c.sources).join(', ')}`);
    assert.equal(src.metadata.schema, p.schema);
    assert.equal(src.metadata.name, 'raw_orders');
    assert.deepEqual(Object.keys(src.columns), ['id', 'amount', 'updated_at']);
    assert.ok(c.nodes['model.artp.orders']);
    assertValid(validators.manifest, join(p.dir, 'target', 'manifest.json'));
  });

  it('a parse error still writes run_results.json: an error result naming the node and the error, valid v6; exit 2', async () => {
    writeFileSync(join(p.dir, 'models', 'broken.sql'), "select * from {{ ref('does_not_exist') }}\n");
    try {
      const r = await p.cli('run');
      assert.equal(r.code, 2, r.output);
      const rr = assertValid(validators.runResults, join(p.dir, 'target', 'run_results.json')) as {
        results: { unique_id: string; status: string; message: string }[];
        args: { which: string };
      };
      assert.equal(rr.args.which, 'run');
      assert.equal(rr.results.length, 1, JSON.stringify(rr.results));
      assert.equal(rr.results[0].unique_id, 'model.artp.broken');
      assert.equal(rr.results[0].status, 'error');
      assert.match(rr.results[0].message, /models\/broken\.sql.*does_not_exist/s);
    } finally {
      writeFileSync(join(p.dir, 'models', 'broken.sql'), 'select 1 as x\n');
    }
  });
});
