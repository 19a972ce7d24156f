/**
 * Issue 2, end to end on both engines: a layered project (seeds → view → table →
 * incremental → ephemeral → table) builds with the right rows and schemas; config
 * precedence (dbt_project.yml < properties < config()); compile/run files and the
 * JSON artifacts; a project generate_schema_name override; --vars.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const LAYERS: Files = {
  'dbt_project.yml': projectYml(
    'layers',
    `models:
  layers:
    staging:
      +schema: staging
      +materialized: view
    core:
      +schema: core
      +materialized: table
      prec_props:
        +materialized: table
    mart:
      +schema: mart
      +materialized: table
seeds:
  layers:
    +schema: raw
`,
  ),
  'seeds/raw_orders.csv': 'id,customer_id,amount,status\n1,1,10,completed\n2,1,20,completed\n3,2,5,returned\n4,3,40,completed\n5,3,1,completed\n',
  'seeds/raw_customers.csv': 'id,name\n1,Ann\n2,Bob\n3,Cy\n',
  'models/staging/stg_orders.sql': "select id as order_id, customer_id, amount, status from {{ ref('raw_orders') }}\n",
  'models/staging/stg_customers.sql': "select id as customer_id, name from {{ ref('raw_customers') }}\n",
  'models/core/orders.sql': "select * from {{ ref('stg_orders') }} where status = 'completed'\n",
  'models/core/orders_inc.sql':
    "{{ config(materialized='incremental', unique_key='order_id') }}\nselect * from {{ ref('orders') }}\n{% if is_incremental() %} where order_id > (select coalesce(max(order_id), 0) from {{ this }}) {% endif %}\n",
  'models/core/enriched.sql':
    "select o.order_id, o.amount, c.customer_id, c.name from {{ ref('orders_inc') }} o join {{ ref('stg_customers') }} c using (customer_id)\n",
  'models/mart/customer_summary.sql':
    "select customer_id, name, count(*) as n_orders, sum(amount) as total from {{ ref('enriched') }} group by 1, 2\n",
  // precedence: project says table for core/ (and for prec_props explicitly); properties say view; config() says table.
  'models/core/prec_project.sql': 'select 1 as x\n',
  'models/core/prec_props.sql': 'select 1 as x\n',
  'models/core/prec_config.sql': "{{ config(materialized='table', schema='cfg') }}\nselect 1 as x\n",
  'models/core/_core.yml': `version: 2
models:
  - name: enriched
    config:
      materialized: ephemeral
  - name: prec_props
    config:
      materialized: view
      schema: props
  - name: prec_config
    config:
      materialized: view
      schema: props
`,
};

await describeEngines('layers', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, LAYERS);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('build creates every layer with the right rows, kinds and schemas', async () => {
    const r = await p.cli('build');
    assert.equal(r.code, 0, r.output);
    const s = p.schema;
    // No model lives in the target schema itself, so (as in dbt) it is not created.
    assert.deepEqual(await p.schemas(), [`${s}_cfg`, `${s}_core`, `${s}_mart`, `${s}_props`, `${s}_raw`, `${s}_staging`].sort());
    assert.deepEqual(await p.relations(`${s}_raw`), { raw_customers: 'table', raw_orders: 'table' });
    assert.deepEqual(await p.relations(`${s}_staging`), { stg_customers: 'view', stg_orders: 'view' });
    // enriched is ephemeral: no relation anywhere.
    assert.deepEqual(await p.relations(`${s}_core`), { orders: 'table', orders_inc: 'table', prec_project: 'table' });
    assert.deepEqual(await p.relations(`${s}_mart`), { customer_summary: 'table' });
    assert.equal(await p.count(`${s}_raw.raw_orders`), 5);
    assert.equal(await p.count(`${s}_core.orders`), 4);
    assert.equal(await p.count(`${s}_core.orders_inc`), 4);
    const summary = await p.rows(`select customer_id::int as c, name, n_orders::int as n, total::int as t from ${s}_mart.customer_summary order by 1`);
    assert.deepEqual(summary, [
      { c: 1, name: 'Ann', n: 2, t: 30 },
      { c: 3, name: 'Cy', n: 2, t: 41 },
    ]);
  });

  it('the ephemeral model is inlined as a CTE in its consumer', async () => {
    const compiled = p.read('target/compiled/layers/models/mart/customer_summary.sql');
    assert.ok(compiled, 'compiled SQL of customer_summary was written');
    assert.match(compiled, /__dbt__cte__enriched/);
    assert.ok(compiled.includes(`${p.schema}_core`), compiled);
    const relations = await p.query<{ n: string }>(`select count(*) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = 'enriched' and starts_with(n.nspname, '${p.schema}')`);
    assert.equal(Number(relations[0].n), 0);
  });

  it('config() beats properties beats dbt_project.yml', async () => {
    const s = p.schema;
    // prec_project: project only → table in core.  prec_props: properties (view, schema props) beat the project's table.
    // prec_config: config() (table, schema cfg) beats properties (view, props).
    assert.deepEqual(await p.relations(`${s}_props`), { prec_props: 'view' });
    assert.deepEqual(await p.relations(`${s}_cfg`), { prec_config: 'table' });
  });

  it('compile writes target/compiled/<project>/models/…, run writes target/run/…, artifacts name every node', async () => {
    const c = await p.cli('compile');
    assert.equal(c.code, 0, c.output);
    const stg = p.read('target/compiled/layers/models/staging/stg_orders.sql');
    assert.ok(stg, c.output);
    assert.ok(stg.includes(`"${p.schema}_raw"."raw_orders"`), stg);
    const r = await p.cli('run', ['--select', 'stg_orders', 'orders']);
    assert.equal(r.code, 0, r.output);
    const run = p.read('target/run/layers/models/core/orders.sql');
    assert.ok(run, 'target/run/layers/models/core/orders.sql');
    assert.match(run, /create\s+table/i);
    const manifest = p.json('target/manifest.json');
    for (const id of ['model.layers.stg_orders', 'model.layers.orders', 'model.layers.enriched', 'model.layers.customer_summary', 'seed.layers.raw_orders']) {
      assert.ok(manifest.nodes[id], `manifest.json has ${id}`);
    }
    assert.deepEqual(manifest.parent_map['model.layers.orders'], ['model.layers.stg_orders']);
    const results = p.json('target/run_results.json');
    assert.deepEqual(
      results.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x.status]).sort(),
      [
        ['model.layers.orders', 'success'],
        ['model.layers.stg_orders', 'success'],
      ],
    );
    assert.equal(results.args.which, 'run');
    assert.ok(results.metadata.invocation_id);
  });

  it('ls selection: +m, m+, tag:, path:, config.materialized:, --exclude', async () => {
    const ls = async (...args: string[]) => {
      const r = await p.cli('ls', ['--resource-type', 'model', '--output', 'name', ...args]);
      assert.equal(r.code, 0, r.output);
      return r.stdout.trim().split('\n').filter(Boolean).sort();
    };
    assert.deepEqual(await ls('--select', '+orders'), ['orders', 'stg_orders']);
    assert.deepEqual(await ls('--select', 'orders_inc+'), ['customer_summary', 'enriched', 'orders_inc']);
    assert.deepEqual(await ls('--select', 'path:models/staging'), ['stg_customers', 'stg_orders']);
    assert.deepEqual(await ls('--select', 'config.materialized:ephemeral'), ['enriched']);
    assert.deepEqual(await ls('--select', 'config.materialized:view'), ['prec_props', 'stg_customers', 'stg_orders']);
    assert.deepEqual(await ls('--select', 'path:models/core', '--exclude', 'prec_project', 'prec_props', 'prec_config'), ['enriched', 'orders', 'orders_inc']);
  });
});

const TAGS: Files = {
  'dbt_project.yml': projectYml('tagged', "models:\n  tagged:\n    nightly:\n      +tags: ['nightly']\n"),
  'models/nightly/n1.sql': 'select 1 as x\n',
  'models/nightly/n2.sql': "select * from {{ ref('n1') }}\n",
  'models/hourly.sql': "{{ config(tags=['hourly']) }}\nselect * from {{ ref('n1') }}\n",
};

const MACROS: Files = {
  'dbt_project.yml': projectYml('macros_vars', 'vars:\n  greeting: hello\n  min_amount: 0\n'),
  'macros/generate_schema_name.sql': `{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}_custom{%- endif -%}
{%- endmacro %}
`,
  'macros/cents.sql': '{% macro cents(col) %}({{ col }} * 100)::int{% endmacro %}\n',
  'models/in_default.sql': "select '{{ var(\"greeting\") }}'::text as greeting, {{ cents('1.5') }} as c\n",
  'models/in_custom.sql': "{{ config(schema='special') }}\nselect {{ var('min_amount') }}::int as min_amount, '{{ var(\"only_cli\", \"fallback\") }}'::text as v\n",
};

await describeEngines('macros, vars and tags', (engine) => {
  let p: Project;
  let t: Project;
  before(async () => {
    p = await Project.create(engine, MACROS);
    t = await Project.create(engine, TAGS);
  });
  after(async () => {
    await p?.cleanup();
    await t?.cleanup();
  });

  it('a project generate_schema_name override names the schemas; macros and var() defaults render', async () => {
    const r = await p.cli('run');
    assert.equal(r.code, 0, r.output);
    const s = p.schema;
    assert.deepEqual(await p.schemas(), [s, `${s}_special_custom`]);
    assert.deepEqual(await p.rows(`select greeting, c from ${s}.in_default`), [{ greeting: 'hello', c: 150 }]);
    assert.deepEqual(await p.rows(`select min_amount, v from ${s}_special_custom.in_custom`), [{ min_amount: 0, v: 'fallback' }]);
  });

  it('--vars reaches var() (YAML and JSON)', async () => {
    let r = await p.cli('run', ['--vars', '{greeting: bonjour, only_cli: given}']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows(`select greeting from ${p.schema}.in_default`), [{ greeting: 'bonjour' }]);
    assert.deepEqual(await p.rows(`select v from ${p.schema}_special_custom.in_custom`), [{ v: 'given' }]);
    r = await p.cli('run', ['--select', 'in_custom', '--vars', '{"min_amount": 7}']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await p.rows(`select min_amount from ${p.schema}_special_custom.in_custom`), [{ min_amount: 7 }]);
  });

  it('run --select tag: builds only the tagged models', async () => {
    const r = await t.cli('run', ['--select', 'tag:nightly']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await t.relations(), { n1: 'view', n2: 'view' });
    const r2 = await t.cli('run', ['--select', 'tag:hourly']);
    assert.equal(r2.code, 0, r2.output);
    assert.deepEqual(await t.relations(), { n1: 'view', n2: 'view', hourly: 'view' });
    const results = t.json('target/run_results.json');
    assert.deepEqual(results.results.map((x: { unique_id: string }) => x.unique_id), ['model.tagged.hourly']);
  });
});

// --threads 4: a wide DAG whose middle models each sleep; on postgres they must overlap in time.
const WIDE_N = 8;
const WIDE: Files = {
  'dbt_project.yml': projectYml('wide', 'models:\n  wide:\n    +materialized: table\n'),
  'models/root.sql': 'select generate_series(1, 10) as i\n',
  ...Object.fromEntries(
    Array.from({ length: WIDE_N }, (_, k) => [
      `models/mid_${k}.sql`,
      `select i, ${k} as k from {{ ref('root') }} cross join (select pg_sleep(0.3)) s where i % ${WIDE_N} = ${k} or true\n`,
    ]),
  ),
  'models/fan_in.sql': Array.from({ length: WIDE_N }, (_, k) => `select i, k from {{ ref('mid_${k}') }}`).join('\nunion all\n') + '\n',
};

await describeEngines('--threads 4', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, WIDE);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('builds a wide DAG correctly (concurrently on postgres)', async () => {
    const r = await p.cli('run', ['--threads', '4']);
    assert.equal(r.code, 0, r.output);
    assert.equal(await p.count('fan_in'), 10 * WIDE_N);
    const results = p.json('target/run_results.json').results as { unique_id: string; status: string; timing: { started_at: string; completed_at: string }[] }[];
    assert.equal(results.length, WIDE_N + 2);
    assert.ok(results.every((x) => x.status === 'success'));
    const span = (id: string) => {
      const t = results.find((x) => x.unique_id === id)!.timing[0];
      return [Date.parse(t.started_at), Date.parse(t.completed_at)] as const;
    };
    const [, rootEnd] = span('model.wide.root');
    const [fanStart] = span('model.wide.fan_in');
    const mids = Array.from({ length: WIDE_N }, (_, k) => span(`model.wide.mid_${k}`));
    for (const [s, e] of mids) {
      assert.ok(s >= rootEnd - 5, 'every mid model starts after root finished');
      assert.ok(e <= fanStart + 5, 'fan_in starts after every mid model finished');
    }
    // Peak concurrency of the mid models.
    let peak = 0;
    for (const [s] of mids) peak = Math.max(peak, mids.filter(([s2, e2]) => s2 <= s && s < e2).length);
    if (engine.name === 'postgres') assert.ok(peak >= 3 && peak <= 4, `expected 3–4 mid models at once on postgres, saw ${peak}`);
    else assert.equal(peak, 1, 'pglite runs one node at a time whatever --threads says');
  });
});
