/**
 * Generic data tests declared in properties files (`tests:` / `data_tests:`
 * on a model, seed, snapshot or source table, or on one of their columns):
 * one test node each, named and hashed as dbt names them
 * (`test.<package>.not_null_orders_id.<hash>`), calling the `test_<name>`
 * macro with dbt's kwargs (`model`, `column_name`, the test's arguments).
 */
import { TsdbtError } from '../errors.ts';
import type { ColumnProperties, NodeProperties } from '../config/types.ts';
import { mergeConfig } from '../config/index.ts';
import { parseTestEntry, genericTestNames, genericTestUniqueId, genericTestModelArg } from '../datatests/index.ts';
import { columnsForVersion, formattedVersion, testsForVersion } from './model-versions.ts';
import { normaliseConfigKeys } from './jinja-context.ts';
import { quoteIdent } from './relation.ts';
import { staticExtract } from './static-extract.ts';
import { folderParts, sha256, testDefaults, uniq } from './node-fields.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ManifestNode, RefCall } from './manifest.ts';

/** The node or source table a generic test is attached to. */
interface AttachedTo {
  readonly resourceType: string;
  readonly name: string;
  readonly sourceName?: string;
  /** A versioned model's version: the test is named `<test>_<model>_v<version>_…` and refs that version. */
  readonly version?: string | number | null;
  readonly uid: string;
  /** The folders of the properties file defining the test, below its first path part (the middle of the fqn). */
  readonly folder: string[];
}

/**
 * Adds the generic tests of every properties entry, in dbt's order: models, seeds, snapshots,
 * then source tables. An entry describing a node that does not exist is a `patch-unknown-node`
 * warning (unless the node is disabled); an unknown test is a `test-not-found` error.
 */
export function parseGenericTests(b: ManifestBuilder): void {
  const { pkg, properties } = b;
  const testsFor = (props: NodeProperties, resourceType: 'model' | 'seed' | 'snapshot') => {
    if (resourceType === 'model' && props.versions?.length) return versionedTestsFor(props);
    const uid = `${resourceType}.${pkg}.${props.name}`;
    const node = b.nodes[uid];
    if (!node) {
      if (!b.disabled[uid]) {
        b.warnings.push(
          new TsdbtError('patch-unknown-node', `${props.file} describes ${resourceType} '${props.name}', which does not exist`, {
            file: props.file,
            line: props.line,
            hint: `check the spelling${b.suggest(props.name, [...b.byName.keys()].filter((k) => !k.includes('.')))}`,
          }),
        );
      }
      return;
    }
    const attached = { resourceType, name: props.name, uid, folder: ymlFolder(props.file) };
    addGenericTests(b, props.tests, { file: props.file, line: props.line }, attached, null);
    for (const col of props.columns) {
      addGenericTests(b, col.tests, { file: props.file, line: (col as ColumnProperties & { line?: number }).line ?? props.line }, attached, col.name, col.quote === true);
    }
  };
  // As dbt's parse_versioned_tests: each version gets the tests of its own columns (the model's it
  // includes, then its own) and its own tests (or the model's), attached to `model.<p>.<m>.v<v>`.
  const versionedTestsFor = (props: NodeProperties) => {
    for (const version of props.versions ?? []) {
      const uid = `model.${pkg}.${props.name}.${formattedVersion(version.v)}`;
      const node = b.nodes[uid];
      if (!node) continue; // disabled, or no file (warned when the models were parsed)
      const attached = { resourceType: 'model', name: props.name, version: version.v, uid, folder: ymlFolder(props.file) };
      for (const col of columnsForVersion(props, version)) {
        addGenericTests(b, col.tests, { file: props.file, line: col.line ?? version.line }, attached, col.name, col.quote === true);
      }
      addGenericTests(b, testsForVersion(props, version), { file: props.file, line: version.tests ? version.line : props.line }, attached, null);
    }
  };
  for (const p of properties.models) testsFor(p, 'model');
  for (const p of properties.seeds) testsFor(p, 'seed');
  for (const p of properties.snapshots) testsFor(p, 'snapshot');
  for (const s of properties.sources) {
    for (const t of s.tables) {
      const uid = `source.${pkg}.${s.name}.${t.name}`;
      if (!b.sources[uid]) continue;
      const attached = { resourceType: 'source', name: t.name, sourceName: s.name, uid, folder: ymlFolder(s.file) };
      addGenericTests(b, t.tests, { file: s.file, line: t.line }, attached, null);
      for (const col of t.columns) addGenericTests(b, col.tests, { file: s.file, line: (col as ColumnProperties & { line?: number }).line ?? t.line }, attached, col.name, col.quote === true);
    }
  }
}

