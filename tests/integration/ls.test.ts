/**
 * `tsdbt ls` as dbt's ListTask prints it (dbt-core 1.latest core/dbt/task/list.py): the default
 * resource types (no analyses unless asked for), `--output selector|name|path|json`, JSON lines
 * cut to ALLOWED_KEYS, and `--output-keys` (space-separated, dotted keys read nested values).
 * Orchestrators (Astronomer Cosmos) call `dbt ls --output json --output-keys …` and parse each
 * line: `parseDbtLsJson` below is such a parser, written from dbt's documented format.
 */
import { it, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { projectYml, REPO_ROOT } from './harness.ts';

const FILES: Record<string, string> = {
  'dbt_project.yml': projectYml('lsp'),
  'seeds/raw_orders.csv': 'id,amount\n1,10\n',
  'models/staging/stg_orders.sql': "select * from {{ source('shop', 'orders') }}\n",
  'models/marts/fct_orders.sql': "{{ config(materialized='table', tags=['daily']) }}\nselect * from {{ ref('stg_orders') }} join {{ ref('raw_orders') }} using (id)\n",
  'models/sources.yml': 'version: 2\nsources:\n  - name: shop\n    tables:\n      - name: orders\nmodels:\n  - name: fct_orders\n    columns:\n      - name: id\n        data_tests: [unique]\n',
  'analyses/adhoc.sql': "select * from {{ ref('fct_orders') }}\n",
};

/** One line of `dbt ls --output json`, as dbt documents its fields. */
interface LsNode {
  unique_id: string;
  resource_type: string;
  name?: string;
  package_name?: string;
  original_file_path?: string;
  /** Seeds carry only `macros` (dbt's MacroDependsOn); nodes that can ref carry `nodes` too. */
  depends_on?: { nodes?: string[]; macros: string[] };
  config?: Record<string, unknown>;
  tags?: string[];
  [k: string]: unknown;
}

/** Parses `ls --output json` stdout the way an orchestrator does: every line is one JSON object. */
function parseDbtLsJson(stdout: string): LsNode[] {
  const types = new Set(['model', 'seed', 'snapshot', 'test', 'source', 'analysis', 'exposure', 'metric', 'unit_test', 'semantic_model', 'saved_query']);
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const n = JSON.parse(line) as LsNode;
      assert.equal(typeof n.unique_id, 'string');
      assert.ok(types.has(n.resource_type), `resource_type ${n.resource_type}`);
      assert.ok(n.unique_id.startsWith(`${n.resource_type}.`), n.unique_id);
      if (n.depends_on) {
        assert.ok(Array.isArray(n.depends_on.macros), 'depends_on has a macros list');
        assert.ok(n.depends_on.nodes === undefined || n.depends_on.nodes.every((x) => typeof x === 'string'), 'depends_on.nodes lists unique_ids');
      }
      if (n.tags) assert.ok(Array.isArray(n.tags));
      if (n.config) assert.equal(typeof n.config, 'object');
      return n;
    });
}

describe('tsdbt ls as dbt prints it', () => {
  let dir: string;
  const ls = (...args: string[]) => {
    const base = { ...process.env };
    for (const k of ['DBT_PROFILES_DIR', 'TSDBT_PROFILES_DIR', 'DBT_TARGET']) delete base[k];
    return spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'ls', '--project-dir', dir, ...args], {
      env: { ...base, HOME: dir, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsdbt-ls-'));
    for (const [rel, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists selectors by default: models, seeds, tests and sources, but no analysis (dbt: analyses only when asked)', () => {
    const r = ls();
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('lsp.staging.stg_orders'), r.stdout);
    assert.ok(lines.includes('lsp.marts.fct_orders'));
    assert.ok(lines.includes('lsp.raw_orders'));
    assert.ok(lines.includes('source:lsp.shop.orders'));
    assert.ok(lines.some((l) => l.startsWith('lsp.unique_fct_orders_id')), r.stdout);
    assert.ok(!lines.some((l) => l.includes('adhoc')), 'no analysis by default');
    assert.ok(ls('--resource-type', 'analysis').stdout.includes('lsp.adhoc'));
  });

  it('--output json: one object per line with exactly dbt\'s default keys, which a dbt ls parser accepts', () => {
    const r = ls('--output', 'json');
    assert.equal(r.status, 0, r.stderr);
    const nodes = parseDbtLsJson(r.stdout);
    const fct = nodes.find((n) => n.unique_id === 'model.lsp.fct_orders')!;
    assert.deepEqual(Object.keys(fct).sort(), ['alias', 'config', 'depends_on', 'direct_parents', 'name', 'original_file_path', 'package_name', 'resource_type', 'tags', 'unique_id']);
    assert.deepEqual(fct.depends_on!.nodes!.sort(), ['model.lsp.stg_orders', 'seed.lsp.raw_orders']);
    assert.deepEqual(fct.tags, ['daily']);
    assert.equal(fct.config!.materialized, 'table');
    assert.equal(fct.original_file_path, 'models/marts/fct_orders.sql');
    assert.ok(existsSync(join(dir, fct.original_file_path!)));
    const src = nodes.find((n) => n.resource_type === 'source')!;
    assert.equal(src.source_name, 'shop');
    assert.equal(src.unique_id, 'source.lsp.shop.orders');
    const stg = nodes.find((n) => n.name === 'stg_orders')!;
    assert.deepEqual(stg.depends_on!.nodes, ['source.lsp.shop.orders']);
  });

  it('--output-keys picks the keys, space-separated or repeated; a dotted key reads a nested value (as Cosmos asks)', () => {
    const r = ls('--output', 'json', '--output-keys', 'name resource_type config.materialized', '--output-keys', 'depends_on', '--select', 'fct_orders', '--resource-type', 'model');
    assert.equal(r.status, 0, r.stderr);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(objs, [{ name: 'fct_orders', resource_type: 'model', 'config.materialized': 'table', depends_on: { macros: [], nodes: ['model.lsp.stg_orders', 'seed.lsp.raw_orders'] } }]);
  });

  it('--output name and path', () => {
    assert.equal(ls('--output', 'name', '--select', 'fct_orders', '--resource-type', 'model').stdout.trim(), 'fct_orders');
    assert.equal(ls('--output', 'path', '--select', 'fct_orders', '--resource-type', 'model').stdout.trim(), 'models/marts/fct_orders.sql');
  });
});
