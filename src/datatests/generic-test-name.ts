/**
 * Names, kwargs and unique_ids of generic data tests, computed exactly as
 * dbt-core 1.x does (`synthesize_generic_test_names` and `TestBuilder` in
 * `core/dbt/parser/generic_test_builders.py`; the unique_id hash in
 * `SchemaGenericTestParser.create_test_node`). Verified against ids dbt
 * generates for jaffle_shop, e.g. `test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1`.
 */
import { createHash } from 'node:crypto';
import { compareCodePoints, pythonRepr, pythonStr } from './python-repr.ts';
import type { TestSpec } from './test-spec.ts';

/** For generic data tests: which test and with what arguments (dbt's `test_metadata`, in manifest nodes). */
export interface TestMetadata {
  name: string;
  kwargs: Record<string, unknown>;
  namespace: string | null;
}

/**
 * The node a generic test is attached to.
 * - models/seeds/snapshots: `{ resourceType: 'model', name: 'orders' }` (`version` for versioned models);
 * - sources: `{ resourceType: 'source', sourceName: 'raw', name: 'events' }` (`name` is the table).
 */
export interface TestTarget {
  readonly resourceType: string;
  readonly name: string;
  readonly sourceName?: string;
  readonly version?: string | number | null;
}

/** The two names dbt gives a generic test. */
export interface GenericTestNames {
  /** The full name: node `name`, last part of the `fqn` and of the `unique_id`. */
  readonly name: string;
  /**
   * dbt's "compiled name": equals `name` unless that is 64 characters or longer, then
   * `<first 30 chars of "<test>_<target>">_<md5 of name>`. dbt uses it as the node's
   * `alias` (unless `alias` is configured), so as the store_failures table name, and
   * for the compiled file path (`<short>.sql`).
   */
  readonly shortName: string;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** Length and prefix slicing in code points, as Python's `len()` and `[:30]`. */
const cpLength = (s: string): number => Array.from(s).length;
const cpSlice = (s: string, n: number): string => Array.from(s).slice(0, n).join('');

/**
 * The `model` kwarg dbt stores for a test: `{{ get_where_subquery(ref('orders')) }}`,
 * `{{ get_where_subquery(ref('orders', version='2')) }}` or
 * `{{ get_where_subquery(source('raw', 'events')) }}` (dbt's `build_model_str`).
 */
export function genericTestModelArg(target: TestTarget): string {
  let call: string;
  if (target.resourceType === 'source') call = `source('${target.sourceName ?? ''}', '${target.name}')`;
  else if (target.version !== undefined && target.version !== null && target.version !== '')
    call = `ref('${target.name}', version='${target.version}')`;
  else call = `ref('${target.name}')`;
  return `{{ get_where_subquery(${call}) }}`;
}

/**
 * The macro's keyword arguments as dbt stores them in `test_metadata.kwargs`:
 * the spec's kwargs, then `column_name` (column tests; overrides a written one),
 * then `model` ({@link genericTestModelArg}). Values are not rendered yet; see
 * {@link renderTestKwargs}.
 *
 * `columnName` is the column's name as dbt passes it: already quoted
 * (`"Order ID"`) when the column has `quote: true`.
 */
export function genericTestKwargs(spec: TestSpec, target: TestTarget, columnName?: string | null): Record<string, unknown> {
  const kwargs: Record<string, unknown> = { ...spec.kwargs };
  if (columnName !== undefined && columnName !== null) kwargs.column_name = columnName;
  kwargs.model = genericTestModelArg(target);
  return kwargs;
}

/** dbt's `test_metadata`: `{ name, kwargs, namespace }` (kwargs from {@link genericTestKwargs}). */
export function genericTestMetadata(spec: TestSpec, target: TestTarget, columnName?: string | null): TestMetadata {
  return { name: spec.testName, kwargs: genericTestKwargs(spec, target, columnName), namespace: spec.namespace };
}

/**
 * Both names of a generic test (dbt's `fqn_name` and `compiled_name`).
 *
 * Generated name: `<test>_<target>_<args>`, where `<test>` is the test name, prefixed by
 * `source_` for source tests and then by `<namespace>_` for namespaced tests; `<target>`
 * is the model name (`<model>_v<version>` when versioned) or `<source>_<table>`; `<args>`
 * is every kwarg except `model`, in sorted key order, flattened (a list gives its items, a
 * mapping its values), each printed as Python's `str()` and cleaned with
 * `[^0-9a-zA-Z_]+` → `_`, joined by `__`. When the result is 64 characters or longer the
 * short name is `<first 30 chars of "<test>_<target>">_<32-hex md5 of the full name>`.
 *
 * An explicit `name:` is used as both names unchanged.
 *
 * @example not_null on orders.order_id → `not_null_orders_order_id`;
 *   accepted_values(values: [placed, shipped]) on orders.status → `accepted_values_orders_status__placed__shipped`;
 *   unique on source raw.events column id → `source_unique_raw_events_id`.
 */
export function genericTestNames(spec: TestSpec, target: TestTarget, columnName?: string | null): GenericTestNames {
  if (spec.explicitName !== undefined) return { name: spec.explicitName, shortName: spec.explicitName };

  let testType = spec.testName;
  let targetName = target.name;
  if (target.resourceType === 'source') {
    testType = 'source_' + testType;
    targetName = `${target.sourceName ?? ''}_${target.name}`;
  } else if (target.version !== undefined && target.version !== null && target.version !== '') {
    targetName = `${target.name}_v${target.version}`;
  }
  if (spec.namespace) testType = `${spec.namespace}_${testType}`;

  const args = genericTestKwargs(spec, target, columnName);
  const flat: string[] = [];
  for (const key of Object.keys(args).sort(compareCodePoints)) {
    if (key === 'model') continue;
    const v = args[key];
    const parts = Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : [v];
    for (const p of parts) flat.push(pythonStr(p));
  }
  const unique = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${testType}_${targetName}`;
  const name = `${identifier}_${unique}`;
  const shortName = cpLength(name) >= 64 ? `${cpSlice(identifier, 30)}_${md5(name)}` : name;
  return { name, shortName };
}

/**
 * The generic test's node name (dbt's full name, used for `name`, `fqn` and `unique_id`);
 * see {@link genericTestNames} for the rule and for the short name dbt uses as alias/path.
 */
export function genericTestNodeName(spec: TestSpec, target: TestTarget, columnName?: string | null): string {
  return genericTestNames(spec, target, columnName).name;
}

/**
 * The 10-character suffix of a generic test's unique_id: the last 10 hex digits of
 * md5(`name` + Python `repr` of test_metadata with mapping keys sorted and every leaf
 * turned into Python's `str()`), as dbt's `create_test_node` computes it.
 */
export function genericTestHash(name: string, metadata: TestMetadata): string {
  const hashable = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(hashable);
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort(compareCodePoints)) out[k] = hashable(v[k]);
      return out;
    }
    return pythonStr(v);
  };
  const md = { namespace: metadata.namespace, name: metadata.name, kwargs: metadata.kwargs };
  return md5(name + pythonRepr(hashable(md))).slice(-10);
}

/**
 * A test's unique_id, as dbt writes it: `test.<project>.<name>.<hash>`, or
 * `test.<project>.<name>` without a hash (singular tests).
 *
 * The third argument is either the hash suffix itself, or the test's {@link TestSpec}
 * (then `target` and `columnName` are required to compute it with {@link genericTestHash}).
 *
 * @example genericTestUniqueId('jaffle_shop', 'unique_customers_customer_id', spec, { resourceType: 'model', name: 'customers' }, 'customer_id')
 *   → 'test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1'
 */
export function genericTestUniqueId(
  projectName: string,
  name: string,
  hashOrSpec?: string | TestSpec | null,
  target?: TestTarget,
  columnName?: string | null,
): string {
  let hash: string | undefined;
  if (typeof hashOrSpec === 'string') hash = hashOrSpec;
  else if (hashOrSpec) {
    if (!target) throw new Error('genericTestUniqueId: a TestSpec needs its target to compute the hash');
    hash = genericTestHash(name, genericTestMetadata(hashOrSpec, target, columnName));
  }
  return ['test', projectName, name, hash].filter((p) => p !== undefined && p !== '').join('.');
}

/** Matches kwarg strings dbt wraps in `{{ }}` before rendering (dbt's `looks_like_func`). */
const LOOKS_LIKE_FUNC = /^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$/;

/**
 * Renders a generic test's kwargs the way dbt does before calling the test macro
 * (`add_rendered_test_kwargs`): every string, at any depth, is rendered as Jinja,
 * except the top-level `column_name` (always passed verbatim); a string that looks like
 * a call to `ref`, `source`, `var`, `env_var` or `doc` (e.g. `to: ref('customers')`) is
 * first wrapped in `{{ }}`. So `model` (`{{ get_where_subquery(ref('orders')) }}`) and
 * `to` become relations, which is also how the parser captures the test's dependencies.
 *
 * @param render renders one template string in the test's context (where `ref`,
 *   `source`, `var` and `config.get('where')` resolve for this test) and returns its value.
 */
export function renderTestKwargs(
  kwargs: Readonly<Record<string, unknown>>,
  render: (template: string) => unknown,
): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return render(kwargTemplate(v));
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) out[k] = k === 'column_name' ? v : walk(v);
  return out;
}

/** The kwarg string dbt would render, for a caller that renders synchronously. */
export function kwargTemplate(value: string): string {
  return LOOKS_LIKE_FUNC.test(value) ? `{{ ${value} }}` : value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
