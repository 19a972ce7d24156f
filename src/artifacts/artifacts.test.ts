import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import { largeManifest, ManifestBuilder } from '../graph/fixtures.ts';
import { buildGraph } from '../graph/build-graph.ts';
import { selectNodes } from '../graph/select.ts';
import type { Manifest } from '../parse/manifest.ts';
import { buildParentChildMaps, readManifest, writeManifest } from './manifest-json.ts';
import { readRunResults, redactArgs, writeRunResults, type NodeResult } from './run-results.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsdbt-artifacts-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(): Manifest {
  const m = new ManifestBuilder('shop')
    .source('raw', 'orders', { dir: 'staging' })
    .seed('country_codes', { config: { pre_hook: ['select 1'] } })
    .model('stg_orders', { dir: 'staging', sources: [['raw', 'orders']], config: { post_hook: ['grant select on {{ this }} to reporter'] } })
    .model('orders', { dir: 'marts', refs: ['stg_orders', 'country_codes'], config: { materialized: 'table', group: 'sales' } })
    .snapshot('orders_snapshot', { refs: ['stg_orders'] })
    .genericTest('not_null', 'orders', 'id')
    .singularTest('assert_positive', { refs: ['orders'] })
    .macro('cents', '{% macro cents(x) %}{{ x }} * 100{% endmacro %}')
    .build();
  m.docs['doc.shop.orders'] = {
    unique_id: 'doc.shop.orders',
    name: 'orders',
    package_name: 'shop',
    path: 'docs.md',
    original_file_path: 'models/docs.md',
    block_contents: 'One row per order',
  };
  return m;
}