/** One test node per entry of `entries` (a `tests:` list at `at`), attached to `attached` and column `columnName`. */
function addGenericTests(
  b: ManifestBuilder,
  entries: readonly unknown[],
  at: { file: string; line: number },
  attached: AttachedTo,
  columnName: string | null,
  quoteColumn = false,
): void {
  const { pkg, project, diags, database, target, jinja } = b;
  for (const entry of entries) {
    const spec = diags.capture(() => parseTestEntry(entry, at));
    if (!spec) continue;
    const { name, shortName } = genericTestNames(spec, attached, columnName ?? undefined);
    const kwargs: Record<string, unknown> = { ...spec.kwargs };
    // As dbt: a column declared `quote: true` reaches the test macro quoted.
    if (columnName !== null) kwargs.column_name = quoteColumn ? quoteIdent(columnName) : columnName;
    // dbt's build_model_str: `ref('m')`, `ref('m', version='1')` or `source('s', 't')` in get_where_subquery.
    kwargs.model = genericTestModelArg(attached);
    const uid = genericTestUniqueId(pkg, name, spec, attached, columnName);
    const fqn = [pkg, ...attached.folder, name];
    let config = b.projectConfig(project.tests, fqn);
    config = mergeConfig(config, normaliseConfigKeys((spec.config ?? {}) as Record<string, unknown>));
    config = mergeConfig(config, b.rootOverride('tests', fqn));
    config = testDefaults(config);
    const refs: RefCall[] = [];
    const srcs: [string, string][] = [];
    if (attached.resourceType === 'source') srcs.push([attached.sourceName!, attached.name]);
    else refs.push({ name: attached.name, package: null, version: attached.version ?? null, line: at.line });
    for (const v of Object.values(spec.kwargs)) {
      if (typeof v !== 'string') continue;
      // `to: ref('m', v=1)` / `ref('pkg', 'm')`: the literal call, with its package and version.
      const literal = /^\s*ref\s*\(.*\)\s*$/s.test(v) ? staticExtract(`{{ ${v} }}`) : null;
      if (literal && literal.refs.length === 1) {
        refs.push({ ...literal.refs[0], line: at.line });
        continue;
      }
      for (const m of v.matchAll(/\bref\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ name: m[1], package: null, version: null, line: at.line });
      for (const m of v.matchAll(/\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)/g)) srcs.push([m[1], m[2]]);
    }
    const tags = uniq([...(config.tags ?? [])]);
    const node: ManifestNode = {
      unique_id: uid,
      resource_type: 'test',
      package_name: pkg,
      name,
      // dbt names the file and the relation (store_failures) by the short, hashed name when the full one is long.
      path: `${shortName}.sql`,
      original_file_path: at.file,
      fqn,
      raw_code: `{{ test_${spec.testName}(**_dbt_generic_test_kwargs) }}`,
      language: 'sql',
      checksum: { name: 'sha256', checksum: sha256(JSON.stringify([spec, columnName, attached.uid])) },
      config: { ...config, tags },
      tags,
      description: '',
      columns: {},
      meta: {},
      docs: { show: true, node_color: null },
      patch_path: null,
      database,
      schema: `${target.schema}_dbt_test__audit`,
      alias: (config.alias as string | undefined) ?? shortName,
      relation_name: null,
      depends_on: { nodes: [], macros: [`macro.${spec.namespace ?? 'dbt'}.test_${spec.testName}`, 'macro.dbt.get_where_subquery'] },
      refs,
      sources: srcs,
      test_metadata: { name: spec.testName, kwargs, namespace: spec.namespace ?? null },
      column_name: columnName,
      attached_node: attached.uid,
      file_key_name: attached.resourceType === 'source' ? `sources.${attached.sourceName}` : `${attached.resourceType}s.${attached.name}`,
      created_at: b.now,
    };
    (node as ManifestNode & { line?: number }).line = at.line;
    const macroName = spec.namespace ? `${spec.namespace}.test_${spec.testName}` : `test_${spec.testName}`;
    if (!jinja.hasMacro(macroName)) {
      diags.error(
        new TsdbtError('test-not-found', `unknown generic test '${spec.testName}'`, {
          file: at.file,
          line: at.line,
          hint: `built-in tests are unique, not_null, accepted_values and relationships; define custom ones with {% test ${spec.testName}(model, column_name) %} in macros/ or tests/generic/${b.suggest(spec.testName, ['unique', 'not_null', 'accepted_values', 'relationships'])}`,
        }),
      );
      continue;
    }
    // dbt's own tests need these arguments; without them its macro renders `'values' is undefined`
    // (or broken SQL): say so at the test's line before anything runs.
    if (isDbtBuiltinTest(b, spec.namespace, spec.testName, macroName)) {
      const missing = (BUILTIN_TEST_ARGS[spec.testName] ?? []).filter((a) => spec.kwargs[a] === undefined || spec.kwargs[a] === null);
      if (missing.length) {
        diags.error(
          new TsdbtError('test-args-missing', `the ${spec.testName} test${columnName !== null ? ` on column '${columnName}'` : ''} needs ${missing.map((a) => `'${a}'`).join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not given`, {
            file: at.file,
            line: at.line,
            hint: `write it as - ${spec.testName}:\n    arguments:\n${BUILTIN_TEST_EXAMPLE[spec.testName]}`,
          }),
        );
        continue;
      }
    }
    // dbt renders every generic test node through its macro at parse (execute false), so a ref() or
    // source() in the macro body becomes a dependency. dbt's own tests (unique, not_null, accepted_values,
    // relationships) call none beyond their kwargs, which were scanned above: they skip the render.
    if (!isDbtBuiltinTest(b, spec.namespace, spec.testName, macroName)) {
      const c = b.render.captureGenericTest(
        `{{ ${macroName}(**_dbt_generic_test_kwargs) }}`,
        (ctx) => parseKwargs(kwargs, attached, ctx, b, at.file),
        at.file,
        node.config,
        { name, resource_type: 'test', unique_id: uid, package_name: pkg, config: node.config, tags },
      );
      if (!c) continue;
      for (const r of c.refs) {
        if (!refs.some((x) => x.name === r.name && x.package === r.package && String(x.version ?? '') === String(r.version ?? ''))) refs.push({ ...r, line: at.line });
      }
      for (const [s, t] of c.sources) if (!srcs.some(([x, y]) => x === s && y === t)) srcs.push([s, t]);
    }
    b.register(node);
  }
}

