/**
 * dbt's global macros beyond the cross-database ones: naming macros and their
 * default__ forms, the generic tests as dispatching macros, date_spine /
 * get_intervals_between, and the SQL-text materialization helpers
 * (get_create_table_as_sql, create_table_as, get_create_view_as_sql,
 * get_delete_insert_merge_sql, get_incremental_append_sql, get_merge_sql).
 * Expected SQL is dbt-adapters' / dbt-postgres's, written by hand from their
 * macros; whitespace is not significant. Then the SQL runs on PostgreSQL and PGlite.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { testTargets, type TestDb } from '../adapters/testing.ts';
import { compileNodes } from '../compile/compile.ts';
import { loadProjectConfig } from '../config/index.ts';
import type { NodeConfig, TargetConfig } from '../config/types.ts';
import { writeProject } from '../config/write-project.ts';
import { TsdbtError } from '../errors.ts';
import { JinjaEnv } from '../jinja/index.ts';
import { buildContext, type ContextHooks } from '../parse/jinja-context.ts';
import { parseProject } from '../parse/parse-project.ts';
import { JinjaRelation } from '../parse/relation.ts';
import { builtinMacroFiles, builtinMacrosDigest } from './builtin-macros.ts';

/** Whitespace-insensitive SQL: one space between tokens, none inside parentheses, `, ` after commas. */
function normalizeSql(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .replace(/\s*,\s*/g, ', ')
    .trim();
}

