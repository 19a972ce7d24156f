/**
 * Installed packages load like the root project (issue 10), as dbt-core 1.x loads them: a
 * package's models, seeds, sources, tests and docs join the Manifest under its package_name;
 * ref()/source() resolve in dbt's `_packages_to_search` order; the root project's config trees
 * apply last; package-scoped vars follow dbt's var precedence; require-dbt-version is checked.
 * No database: parse (and compile without a connection) only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { CompileErrors, TsdbtError } from '../errors.ts';
import { compileNodes } from '../compile/compile.ts';
import { parseProject, type ParseResult } from './parse-project.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

const ROOT_YML = 'name: shop\nprofile: shop\nconfig-version: 2\n';
const PKG_YML = 'name: my_pkg\nconfig-version: 2\n';

function withProject(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-pkgres-'));
  try {
    for (const [p, text] of Object.entries({ 'dbt_project.yml': ROOT_YML, 'dbt_packages/my_pkg/dbt_project.yml': PKG_YML, ...files })) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parse(dir: string, opts: { cliVars?: Record<string, unknown>; env?: NodeJS.ProcessEnv; versionCheck?: boolean } = {}): ParseResult {
  const cliVars = opts.cliVars ?? {};
  return parseProject({
    project: loadProjectConfig(dir, { vars: cliVars }),
    target,
    cliVars,
    invocationId: 'i',
    env: opts.env ?? {},
    partialParse: false,
    versionCheck: opts.versionCheck,
  });
}

function compiled(dir: string, parsed: ParseResult, cliVars: Record<string, unknown> = {}): Map<string, string> {
  const project = loadProjectConfig(dir, { vars: cliVars });
  const ids = Object.keys(parsed.manifest.nodes);
  const out = compileNodes({ project, parsed, target, cliVars, invocationId: 'i', fullRefresh: false, relations: new Map() }, ids);
  return new Map([...out].map(([k, v]) => [k, v.compiledCode.trim()]));
}

function errorsOf(fn: () => unknown): TsdbtError[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CompileErrors) return [...e.errors];
    if (e instanceof TsdbtError) return [e];
    throw e;
  }
  assert.fail('expected the parse to fail');
}

test("a package's models, seed, source, singular and generic tests and docs join the manifest under its package_name (dbt's unique_ids, fqn, package-relative paths)", () => {
  const files = {
    'models/orders.sql': "select * from {{ ref('my_pkg', 'pkg_orders') }}\n",
    'dbt_packages/my_pkg/models/staging/pkg_orders.sql': "select id from {{ ref('pkg_seed') }} join {{ source('raw', 'events') }} using (id)\n",
    'dbt_packages/my_pkg/models/schema.yml': [
      'version: 2',
      'sources:',
      '  - name: raw',
      '    tables: [{name: events}]',
      'models:',
      '  - name: pkg_orders',
      "    description: '{{ doc(\"pkg_orders_doc\") }}'",
      '    columns:',
      '      - name: id',
      '        data_tests: [not_null]',
      '',
    ].join('\n'),
    'dbt_packages/my_pkg/models/docs.md': '{% docs pkg_orders_doc %}Orders of the package{% enddocs %}\n',
    'dbt_packages/my_pkg/seeds/pkg_seed.csv': 'id\n1\n',
    'dbt_packages/my_pkg/tests/no_negative.sql': "select * from {{ ref('pkg_orders') }} where id < 0\n",
  };
  withProject(files, (dir) => {
    const { manifest, warnings } = parse(dir);
    const m = manifest.nodes['model.my_pkg.pkg_orders'];
    assert.ok(m, Object.keys(manifest.nodes).join(', '));
    assert.equal(m.package_name, 'my_pkg');
    assert.deepEqual(m.fqn, ['my_pkg', 'staging', 'pkg_orders']);
    assert.equal(m.original_file_path, 'models/staging/pkg_orders.sql');
    assert.equal(m.path, 'staging/pkg_orders.sql');
    assert.equal(m.patch_path, 'my_pkg://models/schema.yml');
    assert.equal(m.description, 'Orders of the package');
    assert.deepEqual([...m.depends_on.nodes].sort(), ['seed.my_pkg.pkg_seed', 'source.my_pkg.raw.events']);
    assert.equal(manifest.nodes['seed.my_pkg.pkg_seed'].original_file_path, 'seeds/pkg_seed.csv');
    assert.equal(manifest.sources['source.my_pkg.raw.events'].package_name, 'my_pkg');
    assert.equal(manifest.docs['doc.my_pkg.pkg_orders_doc'].package_name, 'my_pkg');
    const singular = manifest.nodes['test.my_pkg.no_negative'];
    assert.deepEqual(singular.depends_on.nodes, ['model.my_pkg.pkg_orders']);
    const generic = Object.values(manifest.nodes).find((n) => n.resource_type === 'test' && n.test_metadata?.name === 'not_null');
    assert.ok(generic && generic.unique_id.startsWith('test.my_pkg.not_null_pkg_orders_id.'), generic?.unique_id);
    assert.equal(generic.attached_node, 'model.my_pkg.pkg_orders');
    assert.deepEqual(manifest.nodes['model.shop.orders'].depends_on.nodes, ['model.my_pkg.pkg_orders']);
    assert.equal(manifest.metadata.project_name, 'shop');
    assert.ok(!warnings.some((w) => w.code === 'unsupported'), warnings.map((w) => w.format()).join('\n'));
  });
});

test("ref() resolves as dbt's resolve_ref: a package node's ref('x') looks in the root project first, then its own package; ref('pkg', 'x') only in pkg", () => {
  const files = {
    'models/shared.sql': 'select 1 as from_root\n',
    'models/root_user.sql': "select * from {{ ref('shared') }}\n",
    'dbt_packages/my_pkg/dbt_project.yml': `${PKG_YML}models:\n  my_pkg:\n    +schema: pkg\n`,
    'dbt_packages/my_pkg/models/shared.sql': 'select 2 as from_pkg\n',
    'dbt_packages/my_pkg/models/only_pkg.sql': 'select 3 as only\n',
    'dbt_packages/my_pkg/models/unqualified.sql': "select * from {{ ref('shared') }}, {{ ref('only_pkg') }}\n",
    'dbt_packages/my_pkg/models/qualified.sql': "select * from {{ ref('my_pkg', 'shared') }}\n",
  };
  withProject(files, (dir) => {
    const parsed = parse(dir);
    const n = parsed.manifest.nodes;
    assert.deepEqual(n['model.shop.root_user'].depends_on.nodes, ['model.shop.shared']);
    assert.deepEqual(n['model.my_pkg.unqualified'].depends_on.nodes, ['model.shop.shared', 'model.my_pkg.only_pkg']);
    assert.deepEqual(n['model.my_pkg.qualified'].depends_on.nodes, ['model.my_pkg.shared']);
    const sql = compiled(dir, parsed);
    assert.match(sql.get('model.my_pkg.unqualified')!, /"analytics"\."shared", "test"\."analytics_pkg"\."only_pkg"/);
    assert.match(sql.get('model.my_pkg.qualified')!, /"analytics_pkg"\."shared"/);
  });
});

test("two packages' models of the same name built as the same relation are an ambiguous-relation error (dbt's AmbiguousAliasError); a root +schema override resolves it", () => {
  const files = {
    'models/shared.sql': 'select 1 as x\n',
    'dbt_packages/my_pkg/models/shared.sql': 'select 2 as x\n',
  };
  withProject(files, (dir) => {
    const errs = errorsOf(() => parse(dir));
    assert.equal(errs.length, 1, errs.map((e) => e.format()).join('\n'));
    assert.equal(errs[0].code, 'ambiguous-relation');
    assert.match(errs[0].message, /model\.shop\.shared \(models\/shared\.sql\) and model\.my_pkg\.shared \(dbt_packages\/my_pkg\/models\/shared\.sql\) would both be built as "test"\."analytics"\."shared"/);
    writeFileSync(join(dir, 'dbt_project.yml'), `${ROOT_YML}models:\n  my_pkg:\n    +schema: vendored\n`);
    const { manifest } = parse(dir);
    assert.equal(manifest.nodes['model.my_pkg.shared'].schema, 'analytics_vendored');
    assert.equal(manifest.nodes['model.shop.shared'].schema, 'analytics');
  });
});

test("configs: the package's own models:/seeds: tree applies; the root project's models: <package>: overrides it and the file's config(), as dbt applies the root project last", () => {
  const files = {
    'dbt_project.yml': [ROOT_YML, 'models:', '  my_pkg:', '    marts:', '      +enabled: false', '    overridden:', '      +materialized: view', 'seeds:', '  my_pkg:', '    +schema: x', ''].join('\n'),
    'dbt_packages/my_pkg/dbt_project.yml': [PKG_YML, 'models:', '  my_pkg:', '    +materialized: table', '    +tags: [from_pkg]', 'seeds:', '  my_pkg:', '    +column_types: {id: bigint}', ''].join('\n'),
    'dbt_packages/my_pkg/models/plain.sql': 'select 1 as id\n',
    'dbt_packages/my_pkg/models/overridden/in_file.sql': "{{ config(materialized='incremental') }}\nselect 1 as id\n",
    'dbt_packages/my_pkg/models/marts/off.sql': 'select 1 as id\n',
    'dbt_packages/my_pkg/seeds/s.csv': 'id\n1\n',
  };
  withProject(files, (dir) => {
    const { manifest } = parse(dir);
    const n = manifest.nodes;
    assert.equal(n['model.my_pkg.plain'].config.materialized, 'table');
    assert.deepEqual(n['model.my_pkg.plain'].tags, ['from_pkg']);
    assert.equal(n['model.my_pkg.in_file'].config.materialized, 'view');
    assert.equal(n['model.my_pkg.off'], undefined);
    assert.ok(manifest.disabled['model.my_pkg.off']);
    assert.equal(n['seed.my_pkg.s'].schema, 'analytics_x');
    assert.deepEqual(n['seed.my_pkg.s'].config.column_types, { id: 'bigint' });
  });
});

test('a ref to a package model the root project disabled is ref-disabled, naming the package file', () => {
  const files = {
    'dbt_project.yml': `${ROOT_YML}models:\n  my_pkg:\n    base:\n      +enabled: false\n`,
    'dbt_packages/my_pkg/models/base.sql': 'select 1 as id\n',
    'dbt_packages/my_pkg/models/uses_base.sql': "select * from {{ ref('base') }}\n",
  };
  withProject(files, (dir) => {
    const errs = errorsOf(() => parse(dir));
    assert.deepEqual(errs.map((e) => [e.code, e.file]), [['ref-disabled', 'dbt_packages/my_pkg/models/uses_base.sql']]);
  });
});

test("vars: --vars > the root project's vars: {my_pkg: …} > the root's global vars > the package's own vars: (dbt's var precedence), at parse and at compile", () => {
  const model = "{{ config(alias='t_' ~ var('a')) }}select '{{ var('a') }}' as a, '{{ var('b') }}' as b, '{{ var('c') }}' as c, '{{ var('d') }}' as d\n";
  const files = {
    'dbt_project.yml': [ROOT_YML, 'vars:', '  b: root_global', '  c: root_global', '  my_pkg:', '    a: root_scoped', '    b: root_scoped', ''].join('\n'),
    'dbt_packages/my_pkg/dbt_project.yml': [PKG_YML, 'vars:', '  a: pkg_own', '  b: pkg_own', '  c: pkg_own', '  d: pkg_own', ''].join('\n'),
    'dbt_packages/my_pkg/models/v.sql': model,
  };
  withProject(files, (dir) => {
    const parsed = parse(dir);
    assert.equal(parsed.manifest.nodes['model.my_pkg.v'].alias, 't_root_scoped');
    assert.equal(compiled(dir, parsed).get('model.my_pkg.v'), "select 'root_scoped' as a, 'root_scoped' as b, 'root_global' as c, 'pkg_own' as d");
    const withCli = parse(dir, { cliVars: { a: 'cli', d: 'cli' } });
    assert.equal(withCli.manifest.nodes['model.my_pkg.v'].alias, 't_cli');
    assert.equal(compiled(dir, withCli, { a: 'cli', d: 'cli' }).get('model.my_pkg.v'), "select 'cli' as a, 'root_scoped' as b, 'root_global' as c, 'cli' as d");
  });
});

test("partial parsing: a package's file is cached apart from the root project's same path, and a change to the package's vars re-parses it", () => {
  const files = {
    'models/m.sql': "{{ config(alias='root_' ~ var('v', 'x')) }}select 1 as id\n",
    'dbt_packages/my_pkg/dbt_project.yml': `${PKG_YML}vars:\n  v: one\n`,
    'dbt_packages/my_pkg/models/m.sql': "{{ config(alias='pkg_' ~ var('v')) }}select 1 as id\n",
  };
  withProject(files, (dir) => {
    const again = () =>
      parseProject({ project: loadProjectConfig(dir), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: true }).manifest.nodes;
    assert.deepEqual([again()['model.shop.m'].alias, again()['model.my_pkg.m'].alias], ['root_x', 'pkg_one']);
    assert.deepEqual([again()['model.shop.m'].alias, again()['model.my_pkg.m'].alias], ['root_x', 'pkg_one']);
    writeFileSync(join(dir, 'dbt_packages/my_pkg/dbt_project.yml'), `${PKG_YML}vars:\n  v: two\n`);
    assert.equal(again()['model.my_pkg.m'].alias, 'pkg_two');
  });
});

test("project_name in a package's node is the root project's name, as dbt's context gives it", () => {
  withProject({ 'dbt_packages/my_pkg/models/pn.sql': "select '{{ project_name }}' as p\n" }, (dir) => {
    assert.equal(compiled(dir, parse(dir)).get('model.my_pkg.pn'), "select 'shop' as p");
  });
});

test("a package's vars are not visible to the root project's models (dbt scopes them to the package)", () => {
  const files = {
    'dbt_packages/my_pkg/dbt_project.yml': `${PKG_YML}vars:\n  only_in_pkg: 1\n`,
    'models/r.sql': "select {{ var('only_in_pkg') }} as x\n",
  };
  withProject(files, (dir) => {
    const errs = errorsOf(() => compiled(dir, parse(dir)));
    assert.equal(errs[0].code, 'var-missing');
  });
});

test("require-dbt-version: a mismatch is an error naming the project file, line and versions (dbt's INVALID_VERSION_ERROR); --no-version-check / DBT_VERSION_CHECK=false skip it", () => {
  withProject({ 'dbt_project.yml': `${ROOT_YML}require-dbt-version: [">=1.99.0", "<2.0.0"]\n` }, (dir) => {
    const [e] = errorsOf(() => parse(dir));
    assert.equal(e.code, 'dbt-version-mismatch');
    assert.equal(e.file, 'dbt_project.yml');
    assert.equal(e.line, 4);
    assert.match(e.message, /tsdbt reports dbt 1\.11\.0, 'shop' requires \['>=1\.99\.0', '<2\.0\.0'\]/);
    assert.match(e.hint ?? '', /--no-version-check/);
    assert.ok(parse(dir, { versionCheck: false }).manifest);
    assert.ok(parse(dir, { env: { DBT_VERSION_CHECK: 'false' } }).manifest);
  });
  withProject({ 'dbt_packages/my_pkg/dbt_project.yml': `${PKG_YML}require-dbt-version: "<1.0.0"\n` }, (dir) => {
    const [e] = errorsOf(() => parse(dir));
    assert.equal(e.code, 'dbt-version-mismatch');
    assert.equal(e.file, 'dbt_packages/my_pkg/dbt_project.yml');
    assert.match(e.message, /'my_pkg' requires \['<1\.0\.0'\]/);
  });
  // A comma-separated string is a list of specifiers, as dbt reads it; a satisfied range passes.
  withProject({ 'dbt_project.yml': `${ROOT_YML}require-dbt-version: ">=1.3.0,<2.0.0"\n` }, (dir) => {
    assert.ok(parse(dir).manifest);
  });
  withProject({ 'dbt_project.yml': `${ROOT_YML}require-dbt-version: [">=1.9.0", "<1.2.0"]\n` }, (dir) => {
    const [e] = errorsOf(() => parse(dir));
    assert.match(e.message, /can never be satisfied/);
  });
});

test("errors in a package's files name them from the root project (dbt_packages/<pkg>/…)", () => {
  withProject({ 'dbt_packages/my_pkg/models/bad.sql': "select * from {{ ref('nope') }}\n" }, (dir) => {
    const [e] = errorsOf(() => parse(dir));
    assert.equal(e.code, 'ref-not-found');
    assert.equal(e.file, 'dbt_packages/my_pkg/models/bad.sql');
    assert.equal(e.line, 1);
  });
  withProject({ 'dbt_packages/my_pkg/models/broken.sql': 'select {{ 1 + }}\n' }, (dir) => {
    const [e] = errorsOf(() => parse(dir));
    assert.equal(e.file, 'dbt_packages/my_pkg/models/broken.sql');
  });
  withProject({ 'dbt_packages/my_pkg/models/schema.yml': 'version: 2\nmodels:\n  - name: [oops\n' }, (dir) => {
    const [e] = errorsOf(() => parse(dir));
    assert.equal(e.code, 'yaml-syntax');
    assert.equal(e.file, 'dbt_packages/my_pkg/models/schema.yml');
  });
});

test("a package's snapshots are parsed like its models: package_name, unique_id, the root project's snapshots: <package>: tree last", () => {
  const files = {
    'dbt_project.yml': `${ROOT_YML}snapshots:\n  my_pkg:\n    +target_schema: history\n`,
    'dbt_packages/my_pkg/models/m.sql': 'select 1 as id\n',
    'dbt_packages/my_pkg/snapshots/snap.sql': "{% snapshot snap %}{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='pkg_own') }}select * from {{ ref('m') }}{% endsnapshot %}\n",
  };
  withProject(files, (dir) => {
    const { manifest, warnings } = parse(dir);
    assert.deepEqual(warnings.filter((x) => x.code === 'unsupported'), []);
    const snap = manifest.nodes['snapshot.my_pkg.snap'];
    assert.ok(snap, Object.keys(manifest.nodes).join(', '));
    assert.equal(snap.package_name, 'my_pkg');
    assert.equal(snap.schema, 'history', 'the root tree wins over the config() call, as dbt applies it last');
    assert.deepEqual(snap.depends_on.nodes, ['model.my_pkg.m']);
  });
});

test("unknown dbt_project.yml keys warn with file and line; keys dbt accepts (dbt-cloud, flags, query-comment, restrict-access) do not", () => {
  withProject({ 'dbt_project.yml': `${ROOT_YML}dbt-cloud:\n  project-id: 1\nflags:\n  send_anonymous_usage_stats: false\nrestrict-access: true\nquery-comment: x\nmodles:\n  shop: {}\n` }, (dir) => {
    const project = loadProjectConfig(dir);
    const w = project.warnings ?? [];
    assert.deepEqual(w.map((x) => [x.code, x.file, x.line]), [['unknown-project-key', 'dbt_project.yml', 10]]);
    assert.match(w[0].message, /unknown key 'modles'.*did you mean 'models'/);
  });
});
