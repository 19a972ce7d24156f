/**
 * Checks what tsdbt writes against the REQUIRED fields of dbt's published
 * JSON schemas (hand-encoded here from
 * https://schemas.getdbt.com/dbt/manifest/v12.json and
 * https://schemas.getdbt.com/dbt/run-results/v6.json), without a database.
 * The full schemas are validated by tests/integration/artifacts-schema.test.ts
 * (copies under tests/fixtures/dbt-schemas/).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManifestBuilder } from '../graph/fixtures.ts';
import { writeManifest } from './manifest-json.ts';
import { writeRunResults, type NodeResult } from './run-results.ts';

const MANIFEST_REQUIRED = [
  'metadata',
  'nodes',
  'sources',
  'macros',
  'docs',
  'exposures',
  'metrics',
  'groups',
  'selectors',
  'disabled',
  'parent_map',
  'child_map',
  'group_map',
  'saved_queries',
  'semantic_models',
  'unit_tests',
];
const NODE_REQUIRED = ['database', 'schema', 'name', 'resource_type', 'package_name', 'path', 'original_file_path', 'unique_id', 'fqn', 'alias', 'checksum'];
/** Snapshot (and Function) additionally require config. */
const SNAPSHOT_REQUIRED = [...NODE_REQUIRED, 'config'];
const FILE_HASH_REQUIRED = ['name', 'checksum'];
const COLUMN_REQUIRED = ['name'];
const REF_REQUIRED = ['name'];
const HOOK_REQUIRED = ['sql'];
const SOURCE_REQUIRED = [
  'database',
  'schema',
  'name',
  'resource_type',
  'package_name',
  'path',
  'original_file_path',
  'unique_id',
  'fqn',
  'source_name',
  'source_description',
  'loader',
  'identifier',
];
const MACRO_REQUIRED = ['name', 'resource_type', 'package_name', 'path', 'original_file_path', 'unique_id', 'macro_sql'];
const MACRO_ARGUMENT_REQUIRED = ['name'];
const DOC_REQUIRED = ['name', 'resource_type', 'package_name', 'path', 'original_file_path', 'unique_id', 'block_contents'];

const RUN_RESULTS_REQUIRED = ['metadata', 'results', 'elapsed_time'];
const RUN_RESULTS_METADATA_REQUIRED = ['dbt_schema_version'];
const RESULT_REQUIRED = [
  'status',
  'timing',
  'thread_id',
  'execution_time',
  'adapter_response',
  'message',
  'failures',
  'unique_id',
  'compiled',
  'compiled_code',
  'relation_name',
];
const TIMING_REQUIRED = ['name'];
/** run-results v6 forbids other properties (additionalProperties: false). */
const RUN_RESULTS_ALLOWED = ['metadata', 'results', 'elapsed_time', 'args'];
const RUN_RESULTS_METADATA_ALLOWED = ['dbt_schema_version', 'dbt_version', 'generated_at', 'invocation_id', 'invocation_started_at', 'env'];
const RESULT_ALLOWED = [...RESULT_REQUIRED, 'batch_results'];
const RESULT_STATUSES = ['success', 'error', 'skipped', 'partial success', 'no-op', 'pass', 'fail', 'warn', 'runtime error'];

function missing(obj: Record<string, unknown>, required: readonly string[]): string[] {
  return required.filter((k) => !(k in obj));
}

function assertRequired(where: string, obj: unknown, required: readonly string[]): void {
  assert.ok(obj !== null && typeof obj === 'object', `${where} is an object`);
  assert.deepEqual(missing(obj as Record<string, unknown>, required), [], `${where} misses required fields`);
}

function assertOnly(where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  assert.deepEqual(
    Object.keys(obj).filter((k) => !allowed.includes(k)),
    [],
    `${where} has properties the schema does not allow`,
  );
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsdbt-schema-'));
  dirs.push(d);
  return d;
}

