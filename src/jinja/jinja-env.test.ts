// JinjaEnv: macros, the context they see, return(), overrides, namespaces,
// dbt blocks, and errors with the user's file, line and column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsdbtError } from '../errors.ts';
import { JinjaEnv, extractDocBlocks, extractSnapshotBlocks, splitArgs, type RenderedSnapshot } from './index.ts';

function modelContext(name: string) {
  const refs: string[] = [];
  const configs: Record<string, unknown>[] = [];
  return {
    refs,
    configs,
    ctx: {
      this: `"analytics"."${name}"`,
      model: { name },
      ref: (...a: unknown[]) => {
        const { positional } = splitArgs(a);
        refs.push(String(positional[0]));
        return `"analytics"."${String(positional[0])}"`;
      },
      config: (...a: unknown[]) => {
        configs.push(splitArgs(a).kwargs);
        return '';
      },
      is_incremental: () => false,
    },
  };
}

/** Catches a TsdbtError thrown by fn (fails the test if none). */
function caught(fn: () => unknown): TsdbtError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TsdbtError, `expected a TsdbtError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('a macro sees the calling model’s context (this, ref, config), render after render', () => {
  const env = new JinjaEnv();
  env.addMacroFile(
    `{% macro my_this() %}{{ this }}{% endmacro %}
{% macro upstream(n) %}{{ ref(n) }}{% endmacro %}
{% macro configured() %}{% do config(materialized='table') %}{{ model.name }}{% endmacro %}`,
    'macros/ctx.sql',
    'proj',
  );
  for (const name of ['orders', 'customers']) {
    const m = modelContext(name);
    const out = env.render('select {{ my_this() }}, {{ upstream("stg_" ~ model.name) }} -- {{ configured() }}', m.ctx, { file: `models/${name}.sql` });
    assert.equal(out, `select "analytics"."${name}", "analytics"."stg_${name}" -- ${name}`);
    assert.deepEqual(m.refs, [`stg_${name}`]);
    assert.deepEqual(m.configs, [{ materialized: 'table' }]);
  }
  // Macros calling macros see it too; and a model's {% set %} variables do not leak into macros.
  env.addMacroFile('{% macro outer() %}[{{ my_this() }}|{{ secret }}]{% endmacro %}', 'macros/outer.sql', 'proj');
  assert.equal(env.render("{% set secret = 's' %}{{ outer() }}", modelContext('x').ctx, { file: 'models/x.sql' }), '["analytics"."x"|]');
});

test('return(value) makes the macro call evaluate to that value, also from JS', () => {
  const env = new JinjaEnv();
  env.addMacroFile(
    `{% macro cols() %}{% set out = [] %}{% for c in ['a', 'b'] %}{% do out.append(c ~ '_x') %}{% endfor %}{{ return(out) }}ignored{% endmacro %}
{% macro early(x) %}{% if x > 1 %}{% do return('big') %}{% endif %}{% for i in [1] %}{{ return({'n': x}) }}{% endfor %}{% endmacro %}
{% macro uses() %}{% set c = cols() %}{% set local = 'kept' %}{% set e = early(1) %}{{ c | length }} {{ e.n }} {{ local }}{% endmacro %}`,
    'macros/ret.sql',
    'proj',
  );
  assert.equal(env.render("{{ cols() | join(',') }} {{ early(5) }} {{ early(0).n }} {{ uses() }}", {}, { file: 'models/r.sql' }), 'a_x,b_x big 0 2 1 kept');
  assert.deepEqual(env.callMacro('cols', [], {}, {}), ['a_x', 'b_x']);
  assert.deepEqual(env.callMacro('early', [], { x: 7 }, {}), 'big');
});

test('callMacro returns output as a string and passes args and kwargs', () => {
  const env = new JinjaEnv();
  env.addMacroFile('{% macro greet(who, punct="!") %} hi {{ who }}{{ punct }} {{ this }}{% endmacro %}', 'macros/g.sql', 'proj');
  const out = env.callMacro('greet', ['bo'], { punct: '?' }, { this: 't' });
  assert.equal(typeof out, 'string');
  assert.equal(out, ' hi bo? t');
  assert.equal(caught(() => env.callMacro('nope', [], {}, {})).code, 'macro-not-found');
});

test('project macros override dbt built-ins by bare name; both reachable by namespace', () => {
  const env = new JinjaEnv();
  const builtins = env.addMacroFile(
    `{% macro generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name or target.schema }}{% endmacro %}
{% macro current_timestamp() %}now(){% endmacro %}`,
    'macros/builtins.sql',
    'dbt',
  );
  assert.deepEqual(builtins.map((d) => d.name), ['generate_schema_name', 'current_timestamp']);
  const ctx = { target: { schema: 'dev' } };
  assert.equal(env.callMacro('generate_schema_name', [null, null], {}, ctx), 'dev');
  env.addMacroFile(
    '{% macro generate_schema_name(custom_schema_name, node) %}{{ target.schema }}_{{ custom_schema_name | trim }}{% endmacro %}',
    'macros/get_custom_schema.sql',
    'jaffle_shop',
  );
  assert.equal(env.callMacro('generate_schema_name', ['marts', null], {}, ctx), 'dev_marts');
  assert.equal(env.callMacro('dbt.generate_schema_name', ['marts', null], {}, ctx), 'marts');
  assert.equal(env.render('{{ generate_schema_name("x", none) }}|{{ dbt.generate_schema_name(none, none) }}|{{ jaffle_shop.generate_schema_name("y", none) }}|{{ dbt.current_timestamp() }}', ctx, { file: 'models/a.sql' }), 'dev_x|dev|dev_y|now()');
  assert.ok(env.hasMacro('current_timestamp') && env.hasMacro('dbt.current_timestamp') && !env.hasMacro('nope'));
  // A project macro that calls a built-in by name gets the override when one exists.
  env.addMacroFile('{% macro schema_for(x) %}{{ generate_schema_name(x, none) }}{% endmacro %}', 'macros/uses.sql', 'dbt');
  assert.equal(env.callMacro('schema_for', ['z'], {}, ctx), 'dev_z');
});

test('adapter.dispatch-style lookup: postgres__ then default__, root project first', () => {
  const env = new JinjaEnv({ rootPackage: 'proj' });
  env.addMacroFile('{% macro default__dateadd(x) %}default {{ x }}{% endmacro %}{% macro postgres__dateadd(x) %}pg {{ x }}{% endmacro %}', 'macros/d.sql', 'dbt_utils');
  const adapter = { dispatch: (name: string, ns?: string) => env.dispatch(name, ns) };
  const r = () => env.render("{{ adapter.dispatch('dateadd', 'dbt_utils')(1) }}", { adapter }, { file: 'models/a.sql' });
  assert.equal(r(), 'pg 1');
  env.addMacroFile('{% macro default__dateadd(x) %}mine {{ x }}{% endmacro %}', 'macros/mine.sql', 'proj');
  assert.equal(r(), 'mine 1');
  const err = caught(() => env.render("{{ adapter.dispatch('nothing', 'dbt_utils')() }}", { adapter }, { file: 'models/a.sql' }));
  assert.equal(err.code, 'dispatch-macro-not-found');
  assert.equal(err.file, 'models/a.sql');
});

test('addMacroFile returns definitions (name, line, arguments, sql); {% test %} defines test_<name>', () => {
  const env = new JinjaEnv();
  const src = `-- a comment outside blocks is ignored, as is {{ this_would_fail() }}

