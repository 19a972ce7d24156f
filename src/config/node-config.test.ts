import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkConfigTree, mergeConfig, normalizeConfig, resolveNodeConfig, unusedConfigPaths } from './node-config.ts';
import { loadProjectConfig } from './project.ts';
import { writeProject } from './write-project.ts';

const PROJECT = `name: shop
models:
  +tags: everywhere
  shop:
    materialized: view
    +meta: {owner: data, tier: 2}
    +grants: {select: [reporter]}
    +pre-hook: "select 1"
    staging:
      +materialized: table
      +tags: [staging, everywhere]
      meta: {tier: 1}
      +post-hook:
        - "analyze {{ this }}"
      stg_orders:
        +materialized: incremental
        unique_key: id
        +grants: {+select: [auditor], insert: [loader]}
        pre_hook: "select 2"
    docs:
      +enabled: false
    marts:
      materialised: table
      +schmea: marts
      +my_custom_flag: true
`;

describe('resolveNodeConfig', () => {
  const project = loadProjectConfig(writeProject({ 'dbt_project.yml': PROJECT }));

  it('merges from the top of the tree down to the node, deeper winning', () => {
    const { config } = resolveNodeConfig(project.models, 'shop', ['shop', 'staging', 'stg_orders']);
    assert.deepEqual(config, {
      tags: ['everywhere', 'staging'],
      materialized: 'incremental',
      meta: { owner: 'data', tier: 1 },
      grants: { select: ['reporter', 'auditor'], insert: ['loader'] },
      pre_hook: ['select 1', 'select 2'],
      post_hook: ['analyze {{ this }}'],
      unique_key: 'id',
    });
  });

  it('stops at the deepest folder that exists; top-level keys apply to every project', () => {
    assert.deepEqual(resolveNodeConfig(project.models, 'shop', ['shop', 'staging', 'other']).config.materialized, 'table');
    assert.deepEqual(resolveNodeConfig(project.models, 'shop', ['shop', 'orders']).config.materialized, 'view');
    assert.deepEqual(resolveNodeConfig(project.models, 'dbt_utils', ['dbt_utils', 'x']).config, { tags: ['everywhere'] });
  });

  it('accepts the fqn without the package name', () => {
    const a = resolveNodeConfig(project.models, 'shop', ['staging', 'stg_orders']).config;
    const b = resolveNodeConfig(project.models, 'shop', ['shop', 'staging', 'stg_orders']).config;
    assert.deepEqual(a, b);
  });

  it('treats a mapping with + keys as a folder even when named like a dict config', () => {
    assert.equal(resolveNodeConfig(project.models, 'shop', ['shop', 'docs', 'overview']).config.enabled, false);
    assert.equal(resolveNodeConfig(project.models, 'shop', ['shop', 'orders']).config.enabled, undefined);
  });

  it('returns copies: changing one result does not change the next', () => {
    const one = resolveNodeConfig(project.models, 'shop', ['shop', 'staging', 'stg_orders']).config;
    (one.tags as string[]).push('mutated');
    (one.meta as Record<string, unknown>).x = 1;
    const two = resolveNodeConfig(project.models, 'shop', ['shop', 'staging', 'stg_orders']).config;
    assert.deepEqual(two.tags, ['everywhere', 'staging']);
    assert.deepEqual(two.meta, { owner: 'data', tier: 1 });
  });

  it('reports misspelt and unknown keys with file, line and a suggestion, keeping them as dbt does', () => {
    const { config, unknownKeys } = resolveNodeConfig(project.models, 'shop', ['shop', 'marts', 'fct_orders']);
    assert.equal(config.materialised, 'table');
    assert.equal(config.materialized, 'view');
    assert.deepEqual(
      unknownKeys.map((w) => w.format()),
      [
        "dbt_project.yml:23 [unknown-config-key] unknown config key 'materialised' in models.shop.marts; did you mean 'materialized'?\n" +
          "  hint: rename it to 'materialized' (dbt keeps unknown keys as custom config, so a misspelt key silently does nothing)",
        "dbt_project.yml:24 [unknown-config-key] unknown config key 'schmea' in models.shop.marts; did you mean 'schema'?\n" +
          "  hint: rename it to 'schema' (dbt keeps unknown keys as custom config, so a misspelt key silently does nothing)",
        "dbt_project.yml:25 [unknown-config-key] unknown config key 'my_custom_flag' in models.shop.marts\n" +
          '  hint: if it is a custom setting for your own macros, put it under +meta instead (dbt keeps unknown keys but ignores them)',
      ],
    );
    assert.equal(unknownKeys[0].kind, 'project');
    // the same warning objects for every node under the folder
    assert.equal(resolveNodeConfig(project.models, 'shop', ['shop', 'marts', 'dim']).unknownKeys[0], unknownKeys[0]);
    assert.equal(checkConfigTree(project.models).length, 3);
  });

  it('lists config paths that match no node (dbt: unused configuration paths)', () => {
    const fqns = [['shop', 'staging', 'stg_orders'], ['shop', 'orders']];
    assert.deepEqual(unusedConfigPaths(project.models, fqns, 'models'), ['models.shop.docs', 'models.shop.marts']);
  });

  it('works on a hand-built tree (no line info)', () => {
    const { config, unknownKeys } = resolveNodeConfig({ p: { '+materialzed': 'table', a: { '+enabled': false } } }, 'p', ['p', 'a', 'm']);
    assert.deepEqual(config, { materialzed: 'table', enabled: false });
    assert.equal(unknownKeys[0].message, "unknown config key 'materialzed' in config.p; did you mean 'materialized'?");
    assert.equal(unknownKeys[0].file, undefined);
  });

  it('resolves 10,000 nodes (the time is printed)', () => {
    const tree: Record<string, unknown> = { '+materialized': 'view', shop: {} };
    const shop = tree.shop as Record<string, unknown>;
    for (let f = 0; f < 100; f++) {
      shop[`folder_${f}`] = { '+tags': [`f${f}`], '+schema': `s${f}`, sub: { '+materialized': 'table', '+meta': { f } } };
    }
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = i % 100;
      const fqn = i % 2 ? ['shop', `folder_${f}`, 'sub', `model_${i}`] : ['shop', `folder_${f}`, `model_${i}`];
      n += resolveNodeConfig(tree, 'shop', fqn).config.tags!.length;
    }
    const ms = performance.now() - t0;
    console.log(`# resolveNodeConfig: 10,000 nodes in ${ms.toFixed(1)} ms`);
    assert.equal(n, 10_000); // the time is printed, not asserted: speed targets live in `npm run bench`
  });
});