function readJsonFile(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('buildParentChildMaps', () => {
  it('has every node and source as a key, with sorted lists', () => {
    const m = project();
    const { parent_map, child_map, group_map } = buildParentChildMaps(m);
    const keys = [...Object.keys(m.nodes), ...Object.keys(m.sources)].sort();
    assert.deepEqual(Object.keys(parent_map).sort(), keys);
    assert.deepEqual(Object.keys(child_map).sort(), keys);
    assert.deepEqual(parent_map['model.shop.orders'], ['model.shop.stg_orders', 'seed.shop.country_codes']);
    assert.deepEqual(parent_map['source.shop.raw.orders'], []);
    assert.deepEqual(child_map['model.shop.stg_orders'], ['model.shop.orders', 'snapshot.shop.orders_snapshot']);
    assert.deepEqual(child_map['model.shop.orders'], ['test.shop.assert_positive', 'test.shop.not_null_orders_id']);
    assert.deepEqual(child_map['test.shop.not_null_orders_id'], []);
    assert.deepEqual(group_map, { sales: ['model.shop.orders'] });
    assert.equal(m.parent_map, parent_map, 'fills the manifest');
  });
});

describe('writeManifest', () => {
  it('writes manifest v12 without in-memory-only fields', () => {
    const dir = join(tmp(), 'target');
    const m = project();
    const path = writeManifest(dir, m);
    assert.equal(path, join(dir, 'manifest.json'));
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes('\n'), 'compact JSON');
    const j = JSON.parse(text);
    assert.equal(j.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
    assert.equal(j.metadata.project_name, 'shop');
    for (const node of Object.values<any>(j.nodes)) {
      assert.equal(node.abs_path, undefined, node.unique_id);
      assert.equal(node.seed_file, undefined, node.unique_id);
      for (const r of node.refs ?? []) assert.deepEqual(Object.keys(r).sort(), ['name', 'package', 'version']);
    }
    const seed = j.nodes['seed.shop.country_codes'];
    assert.equal(seed.refs, undefined, 'Seed has no refs in the schema');
    assert.equal(seed.language, undefined);
    assert.deepEqual(seed.depends_on, { macros: [] });
    assert.equal(seed.root_path, '/abs');
    assert.deepEqual(seed.config['pre-hook'], [{ sql: 'select 1', transaction: true, index: 0 }]);
    assert.equal(seed.config.pre_hook, undefined);
    const stg = j.nodes['model.shop.stg_orders'];
    assert.deepEqual(stg.config['post-hook'], [{ sql: 'grant select on {{ this }} to reporter', transaction: true, index: 0 }]);
    assert.deepEqual(stg.sources, [['raw', 'orders']]);
    assert.equal(stg.access, 'protected');
    assert.equal(j.nodes['model.shop.orders'].group, 'sales');
    const test = j.nodes['test.shop.not_null_orders_id'];
    assert.equal(test.test_metadata.name, 'not_null');
    assert.equal(test.attached_node, 'model.shop.orders');
    assert.equal(j.nodes['test.shop.assert_positive'].test_metadata, undefined);
    assert.equal(j.macros['macro.shop.cents'].resource_type, 'macro');
    assert.equal(j.docs['doc.shop.orders'].resource_type, 'doc');
    assert.deepEqual(j.child_map['model.shop.stg_orders'], ['model.shop.orders', 'snapshot.shop.orders_snapshot']);
  });

  it('writes compiled code exactly as compiled: no text is rewritten (secrets are kept out structurally, src/secrets.ts)', () => {
    const m = project();
    m.nodes['model.shop.orders']!.compiled_code = "select 'a' as a, 'expected' as e, true as t";
    const j = readJsonFile(writeManifest(tmp(), m));
    assert.equal(j.nodes['model.shop.orders'].compiled_code, "select 'a' as a, 'expected' as e, true as t");
    assert.equal(j.nodes['model.shop.orders'].compiled, true);
  });

  it('writes 10k nodes quickly (time printed, not asserted)', (t) => {
    const m = largeManifest(10_000);
    const dir = tmp();
    const t0 = performance.now();
    const path = writeManifest(dir, m);
    const ms = performance.now() - t0;
    const size = readFileSync(path).length;
    t.diagnostic(`manifest.json for 10k nodes: ${ms.toFixed(0)} ms, ${(size / 1e6).toFixed(1)} MB`);
    assert.equal(Object.keys(readJsonFile(path).nodes).length, 10_000);
  });
});

describe('readManifest', () => {
  it('reads back what writeManifest wrote; an unchanged project is not state:modified', () => {
    const dir = tmp();
    writeManifest(dir, project());
    const before = readManifest(dir);
    assert.deepEqual(before.nodes['model.shop.stg_orders']!.config.post_hook, ['grant select on {{ this }} to reporter']);
    const now = project();
    const g = buildGraph(now);
    assert.deepEqual(selectNodes(now, g, { select: ['state:modified'], state: before }), []);
    now.nodes['model.shop.orders']!.config.materialized = 'incremental';
    assert.deepEqual(selectNodes(now, g, { select: ['state:modified'], state: before, indirectSelection: 'empty' }), ['model.shop.orders']);
  });

  it('reports a missing or broken manifest', () => {
    const dir = tmp();
    assert.throws(() => readManifest(dir), (e: unknown) => e instanceof TsdbtError && e.code === 'state-not-found' && /--state/.test(e.hint!));
    writeFileSync(join(dir, 'manifest.json'), '{"nodes": {');
    assert.throws(() => readManifest(dir), (e: unknown) => e instanceof TsdbtError && e.code === 'bad-artifact' && /not valid JSON/.test(e.message));
    writeFileSync(join(dir, 'manifest.json'), '{"results": []}');
    assert.throws(() => readManifest(join(dir, 'manifest.json')), (e: unknown) => e instanceof TsdbtError && e.code === 'bad-artifact');
  });
});

function results(): NodeResult[] {
  return [
    {
      unique_id: 'model.shop.orders',
      status: 'success',
      timing: [
        { name: 'compile', started_at: '2024-05-01T10:00:00.000Z', completed_at: '2024-05-01T10:00:00.010Z' },
        { name: 'execute', started_at: '2024-05-01T10:00:00.010Z', completed_at: '2024-05-01T10:00:01.000Z' },
      ],
      thread_id: 'Thread-1 (worker)',
      execution_time: 1.0,
      adapter_response: { _message: 'SELECT 42', code: 'SELECT', rows_affected: 42 },
      message: 'SELECT 42',
      failures: null,
      compiled_code: 'select 1',
      relation_name: '"db"."analytics"."orders"',
      batch_results: null,
    },
    {
      unique_id: 'test.shop.not_null_orders_id',
      status: 'fail',
      timing: [],
      thread_id: 'Thread-2 (worker)',
      execution_time: 0.2,
      adapter_response: {},
      message: 'Got 3 results, configured to fail if != 0',
      failures: 3,
      compiled_code: 'select * from x where id is null',
      relation_name: null,
    },
    // a runner may leave optional fields out; the writer fills dbt's defaults
    { unique_id: 'model.shop.later', status: 'skipped', thread_id: 'main', timing: [], execution_time: 0, adapter_response: {} } as unknown as NodeResult,
  ];
}

describe('run_results.json', () => {
  it('writes run-results v6 and reads it back', () => {
    const dir = tmp();
    const path = writeRunResults(dir, results(), {
      args: { which: 'build', select: ['orders+'] },
      elapsedTime: 1.5,
      invocationId: 'abc',
      generatedAt: new Date('2024-05-01T10:00:02Z'),
    });
    const j = readJsonFile(path);
    assert.equal(j.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/run-results/v6.json');
    assert.equal(j.metadata.invocation_id, 'abc');
    assert.equal(j.metadata.generated_at, '2024-05-01T10:00:02.000Z');
    assert.equal(j.elapsed_time, 1.5);
    assert.deepEqual(j.args, { which: 'build', select: ['orders+'] });
    assert.equal(j.results[1].failures, 3);
    assert.equal(j.results[0].compiled, true);
    assert.deepEqual(
      { m: j.results[2].message, f: j.results[2].failures, c: j.results[2].compiled, cc: j.results[2].compiled_code, r: j.results[2].relation_name, b: j.results[2].batch_results },
      { m: null, f: null, c: null, cc: null, r: null, b: null },
    );
    const back = readRunResults(dir);
    assert.deepEqual(back.results.map((r) => [r.unique_id, r.status]), [
      ['model.shop.orders', 'success'],
      ['test.shop.not_null_orders_id', 'fail'],
      ['model.shop.later', 'skipped'],
    ]);
  });

  it('never writes secrets in args, at any depth', () => {
    const dir = tmp();
    const args = {
      which: 'run',
      password: 'pw-top',
      target: { host: 'db', PASSWORD: 'pw-nested', db_password: 'pw2', api_token: 't', client_secret: 's', private_key_path: '/k', extra: [{ SSL_KEY: 'k2', ok: 1 }] },
      vars: { note: 'a plain value', Token: 'x' },
      env: 'DBT_ENV_SECRET_X',
    };
    const text = readFileSync(writeRunResults(dir, [], { args, elapsedTime: 0 }), 'utf8');
    for (const secret of ['pw-top', 'pw-nested', 'pw2', '"t"', '"s"', '/k', 'k2', '"x"']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    const j = JSON.parse(text);
    assert.deepEqual(j.args, {
      which: 'run',
      target: { host: 'db', extra: [{ ok: 1 }] },
      vars: { note: 'a plain value' },
      env: 'DBT_ENV_SECRET_X',
    });
    assert.deepEqual(redactArgs({ monkey: 1 }), {}, 'KEY matches anywhere in the name, as documented');
  });

  it('reports a missing or foreign run_results.json', () => {
    const dir = tmp();
    assert.throws(() => readRunResults(dir), (e: unknown) => e instanceof TsdbtError && e.code === 'state-not-found');
    writeFileSync(join(dir, 'run_results.json'), '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "results": []}');
    assert.throws(() => readRunResults(dir), (e: unknown) => e instanceof TsdbtError && e.code === 'bad-artifact');
  });
});