const target: TargetConfig = { name: 'dev', profileName: 'proj', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

/** Parses and compiles a project (package `proj`); returns the parse and unique_id → compiled SQL. */
function build(files: Record<string, string>) {
  const root = writeProject({ 'dbt_project.yml': 'name: proj\nprofile: proj\nconfig-version: 2\n', ...files });
  try {
    const project = loadProjectConfig(root, { vars: {} });
    const parsed = parseProject({ project, target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
    const out = compileNodes({ project, parsed, target, cliVars: {}, invocationId: 'i', fullRefresh: false, relations: new Map() }, Object.keys(parsed.manifest.nodes));
    const compiled = new Map<string, string>();
    for (const [id, n] of out) compiled.set(id, n.compiledCode);
    return { manifest: parsed.manifest, compiled };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const NO_HOOKS: ContextHooks = {
  ref: () => {
    throw new Error('no ref here');
  },
  source: () => {
    throw new Error('no source here');
  },
  variable: (_n, f) => f,
  envVar: (_n, f) => f,
  isIncremental: () => false,
};

/** A JinjaEnv with dbt's built-ins (and the given project macros), and a render function with compile's context. */
function jinja(projectMacros = '') {
  const env = new JinjaEnv({ rootPackage: 'proj' });
  for (const f of builtinMacroFiles()) env.addMacroFile(f.source, f.file, 'dbt');
  if (projectMacros) env.addMacroFile(projectMacros, 'macros/project.sql', 'proj');
  const render = (text: string, opts: { config?: NodeConfig; extra?: Record<string, unknown>; execute?: boolean } = {}): string => {
    const ctx = buildContext({
      execute: opts.execute ?? true,
      target,
      targetDatabase: 'test',
      projectName: 'proj',
      invocationId: 'i',
      runStartedAt: new Date(),
      fullRefresh: false,
      self: null,
      model: { name: 'm' },
      config: opts.config ?? {},
      file: 'models/m.sql',
      hooks: NO_HOOKS,
      dispatch: (name, ns) => env.dispatch(name, ns),
    });
    return env.render(text, { ...ctx, ...opts.extra }, { file: 'models/m.sql' });
  };
  return { env, render };
}

describe('naming macros dispatch to default__ forms, as dbt 1.x', () => {
  it("dbt's generate_schema_name / generate_alias_name / generate_database_name give dbt's defaults", () => {
    const { render } = jinja();
    assert.equal(render("{{ generate_schema_name('mart', none) }}|{{ generate_schema_name(none, none) }}|{{ dbt.generate_schema_name(' x ', none) }}"), 'analytics_mart|analytics|analytics_x');
    assert.equal(render("{{ generate_alias_name(none, {'name': 'orders'}) }}|{{ generate_alias_name(' o ', {'name': 'orders'}) }}"), 'orders|o');
    assert.equal(render("{{ generate_alias_name(none, {'name': 'orders', 'version': 2}) }}|{{ generate_alias_name(none, {'name': 'orders', 'version': '1.5'}) }}"), 'orders_v2|orders_v1_5');
    assert.equal(render("{{ generate_database_name(none, none) }}|{{ generate_database_name('other', none) }}"), 'test|other');
    assert.equal(render("{{ generate_schema_name_for_env('mart', none) }}"), 'analytics');
  });

  it('without overrides, +schema and alias give <target schema>_<custom> and the alias (parsed project)', () => {
    const { manifest } = build({ 'models/a.sql': "{{ config(schema='mart', alias='a_alias') }}\nselect 1 as id\n" });
    const a = manifest.nodes['model.proj.a'];
    assert.equal(a.schema, 'analytics_mart');
    assert.equal(a.alias, 'a_alias');
  });

  it("a project's default__generate_schema_name / default__generate_alias_name replace dbt's (dispatch searches the root project first)", () => {
    const { manifest } = build({
      'macros/naming.sql':
        "{% macro default__generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name or 'base' }}_only{% endmacro %}\n" +
        "{% macro default__generate_alias_name(custom_alias_name=none, node=none) %}t_{{ node.name }}{% endmacro %}\n",
      'models/a.sql': "{{ config(schema='mart') }}\nselect 1 as id\n",
      'models/b.sql': 'select 1 as id\n',
    });
    assert.equal(manifest.nodes['model.proj.a'].schema, 'mart_only');
    assert.equal(manifest.nodes['model.proj.b'].schema, 'base_only');
    assert.equal(manifest.nodes['model.proj.b'].alias, 't_b');
  });

  it("a project's generate_schema_name keeps winning over every default__ form, and can call dbt's default__ itself", () => {
    const { manifest } = build({
      'macros/naming.sql':
        '{% macro generate_schema_name(custom_schema_name, node) %}{% if custom_schema_name %}{{ custom_schema_name }}{% else %}{{ default__generate_schema_name(none, node) }}{% endif %}{% endmacro %}\n' +
        "{% macro default__generate_schema_name(custom_schema_name, node) %}never{% endmacro %}\n",
      'models/a.sql': "{{ config(schema='mart') }}\nselect 1 as id\n",
    });
    assert.equal(manifest.nodes['model.proj.a'].schema, 'mart');
    const { manifest: m2 } = build({
      'macros/naming.sql': '{% macro generate_schema_name(custom_schema_name, node) %}{{ dbt.default__generate_schema_name(custom_schema_name, node) }}_x{% endmacro %}\n',
      'models/a.sql': "{{ config(schema='mart') }}\nselect 1 as id\n",
    });
    assert.equal(m2.nodes['model.proj.a'].schema, 'analytics_mart_x');
  });

  it('get_where_subquery: the relation, or dbt_subquery filtered by the where config', () => {
    const { render } = jinja();
    const rel = new JinjaRelation({ database: 'test', schema: 's', identifier: 't' });
    assert.equal(render('{{ get_where_subquery(r) }}', { extra: { r: rel } }), '"test"."s"."t"');
    assert.equal(render('{{ get_where_subquery(r) }}', { extra: { r: rel }, config: { where: 'x > 1' } as NodeConfig }), '(select * from "test"."s"."t" where x > 1) dbt_subquery');
  });
});

describe('generic tests are dispatching macros (dbt-core tests/generic/builtin.sql)', () => {
  const files = {
    'models/a.sql': 'select 1 as id, 2 as other\n',
    'models/schema.yml': 'version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n',
  };

  it("test_unique renders dbt's default__test_unique SQL", () => {
    const { compiled } = build(files);
    const sql = [...compiled.entries()].find(([id]) => id.startsWith('test.proj.unique_a_id'))?.[1];
    assert.equal(
      normalizeSql(sql ?? ''),
      normalizeSql('select id as unique_field, count(*) as n_records from "test"."analytics"."a" where id is not null group by id having count(*) > 1'),
    );
  });

  it("a project's default__test_not_null replaces dbt's SQL and keeps the test's name", () => {
    const { compiled, manifest } = build({
      ...files,
      'macros/tests.sql': '{% macro default__test_not_null(model, column_name) %}select * from {{ model }} where {{ column_name }} is null and 1 = 0{% endmacro %}\n',
    });
    const id = Object.keys(manifest.nodes).find((k) => k.startsWith('test.proj.not_null_a_id'));
    assert.ok(id, 'the test keeps its dbt name');
    assert.equal(compiled.get(id!), 'select * from "test"."analytics"."a" where id is null and 1 = 0');
  });

  it('the four built-in tests are registered as dbt.test_x and dbt.default__test_x', () => {
    const { env } = jinja();
    for (const t of ['unique', 'not_null', 'accepted_values', 'relationships']) {
      assert.ok(env.getMacro(`test_${t}`, 'dbt'), `test_${t}`);
      assert.ok(env.getMacro(`default__test_${t}`, 'dbt'), `default__test_${t}`);
    }
  });
});

describe('the built-in macro files', () => {
  it('are all registered in package dbt, with unique names, and hashed once', () => {
    const { env } = jinja();
    const defs = env.macroDefinitions().filter((m) => m.packageName === 'dbt');
    assert.ok(defs.length > 100, `${defs.length} macros`);
    assert.equal(new Set(defs.map((m) => m.name)).size, defs.length);
    assert.match(builtinMacrosDigest(), /^[0-9a-f]{64}$/);
    assert.equal(builtinMacrosDigest(), builtinMacrosDigest());
  });

  it('are in the manifest as macro.dbt.<name> with their file', () => {
    const { manifest } = build({ 'models/a.sql': 'select 1 as id\n' });
    const m = manifest.macros['macro.dbt.date_trunc'];
    assert.equal(m?.package_name, 'dbt');
    assert.equal(m?.original_file_path, 'tsdbt/macros/dbt/dates.sql');
    assert.ok(manifest.macros['macro.dbt.postgres__datediff']);
  });
});

describe('lazy macro files (how parse registers the built-ins)', () => {
  it('compile on first call; the real functions replace the stubs; a project macro of the same name still wins', () => {
    const env = new JinjaEnv({ rootPackage: 'proj' });
    const defs = env.addMacroFile('{% macro a() %}A{{ b() }}{% endmacro %}{% macro b() %}B{% endmacro %}{% macro shadowed() %}dbt{% endmacro %}', 'lib.sql', 'dbt', { lazy: true });
    assert.deepEqual(
      defs.map((m) => m.name),
      ['a', 'b', 'shadowed'],
    );
    env.addMacroFile('{% macro shadowed() %}project{% endmacro %}', 'macros/p.sql', 'proj');
    const stub = env.getMacro('a', 'dbt');
    assert.equal(env.render('{{ a() }} {{ dbt.b() }} {{ shadowed() }} {{ dbt.shadowed() }}', {}, { file: 'm.sql' }), 'AB B project dbt');
    assert.notEqual(env.getMacro('a', 'dbt'), stub, 'after the first call, lookups find the compiled macro');
    assert.equal(env.render("{{ a() }}", {}, { file: "m.sql" }), 'AB');
  });

  it('a Jinja error in a lazy file surfaces at the first call, located in that file', () => {
    const env = new JinjaEnv({ rootPackage: 'proj' });
    env.addMacroFile('{% macro ok() %}fine{% endmacro %}\n{% macro bad() %}{{ 1 + }}{% endmacro %}', 'lib.sql', 'dbt', { lazy: true });
    assert.throws(
      () => env.render('{{ ok() }}', {}, { file: 'm.sql' }),
      (e: unknown) => e instanceof TsdbtError && e.code === 'jinja-syntax' && e.file === 'lib.sql' && e.line === 2,
    );
  });

  it('every built-in file compiles (registered eagerly here)', () => {
    const env = new JinjaEnv({ rootPackage: 'proj' });
    for (const f of builtinMacroFiles()) assert.ok(env.addMacroFile(f.source, f.file, 'dbt').length > 0, f.name);
  });
});

const rowsText = (rows: Record<string, unknown>[]) => rows.map((r) => Object.values(r).map((v) => (v instanceof Date ? v.toISOString() : String(v))).join('|'));

for (const tt of testTargets()) {
  describe(`dbt macros that need SQL run, on ${tt.name}`, { skip: await tt.skipReason() }, () => {
    let db: TestDb;
    let database: string;
    const rel = (identifier: string) => new JinjaRelation({ database, schema: db.schema, identifier });
    before(async () => {
      db = await tt.make();
      database = String((await db.adapter.query<{ d: string }>('select current_database() as d')).rows[0].d);
    });
    after(async () => {
      await db?.cleanup();
    });

    it('date_spine: dbt-adapters default__date_spine over generate_series, with get_intervals_between asking the database (run_query)', async () => {
      const { render } = jinja();
      const start = "cast('2024-01-30' as date)";
      const end = "cast('2024-02-03' as date)";
      // What get_intervals_between sends, run for real; run_query gives the test's row back.
      const query = `select ${render(`{{ dbt.datediff("${start}", "${end}", 'day') }}`)} as intervals`;
      const intervals = (await db.adapter.query(query)).rows;
      assert.deepEqual(rowsText(intervals), ['4']);
      const sent: string[] = [];
      const runQuery = (sql: string) => {
        sent.push(sql);
        assert.equal(sql, query);
        return { rows: intervals.map((r) => Object.values(r)) };
      };
      assert.equal(render(`{{ dbt.get_intervals_between("${start}", "${end}", 'day') }}`, { extra: { run_query: runQuery } }), '4');
      assert.equal(render(`{{ dbt.get_intervals_between("${start}", "${end}", 'day') }}`, { execute: false }), '1', 'while parsing, as dbt: 1');
      const spine = render(`{{ dbt.date_spine('day', "${start}", "${end}") }}`, { extra: { run_query: runQuery } });
      const series =
        'with p as (select 0 as generated_number union all select 1), unioned as (select p0.generated_number * power(2, 0) + p1.generated_number * power(2, 1) + 1 as generated_number ' +
        'from p as p0 cross join p as p1) select * from unioned where generated_number <= 4 order by generated_number';
      assert.equal(
        normalizeSql(spine),
        normalizeSql(
          `with rawdata as (${series}), all_periods as (select (${start} + ((interval '1 day') * (row_number() over (order by 1) - 1))) as date_day from rawdata), ` +
            `filtered as (select * from all_periods where date_day <= ${end}) select * from filtered`,
        ),
      );
      const res = await db.adapter.query<{ d: string }>(`select date_day::date::text as d from (${spine}) s order by 1`);
      assert.deepEqual(
        res.rows.map((r) => r.d),
        ['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-02'],
      );
    });

    it("get_create_table_as_sql / create_table_as: dbt-postgres's create table … as, unlogged when configured, temporary without schema", async () => {
      const { render } = jinja();
      const t = rel('ctas');
      const sql = render("{{ get_create_table_as_sql(False, r, 'select 1 as id, 2 as v') }}", { extra: { r: t } });
      assert.equal(normalizeSql(sql), normalizeSql(`create table ${t.render()} as (select 1 as id, 2 as v);`));
      await db.adapter.query(sql);
      assert.deepEqual(rowsText((await db.adapter.query(`select * from ${t.render()}`)).rows), ['1|2']);

      const u = rel('ctas_unlogged');
      const unlogged = render("{{ create_table_as(False, r, 'select 1 as id') }}", { extra: { r: u }, config: { unlogged: true } as NodeConfig });
      assert.equal(normalizeSql(unlogged), normalizeSql(`create unlogged table ${u.render()} as (select 1 as id);`));
      await db.adapter.query(unlogged);
      const persistence = await db.adapter.query<{ p: string }>(`select relpersistence::text as p from pg_class where oid = '${u.render().replace(/'/g, "''")}'::regclass`);
      assert.equal(persistence.rows[0].p, 'u');

      const temp = render("{{ get_create_table_as_sql(True, r.include(database=False, schema=False), 'select 1 as id') }}", { extra: { r: rel('ctas_tmp') }, config: { unlogged: true } as NodeConfig });
      assert.equal(normalizeSql(temp), normalizeSql('create temporary table "ctas_tmp" as (select 1 as id);'));

      const header = render("{{ get_create_table_as_sql(False, r, 'select 1 as id') }}", { extra: { r: rel('h') }, config: { sql_header: 'set local work_mem = 65536;' } as NodeConfig });
      assert.match(header, /^\s*set local work_mem = 65536;\s*create table/);
    });

    it('get_create_view_as_sql: create view … as (…)', async () => {
      const { render } = jinja();
      const v = rel('a_view');
      const sql = render("{{ get_create_view_as_sql(r, 'select 41 + 1 as answer') }}", { extra: { r: v } });
      assert.equal(normalizeSql(sql), normalizeSql(`create view ${v.render()} as (select 41 + 1 as answer);`));
      await db.adapter.query(sql);
      assert.deepEqual(rowsText((await db.adapter.query(`select answer from ${v.render()}`)).rows), ['42']);
    });

    it('an enforced contract is [unsupported] in create_table_as, naming the relation', () => {
      const { render } = jinja();
      assert.throws(
        () => render("{{ get_create_table_as_sql(False, r, 'select 1 as id') }}", { extra: { r: rel('c') }, config: { contract: { enforced: true } } as NodeConfig }),
        (e: unknown) => e instanceof TsdbtError && /^\[unsupported\] contract/.test(e.message) && e.message.includes('"c"'),
      );
    });

    const cols = [
      { name: 'id', column: 'id', quoted: '"id"' },
      { name: 'v', column: 'v', quoted: '"v"' },
    ];
    const prepare = async () => {
      const target = rel('inc_target');
      const source = rel('inc_source');
      await db.adapter.query(`drop table if exists ${target.render()}; drop table if exists ${source.render()}`);
      await db.adapter.query(`create table ${target.render()} as select * from (values (1, 'a'), (2, 'b')) t(id, v)`);
      await db.adapter.query(`create table ${source.render()} as select * from (values (2, 'B'), (3, 'C')) t(id, v)`);
      return { target, source, rows: async () => rowsText((await db.adapter.query(`select id, v from ${target.render()} order by id`)).rows) };
    };

    it('get_incremental_append_sql: insert into … (select … from temp)', async () => {
      const { render } = jinja();
      const { target: t, source: s, rows } = await prepare();
      const sql = render("{{ get_incremental_append_sql({'target_relation': t, 'temp_relation': s, 'dest_columns': cols, 'unique_key': none, 'incremental_predicates': none}) }}", { extra: { t, s, cols } });
      assert.equal(normalizeSql(sql), normalizeSql(`insert into ${t.render()} ("id", "v") (select "id", "v" from ${s.render()})`));
      await db.adapter.query(sql);
      assert.deepEqual(await rows(), ['1|a', '2|b', '2|B', '3|C']);
    });

    it('get_delete_insert_merge_sql: delete rows whose key is in the source (and the predicates), then insert', async () => {
      const { render } = jinja();
      const { target: t, source: s, rows } = await prepare();
      const sql = render("{{ get_delete_insert_merge_sql(t, s, 'id', cols, ['DBT_INTERNAL_DEST.id > 0']) }}", { extra: { t, s, cols } });
      assert.equal(
        normalizeSql(sql),
        normalizeSql(
          `delete from ${t.render()} as DBT_INTERNAL_DEST where (id) in (select distinct id from ${s.render()} as DBT_INTERNAL_SOURCE) and DBT_INTERNAL_DEST.id > 0; ` +
            `insert into ${t.render()} ("id", "v") (select "id", "v" from ${s.render()})`,
        ),
      );
      await db.adapter.query(sql);
      assert.deepEqual(await rows(), ['1|a', '2|B', '3|C']);
      // Postgres's default strategy (postgres__get_incremental_default_sql) is delete+insert when there is a unique_key.
      const dflt = render("{{ get_incremental_default_sql({'target_relation': t, 'temp_relation': s, 'dest_columns': cols, 'unique_key': ['id'], 'incremental_predicates': none}) }}", { extra: { t, s, cols } });
      assert.match(normalizeSql(dflt), /^delete from .* where \(id\) in \(select distinct id from .*\); insert into/);
    });

    it('get_merge_sql: merge on the unique key, update every column, insert the rest', async () => {
      const { render } = jinja();
      const { target: t, source: s, rows } = await prepare();
      const sql = render("{{ get_merge_sql(t, s, 'id', cols) }}", { extra: { t, s, cols } });
      assert.equal(
        normalizeSql(sql),
        normalizeSql(
          `merge into ${t.render()} as DBT_INTERNAL_DEST using ${s.render()} as DBT_INTERNAL_SOURCE on ((DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)) ` +
            `when matched then update set "id" = DBT_INTERNAL_SOURCE."id", "v" = DBT_INTERNAL_SOURCE."v" when not matched then insert ("id", "v") values ("id", "v")`,
        ),
      );
      await db.adapter.query(sql);
      assert.deepEqual(await rows(), ['1|a', '2|B', '3|C']);
      const exclude = render("{{ get_merge_sql(t, s, ['id'], cols, predicates=['DBT_INTERNAL_DEST.id < 100']) }}", { extra: { t, s, cols }, config: { merge_exclude_columns: ['V'] } as NodeConfig });
      assert.match(normalizeSql(exclude), /on \(DBT_INTERNAL_DEST\.id < 100\) and \(DBT_INTERNAL_SOURCE\.id = DBT_INTERNAL_DEST\.id\) when matched then update set "id" = DBT_INTERNAL_SOURCE\."id" when not/);
      await db.adapter.query(exclude);
    });
  });
}