describe('normalizeConfig', () => {
  it('strips +, maps hook aliases, makes tags and hooks lists', () => {
    const { config, unknownKeys } = normalizeConfig({ '+materialized': 'table', 'pre-hook': 'select 1', 'post-hook': ['a', 'b'], tags: 'x' });
    assert.deepEqual(config, { materialized: 'table', pre_hook: ['select 1'], post_hook: ['a', 'b'], tags: ['x'] });
    assert.deepEqual(unknownKeys, []);
  });

  it('points warnings at the given file and line', () => {
    const { unknownKeys } = normalizeConfig({ unique_kye: 'id' }, { file: 'models/orders.sql', line: 3, path: 'config()' });
    assert.equal(unknownKeys[0].format(), "models/orders.sql:3 [unknown-config-key] unknown config key 'unique_kye' in config(); did you mean 'unique_key'?\n  hint: rename it to 'unique_key' (dbt keeps unknown keys as custom config, so a misspelt key silently does nothing)");
  });
});

describe('mergeConfig', () => {
  it("follows dbt's merge rules without changing its inputs", () => {
    const base = { materialized: 'view', tags: ['a'], meta: { x: 1, y: 1 }, grants: { select: ['r'] }, pre_hook: ['p1'], schema: 's' };
    const snapshot = JSON.stringify(base);
    const merged = mergeConfig(base, {
      materialized: 'table',
      tags: ['a', 'b'],
      meta: { y: 2 },
      grants: { '+select': ['q'], update: ['w'] },
      pre_hook: ['p2'],
      schema: null,
      docs: { show: false },
    });
    assert.deepEqual(merged, {
      materialized: 'table',
      tags: ['a', 'b'],
      meta: { x: 1, y: 2 },
      grants: { select: ['r', 'q'], update: ['w'] },
      pre_hook: ['p1', 'p2'],
      schema: null,
      docs: { show: false },
    });
    assert.equal(JSON.stringify(base), snapshot);
    assert.deepEqual(mergeConfig({ grants: { select: ['r'] } }, { grants: { select: ['z'] } }).grants, { select: ['z'] });
  });
});
