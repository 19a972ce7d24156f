/**
 * Snapshot parsing (no database): dbt-core's SnapshotParser (several blocks per file, fqn
 * with the file name), YAML snapshots (dbt ≥ 1.9), config precedence, target_schema /
 * target_database as written, and SnapshotConfig.final_validate's errors with file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { loadProjectConfig } from '../config/index.ts';
import { writeProject } from '../config/write-project.ts';
import type { TargetConfig } from '../config/types.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { parseProject, type ParseResult } from './parse-project.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

function parse(files: Record<string, string>): ParseResult {
  const dir = writeProject({ 'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n', ...files });
  try {
    return parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function errorsOf(files: Record<string, string>): TsdbtError[] {
  try {
    parse(files);
  } catch (e) {
    if (e instanceof CompileErrors) return [...e.errors];
    if (e instanceof TsdbtError) return [e];
    throw e;
  }
  assert.fail('expected the parse to fail');
}

const SRC = `version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n`;

test('several snapshot blocks in one file: one node each, fqn [project, folders, file, name], body as raw_code, refs linked', () => {
  const m = parse({
    'models/stg.sql': 'select 1 as id',
    'snapshots/sales/orders.sql': `{% snapshot orders_snap %}
{{ config(strategy='timestamp', unique_key='id', updated_at='updated_at') }}
select * from {{ ref('stg') }}
{% endsnapshot %}

{% snapshot orders_check %}
{{ config(strategy='check', unique_key=['id', 'day'], check_cols='all', target_schema='history', target_database='test') }}
select * from {{ ref('stg') }}
{% endsnapshot %}
`,
    'models/uses.sql': "select * from {{ ref('orders_snap') }}",
  }).manifest;
  const a = m.nodes['snapshot.shop.orders_snap'];
  assert.equal(a.resource_type, 'snapshot');
  assert.deepEqual(a.fqn, ['shop', 'sales', 'orders', 'orders_snap']);
  assert.equal(a.config.materialized, 'snapshot');
  assert.equal(a.schema, 'analytics'); // dbt ≥ 1.9: no target_schema → generate_schema_name (the target schema)
  assert.match(a.raw_code, /^\n\{\{ config\(strategy='timestamp'/);
  assert.deepEqual(a.depends_on.nodes, ['model.shop.stg']);
  const b = m.nodes['snapshot.shop.orders_check'];
  assert.equal(b.schema, 'history'); // target_schema as written, as dbt's legacy field
  assert.equal(b.database, 'test');
  assert.equal(b.relation_name, '"test"."history"."orders_check"');
  assert.deepEqual(b.config.unique_key, ['id', 'day']);
  assert.deepEqual(m.nodes['model.shop.uses'].depends_on.nodes, ['snapshot.shop.orders_snap']);
});

test('config precedence: dbt_project.yml snapshots: < properties config: < config(); schema goes through generate_schema_name', () => {
  const m = parse({
    'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\nsnapshots:\n  shop:\n    +strategy: check\n    +check_cols: all\n    +unique_key: id\n    +schema: snaps\n    +tags: [hist]\n',
    'snapshots/s.sql': "{% snapshot s %}\n{{ config(hard_deletes='new_record') }}\nselect 1 as id\n{% endsnapshot %}\n",
    'snapshots/props.yml': 'version: 2\nsnapshots:\n  - name: s\n    description: history of s\n    config:\n      unique_key: code\n      hard_deletes: invalidate\n',
  }).manifest;
  const s = m.nodes['snapshot.shop.s'];
  assert.equal(s.config.strategy, 'check');
  assert.equal(s.config.unique_key, 'code');
  assert.equal(s.config.hard_deletes, 'new_record');
  assert.deepEqual(s.tags, ['hist']);
  assert.equal(s.schema, 'analytics_snaps');
  assert.equal(s.description, 'history of s');
  assert.equal(s.patch_path, 'shop://snapshots/props.yml');
});

test('a YAML snapshot (dbt ≥ 1.9): relation: source(...) becomes select * from the source; fqn from the .yml folder', () => {
  const m = parse({
    'models/src.yml': SRC,
    'snapshots/hist/snaps.yml': "version: 2\nsnapshots:\n  - name: orders_hist\n    relation: source('raw', 'orders')\n    config:\n      strategy: timestamp\n      unique_key: id\n      updated_at: updated_at\n",
  }).manifest;
  const n = m.nodes['snapshot.shop.orders_hist'];
  assert.equal(n.raw_code, "select * from {{ source('raw', 'orders') }}");
  assert.deepEqual(n.fqn, ['shop', 'hist', 'orders_hist']);
  assert.equal(n.original_file_path, 'snapshots/hist/snaps.yml');
  assert.deepEqual(n.depends_on.nodes, ['source.shop.raw.orders']);
});

test("dbt's snapshot config rules are errors naming the file and the config() line", () => {
  const block = (name: string, cfg: string) => `{% snapshot ${name} %}\n{{ config(${cfg}) }}\nselect 1 as id\n{% endsnapshot %}\n`;
  const cases: [string, RegExp][] = [
    ["unique_key='id'", /must be configured with a 'strategy' and 'unique_key'/],
    ["strategy='check', unique_key='id'", /check strategy must specify a check_cols/],
    ["strategy='check', unique_key='id', check_cols='name'", /Invalid value for 'check_cols': name/],
    ["strategy='timestamp', unique_key='id'", /timestamp strategy must specify an updated_at/],
    ["strategy='timestamp', unique_key='id', updated_at='u', check_cols=['a']", /should not have 'check_cols'/],
    ["strategy='custom', unique_key='id'", /\[unsupported\] custom snapshot strategy 'custom'/],
    ["strategy='timestamp', unique_key='id', updated_at='u', hard_deletes='drop'", /Invalid setting for property hard_deletes/],
    ["strategy='timestamp', unique_key='id', updated_at='u', hard_deletes='invalidate', invalidate_hard_deletes=True", /cannot set both/],
    ["strategy='check', unique_key='id', check_cols='all', target_database='warehouse'", /target_database 'warehouse' is not the target's database 'test'/],
  ];
  for (const [cfg, re] of cases) {
    const errs = errorsOf({ 'snapshots/x.sql': `-- first line\n${block('x', cfg)}` });
    assert.equal(errs.length, 1, cfg);
    assert.equal(errs[0].code, 'snapshot-config-invalid', cfg);
    assert.match(errs[0].message, re, cfg);
    assert.equal(errs[0].file, 'snapshots/x.sql');
    assert.equal(errs[0].line, 3, cfg);
  }
});

test('a YAML snapshot whose relation is not ref()/source() is an error; properties for no snapshot are a warning', () => {
  const errs = errorsOf({ 'snapshots/s.yml': "version: 2\nsnapshots:\n  - name: s\n    relation: my_table\n    config: {strategy: check, unique_key: id, check_cols: all}\n" });
  assert.equal(errs[0].code, 'snapshot-invalid');
  assert.match(errs[0].message, /must be a ref\(\) or source\(\) call/);
  const r = parse({ 'snapshots/s.yml': 'version: 2\nsnapshots:\n  - name: ghost\n    description: nothing\n' });
  assert.ok(r.warnings.some((w) => w.code === 'snapshot-patch-unmatched' && /'ghost'/.test(w.message)));
});