/** The arguments dbt's own generic tests cannot do without (dbt's test_accepted_values / test_relationships macros). */
const BUILTIN_TEST_ARGS: Readonly<Record<string, readonly string[]>> = { accepted_values: ['values'], relationships: ['to', 'field'] };
/** The `arguments:` lines of the hint for {@link BUILTIN_TEST_ARGS}. */
const BUILTIN_TEST_EXAMPLE: Readonly<Record<string, string>> = {
  accepted_values: "      values: ['placed', 'shipped']",
  relationships: "      to: ref('customers')\n      field: id",
};

/** True when `macroName` resolves to dbt's own `test_<testName>` (not a project or package override). */
function isDbtBuiltinTest(b: ManifestBuilder, namespace: string | null | undefined, testName: string, macroName: string): boolean {
  if (namespace === 'dbt') return true;
  const own = b.jinja.getMacro(`test_${testName}`, 'dbt');
  return own !== undefined && b.jinja.getMacro(macroName) === own;
}

/**
 * The kwargs a generic test macro receives in the parse-phase render: `model` is the attached
 * node's relation (through the capturing `ref`/`source`), a kwarg written as a literal `ref(...)` /
 * `source(...)` call is that relation (as at compile), any other kwarg is passed as written.
 */
function parseKwargs(kwargs: Record<string, unknown>, attached: AttachedTo, ctx: Record<string, unknown>, b: ManifestBuilder, file: string): Record<string, unknown> {
  const ref = ctx.ref as (...a: unknown[]) => unknown;
  const source = ctx.source as (...a: unknown[]) => unknown;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (k === 'model') {
      const version = attached.version ?? null;
      out[k] =
        attached.resourceType === 'source'
          ? source(attached.sourceName, attached.name)
          : version !== null
            ? ref(attached.name, { version: String(version), __keywords: true })
            : ref(attached.name);
      continue;
    }
    if (typeof v === 'string' && /^\s*(ref|source)\s*\(.*\)\s*$/s.test(v)) {
      const fast = staticExtract(`{{ ${v} }}`);
      const call = fast && fast.calls.length === 1 ? fast.calls[0] : undefined;
      if (call?.kind === 'ref') {
        const pos = call.ref.package ? [call.ref.package, call.ref.name] : [call.ref.name];
        const version = call.ref.version;
        out[k] = version !== undefined && version !== null ? ref(...pos, { version, __keywords: true }) : ref(...pos);
      }
      else if (call?.kind === 'source') out[k] = source(call.source[0], call.source[1]);
      else out[k] = b.jinja.render(`{{ ${v} }}`, ctx, { file, lenientUndefined: true });
      continue;
    }
    out[k] = v;
  }
  return out;
}

/**
 * The middle of a generic test's fqn: the folders of the properties file that defines it, below its first path
 * part (`models/staging/schema.yml` → `['staging']`), as dbt's SchemaGenericTestParser (dbt-core 1.latest
 * `schema_generic_tests.py`: "fqn is the relative path of the yaml file where this generic test is defined,
 * minus the project-level directory and the file name itself") — not the folders of the model it tests.
 */
function ymlFolder(file: string): string[] {
  return folderParts(file.split(/[\\/]/).slice(1).join('/'));
}