{% macro cents_to_dollars(column_name, scale=2) -%}
    ({{ column_name }} / 100)::numeric(16, {{ scale }})
{%- endmacro %}

{% test is_positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
`;
  const defs = env.addMacroFile(src, 'macros/money.sql', 'proj');
  assert.deepEqual(
    defs.map((d) => [d.name, d.kind, d.line, d.arguments, d.uniqueId]),
    [
      ['cents_to_dollars', 'macro', 3, [{ name: 'column_name' }, { name: 'scale', default: '2' }], 'macro.proj.cents_to_dollars'],
      ['test_is_positive', 'test', 7, [{ name: 'model' }, { name: 'column_name' }], 'macro.proj.test_is_positive'],
    ],
  );
  assert.ok(defs[0].sql.startsWith('{% macro cents_to_dollars(') && defs[0].sql.endsWith('{%- endmacro %}'));
  assert.equal(env.render('{{ cents_to_dollars("amount") }}', {}, { file: 'models/a.sql' }), '(amount / 100)::numeric(16, 2)');
  assert.equal(String(env.callMacro('test_is_positive', [], { model: 'orders', column_name: 'total' }, {})).trim(), 'select * from orders where total <= 0');
  assert.deepEqual(env.addMacroFile('{% macro a() %}{{ b() }}{{ dbt_utils.star(x) }}{% endmacro %}', 'macros/calls.sql', 'proj')[0].calls, ['b', 'dbt_utils.star']);
  const dup = caught(() => env.addMacroFile('{% macro cents_to_dollars(x) %}{% endmacro %}', 'macros/other.sql', 'proj'));
  assert.equal(dup.code, 'duplicate-macro');
  assert.match(dup.message, /macros\/money\.sql:3/);
});

test('{% docs %} blocks: extracted by extractDocBlocks, render to nothing', () => {
  const md = `{% docs orders %}
Orders, one row per order. Braces like {{ are fine here.
{% enddocs %}

{% docs customers %}Customers{% enddocs %}`;
  assert.deepEqual(extractDocBlocks(md, 'models/docs.md'), [
    { name: 'orders', contents: 'Orders, one row per order. Braces like {{ are fine here.', line: 1 },
    { name: 'customers', contents: 'Customers', line: 5 },
  ]);
  const env = new JinjaEnv();
  assert.equal(env.render('a{% docs x %}anything {{ here }}{% enddocs %}b', {}, { file: 'models/a.sql' }), 'ab');
  env.addMacroFile('{% docs m %}doc{% enddocs %}{% macro m() %}1{% endmacro %}', 'macros/m.sql', 'proj');
  assert.equal(env.render('{{ m() }}', {}, { file: 'models/a.sql' }), '1');
});

test('{% snapshot %} renders its body; name and body are available', () => {
  const src = `{% snapshot orders_snapshot %}
{{ config(unique_key='id') }}
select * from {{ ref('orders') }}
{% endsnapshot %}`;
  assert.deepEqual(extractSnapshotBlocks(src, 'snapshots/s.sql').map((b) => [b.name, b.line, b.body.trim().split('\n').length]), [['orders_snapshot', 1, 2]]);
  const env = new JinjaEnv();
  const m = modelContext('orders_snapshot');
  const snapshots: RenderedSnapshot[] = [];
  const out = env.render(src, m.ctx, { file: 'snapshots/s.sql', snapshots });
  assert.equal(out.trim(), 'select * from "analytics"."orders"');
  assert.equal(snapshots[0].name, 'orders_snapshot');
  assert.equal(snapshots[0].body.trim(), 'select * from "analytics"."orders"');
  assert.deepEqual(m.configs, [{ unique_key: 'id' }]);
});

test('{% materialization %} blocks define materialization_<name>_<adapter> macros, as dbt\'s MaterializationExtension', () => {
  const env = new JinjaEnv();
  const src =
    '{% macro ok() %}{% endmacro %}\n\n{% materialization my_mat, default %}\n{{ return({\'relations\': [\'d\']}) }}\n{% endmaterialization %}\n' +
    "{% materialization my_mat, adapter='postgres', supported_languages=['sql'] %}{{ return({'relations': ['pg']}) }}{% endmaterialization %}";
  const defs = env.addMacroFile(src, 'macros/mat.sql', 'proj');
  assert.deepEqual(
    defs.map((d) => [d.name, d.kind, d.line]),
    [
      ['ok', 'macro', 1],
      ['materialization_my_mat_default', 'materialization', 3],
      ['materialization_my_mat_postgres', 'materialization', 6],
    ],
  );
  assert.deepEqual(env.callMacro('proj.materialization_my_mat_postgres', [], {}, {}), { relations: ['pg'] });
  assert.deepEqual(env.callMacro('materialization_my_mat_default', [], {}, {}), { relations: ['d'] });
});

test('a {% materialization %} with an unknown option or a non-string adapter is a syntax error at its line', () => {
  const env = new JinjaEnv();
  const e = caught(() => env.addMacroFile('\n{% materialization m, flavour=1 %}{% endmaterialization %}', 'macros/m.sql', 'proj'));
  assert.deepEqual([e.code, e.file, e.line], ['jinja-syntax', 'macros/m.sql', 2]);
  assert.match(e.message, /unexpected 'flavour'/);
  const e2 = caught(() => env.addMacroFile('{% materialization m, adapter=pg %}{% endmaterialization %}', 'macros/n.sql', 'proj'));
  assert.match(e2.message, /must be a string/);
});

test('syntax error on line 3 → jinja-syntax with the user’s line and column', () => {
  const env = new JinjaEnv();
  const e = caught(() => env.render('select\n  id,\n  {{ ref("orders" }}\nfrom x', {}, { file: 'models/bad.sql' }));
  assert.equal(e.code, 'jinja-syntax');
  assert.deepEqual([e.file, e.line, e.column], ['models/bad.sql', 3, 19]);
  assert.match(e.message, /models\/bad\.sql/);
  const open = caught(() => env.render('a\nb\n{% if x %}\nc\n', {}, { file: 'models/open.sql' }));
  assert.deepEqual([open.code, open.line, open.column], ['jinja-syntax', 3, 1]);
  assert.match(open.message, /\{% if %\} is never closed/);
  const inMacro = caught(() => env.addMacroFile('{% macro a() %}\n\n{{ 1 + }}\n{% endmacro %}', 'macros/a.sql', 'proj'));
  assert.deepEqual([inMacro.code, inMacro.file, inMacro.line], ['jinja-syntax', 'macros/a.sql', 3]);
});

test('runtime error on line 5 → jinja-error with line and column; undefined macro suggests the closest name', () => {
  const env = new JinjaEnv();
  env.addMacroFile('{% macro cents_to_dollars(c) %}{{ c }}/100{% endmacro %}', 'macros/m.sql', 'proj');
  const src = 'select\n  id,\n  amount,\n  status,\n  {{ cent_to_dollars("amount") }} as dollars\nfrom t';
  const e = caught(() => env.render(src, {}, { file: 'models/pay.sql' }));
  assert.equal(e.code, 'jinja-error');
  assert.deepEqual([e.file, e.line, e.column], ['models/pay.sql', 5, 6]);
  assert.equal(e.message, "'cent_to_dollars' is undefined");
  assert.match(e.hint ?? '', /Did you mean 'cents_to_dollars'\?/);
  const notFn = caught(() => env.render('a\n{{ name() }}', { name: 'x' }, { file: 'models/n.sql' }));
  assert.deepEqual([notFn.line, notFn.message], [2, "'name' is not callable (it is a str)"]);
  const nohint = caught(() => env.render('{{ zzzzqqq() }}', {}, { file: 'models/n.sql' }));
  assert.match(nohint.hint ?? '', /macro-paths/);
});

test('errors inside a macro point at the macro file, and say where it was called from', () => {
  const env = new JinjaEnv();
  env.addMacroFile(
    `{% macro check(x) %}
  {% if x is none %}
    {{ exceptions.raise_compiler_error("x is required for " ~ this) }}
  {% endif %}
  {{ x.nothing() }}
{% endmacro %}`,
    'macros/check.sql',
    'proj',
  );
  const e = caught(() => env.render('select 1\n\n{{ check(none) }}', { this: 'orders' }, { file: 'models/o.sql' }));
  assert.equal(e.code, 'compiler-error');
  assert.deepEqual([e.file, e.line, e.column], ['macros/check.sql', 3, 8]);
  assert.equal(e.message, "x is required for orders (in macro 'check', called from models/o.sql:3)");
  const e2 = caught(() => env.render('{{ check(1) }}', {}, { file: 'models/o.sql' }));
  assert.deepEqual([e2.code, e2.file, e2.line], ['jinja-error', 'macros/check.sql', 5]);
  assert.match(e2.message, /'x\.nothing' is undefined/);
  // raise_compiler_error in the model itself points at the model's line.
  const e3 = caught(() => env.render('a\nb\n{% do exceptions.raise_compiler_error("stop") %}', {}, { file: 'models/o.sql' }));
  assert.deepEqual([e3.code, e3.file, e3.line, e3.message], ['compiler-error', 'models/o.sql', 3, 'stop']);
  // A TsdbtError thrown by a context function keeps its code and gets the call's location.
  const ref = () => {
    throw new TsdbtError('ref-not-found', "model 'nope' not found", { hint: 'check the name' });
  };
  const e4 = caught(() => env.render('select\n* from {{ ref("nope") }}', { ref }, { file: 'models/o.sql' }));
  assert.deepEqual([e4.code, e4.file, e4.line, e4.column, e4.hint], ['ref-not-found', 'models/o.sql', 2, 11, 'check the name']);
});

test('rendering is cheap with many macros registered and text without Jinja is returned as is', () => {
  const env = new JinjaEnv();
  let lib = '';
  for (let i = 0; i < 100; i++) lib += `{% macro m${i}(x) %}{{ x }}+${i}{% endmacro %}\n`;
  env.addMacroFile(lib, 'macros/lib.sql', 'proj');
  assert.equal(env.render('{{ m42(1) }}', {}, { file: 'models/a.sql' }), '1+42');
  assert.equal(env.render('select 1', {}, { file: 'models/b.sql' }), 'select 1');
});

test('attribute of an undefined value is an error naming it (lenient on request); unknown filters/tests and include are compile errors', () => {
  const env = new JinjaEnv();
  const e = caught(() => env.render('select\n  {{ modle.name }}', { model: { name: 'm' } }, { file: 'models/u.sql' }));
  assert.deepEqual([e.code, e.line, e.column, e.message], ['jinja-error', 2, 6, "'modle' is undefined (reading 'name')"]);
  assert.equal(env.render('[{{ modle.name }}]{{ none.x }}', {}, { file: 'models/u.sql', lenientUndefined: true }), '[]');
  assert.equal(env.render("{{ model.missing }}|{{ model.get('missing') }}|{{ none.x }}", { model: {} }, { file: 'models/u.sql' }), '|None|');
  const f = caught(() => env.render('a\n{{ cols | jion(",") }}', {}, { file: 'models/f.sql' }));
  assert.deepEqual([f.code, f.line, f.column], ['jinja-syntax', 2, 11]);
  assert.match(f.message, /no filter named 'jion' \(did you mean 'join'\?\)/);
  const t = caught(() => env.render('{{ x is nnone }}', {}, { file: 'models/f.sql' }));
  assert.match(t.message, /no test named 'nnone' \(did you mean 'none'\?\)/);
  const inc = caught(() => env.render("{% include 'other.sql' %}", {}, { file: 'models/i.sql' }));
  assert.equal(inc.code, 'jinja-syntax');
  assert.match(inc.hint ?? '', /macro/);
});