describe('manifest.json has every field manifest v12 requires', () => {
  const m = new ManifestBuilder('shop')
    .source('raw', 'orders')
    .seed('countries', { config: { pre_hook: ['select 1'] } })
    .model('stg_orders', {
      sources: [['raw', 'orders']],
      columns: { id: { description: 'key' } },
      config: { post_hook: ['select 2'] },
    })
    .model('orders', { refs: ['stg_orders', 'countries'] })
    .snapshot('snap', { refs: ['orders'] })
    .analysis('explore', { refs: ['orders'] })
    .genericTest('unique', 'orders', 'id')
    .singularTest('assert_x', { refs: ['orders'] })
    .macro('m', 'select 1')
    .build();
  m.macros['macro.shop.m']!.arguments = [{ name: 'x', type: 'string', description: '' }];
  m.docs['doc.shop.d'] = { unique_id: 'doc.shop.d', name: 'd', package_name: 'shop', path: 'd.md', original_file_path: 'models/d.md', block_contents: 'x' };
  const j = JSON.parse(readFileSync(writeManifest(tmp(), m), 'utf8'));

  it('top level and metadata', () => {
    assertRequired('manifest', j, MANIFEST_REQUIRED);
    assert.equal(j.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
  });

  it('nodes (every resource type), their checksum, columns, refs and hooks', () => {
    const types = new Set<string>();
    for (const [id, node] of Object.entries<any>(j.nodes)) {
      types.add(node.resource_type);
      assertRequired(id, node, node.resource_type === 'snapshot' ? SNAPSHOT_REQUIRED : NODE_REQUIRED);
      assertRequired(`${id}.checksum`, node.checksum, FILE_HASH_REQUIRED);
      for (const [c, col] of Object.entries<any>(node.columns ?? {})) assertRequired(`${id}.columns.${c}`, col, COLUMN_REQUIRED);
      for (const r of node.refs ?? []) assertRequired(`${id}.refs[]`, r, REF_REQUIRED);
      for (const h of [...(node.config?.['pre-hook'] ?? []), ...(node.config?.['post-hook'] ?? [])]) assertRequired(`${id} hook`, h, HOOK_REQUIRED);
      assert.equal(typeof node.created_at, 'number');
      assert.ok(Array.isArray(node.fqn));
    }
    assert.deepEqual([...types].sort(), ['analysis', 'model', 'seed', 'snapshot', 'test']);
  });

  it('sources, macros, docs', () => {
    for (const [id, s] of Object.entries<any>(j.sources)) assertRequired(id, s, SOURCE_REQUIRED);
    for (const [id, mac] of Object.entries<any>(j.macros)) {
      assertRequired(id, mac, MACRO_REQUIRED);
      for (const a of mac.arguments ?? []) assertRequired(`${id}.arguments[]`, a, MACRO_ARGUMENT_REQUIRED);
    }
    for (const [id, d] of Object.entries<any>(j.docs)) assertRequired(id, d, DOC_REQUIRED);
  });
});

describe('run_results.json has every field run-results v6 requires', () => {
  it('results written from partial NodeResults still validate', () => {
    const partial = [
      { unique_id: 'model.shop.a', status: 'success', timing: [{ name: 'execute', started_at: 'x', completed_at: 'y' }], thread_id: 'Thread-1', execution_time: 0.1, adapter_response: { _message: 'SELECT 1' } },
      { unique_id: 'test.shop.t', status: 'warn', failures: 2, message: 'Got 2 results' },
    ] as unknown as NodeResult[];
    const j = JSON.parse(readFileSync(writeRunResults(tmp(), partial, { elapsedTime: 0.3, args: { which: 'build' } }), 'utf8'));
    assertRequired('run_results', j, RUN_RESULTS_REQUIRED);
    assertOnly('run_results', j, RUN_RESULTS_ALLOWED);
    assertRequired('metadata', j.metadata, RUN_RESULTS_METADATA_REQUIRED);
    assertOnly('metadata', j.metadata, RUN_RESULTS_METADATA_ALLOWED);
    assert.equal(j.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/run-results/v6.json');
    assert.equal(typeof j.elapsed_time, 'number');
    assert.equal(j.results.length, 2);
    for (const r of j.results) {
      assertRequired(r.unique_id, r, RESULT_REQUIRED);
      assertOnly(r.unique_id, r, RESULT_ALLOWED);
      assert.ok(RESULT_STATUSES.includes(r.status));
      assert.equal(typeof r.thread_id, 'string');
      assert.equal(typeof r.execution_time, 'number');
      for (const t of r.timing) assertRequired(`${r.unique_id}.timing[]`, t, TIMING_REQUIRED);
      assert.ok(r.failures === null || Number.isInteger(r.failures));
    }
  });
});
