/**
 * One entry of a `data_tests:` / `tests:` list, as dbt-core 1.x reads it
 * (`TestBuilder.extract_test_args` and the config handling in
 * `core/dbt/parser/generic_test_builders.py`).
 */
import type { NodeConfig } from '../config/types.ts';
import { TsdbtError } from '../errors.ts';

/**
 * A generic test as written, split into the macro's arguments and the test's config.
 *
 * - `testName`: `accepted_values` (the macro is `test_accepted_values`).
 * - `namespace`: `dbt_utils` for `dbt_utils.expression_is_true`, else null.
 * - `kwargs`: keyword arguments for the test macro, as written (strings not yet
 *   rendered). Excludes `model`, the config keys, `config`, `name` and
 *   `description`; `column_name` is present only when written explicitly
 *   (column tests get it from {@link genericTestKwargs}).
 * - `config`: the test's config (`severity`, `where`, `limit`, `warn_if`,
 *   `error_if`, `fail_calc`, `store_failures`, `store_failures_as`, `tags`,
 *   `meta`, `enabled`, `database`, `schema`, `alias`, plus any other key under
 *   `config:`), as written. dbt renders string values with Jinja at parse time
 *   (`where: "d > '{{ var('since') }}'"`); that is the caller's job.
 * - `explicitName`: the `name:` the user gave, which replaces the generated name.
 */
export interface TestSpec {
  readonly testName: string;
  readonly namespace: string | null;
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly config: NodeConfig;
  readonly explicitName?: string;
  readonly description?: string;
  /** Where the entry was written (project-relative file, 1-based line). */
  readonly file: string;
  readonly line: number;
}

/**
 * Keys that are test config when written directly among the arguments (the
 * "legacy" form, still accepted by dbt 1.x): dbt's `TestBuilder.CONFIG_ARGS`.
 */
export const TEST_CONFIG_ARGS: readonly string[] = [
  'severity',
  'tags',
  'enabled',
  'where',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'meta',
  'database',
  'schema',
  'alias',
  'sql_header',
];

/** dbt's `TEST_NAME_PATTERN`: an optional `package.` then an identifier. */
const TEST_NAME = /^(?:([A-Za-z_][0-9A-Za-z_]*)\.)?([A-Za-z_][0-9A-Za-z_]*)$/;

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/** A JSON-style deep copy of YAML data (so callers' objects are never mutated). */
function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/**
 * Reads one `data_tests:`/`tests:` entry exactly as dbt-core 1.x does.
 *
 * Accepted forms (all from dbt's docs):
 * - `unique` — a bare name;
 * - `{ accepted_values: { values: [...], quote: false } }` — name → arguments;
 * - config nested (`{ unique: { config: { where: "x > 1" } } }`) or, the older
 *   style, config keys directly among the arguments (`{ unique: { severity: warn } }`);
 * - dbt 1.10+: arguments nested under `arguments:`
 *   (`{ accepted_values: { arguments: { values: [...] }, config: {...} } }`), merged
 *   over the top-level keys as dbt does with `require_generic_test_arguments_property`;
 * - a namespaced name (`dbt_utils.expression_is_true`);
 * - an explicit `name:` (`{ unique: { name: orders_id_unique } }`), and the
 *   `{ test_name: unique, name: …, config: … }` form.
 *
 * @param entry the YAML value as parsed.
 * @param where project-relative file and 1-based line of the entry (for errors and the spec).
 * @throws TsdbtError `test-invalid` (kind 'project') when the entry is malformed: not a string or
 *   one-key mapping, arguments not a mapping, a bad test name, `model` among the arguments, the same
 *   config key both at the top and under `config:`, or an invalid `severity`/`limit`/`tags`/`store_failures_as`.
 */
export function parseTestEntry(entry: unknown, where: { file: string; line: number }): TestSpec {
  const fail = (message: string, hint: string): never => {
    throw new TsdbtError('test-invalid', message, { file: where.file, line: where.line, hint, kind: 'project' });
  };
  const shapeHint =
    'write a test as `- unique`, or as `- accepted_values: {arguments: {values: [a, b]}, config: {severity: warn}}`';

  let rawName: unknown;
  let rawArgs: unknown;
  if (typeof entry === 'string') {
    rawName = entry.trim();
    rawArgs = {};
  } else if (isMapping(entry)) {
    if ('test_name' in entry) {
      const { test_name, ...rest } = entry;
      rawName = test_name;
      rawArgs = rest;
    } else {
      const keys = Object.keys(entry);
      if (keys.length !== 1) {
        fail(
          `a test entry must have exactly one key (the test's name), found ${keys.length}: ${keys.map((k) => `'${k}'`).join(', ') || 'none'}`,
          `indent the arguments under the test's name; ${shapeHint}`,
        );
      }
      rawName = keys[0];
      rawArgs = entry[keys[0]];
    }
  } else {
    return fail(`a test entry must be a test name or a mapping, got ${typeName(entry)}`, shapeHint);
  }

  if (typeof rawName !== 'string') return fail(`a test's name must be a string, got ${typeName(rawName)}`, shapeHint);
  const testLabel = rawName;
  if (!isMapping(rawArgs)) {
    return fail(
      `the arguments of test '${testLabel}' must be a mapping, got ${typeName(rawArgs)}`,
      rawArgs === null || rawArgs === undefined
        ? `write \`- ${testLabel}\` without a colon when the test takes no arguments`
        : shapeHint,
    );
  }
  const m = TEST_NAME.exec(rawName);
  if (!m) {
    return fail(
      `'${rawName}' is not a valid test name`,
      'a test name is an identifier (letters, digits, _), optionally prefixed by its package: `dbt_utils.expression_is_true`',
    );
  }
  const namespace = m[1] ?? null;
  const testName = m[2];

  let args: Record<string, unknown> = clone(rawArgs);

  // dbt 1.10+: `arguments:` holds the macro's keyword arguments; merged over the top level.
  if ('arguments' in args) {
    const { arguments: nested, ...rest } = args;
    if (nested !== null && nested !== undefined && !isMapping(nested)) {
      fail(`'arguments' of test '${testLabel}' must be a mapping, got ${typeName(nested)}`, shapeHint);
    }
    args = { ...rest, ...(isMapping(nested) ? nested : {}) };
  }
  if ('model' in args) {
    fail(
      `test '${testLabel}' has an argument named 'model'`,
      "remove it: dbt passes the tested model as 'model' itself",
    );
  }
  if ('config' in args && !isMapping(args.config) && args.config !== null) {
    fail(`'config' of test '${testLabel}' must be a mapping, got ${typeName(args.config)}`, shapeHint);
  }
  const nestedConfig: Record<string, unknown> = isMapping(args.config) ? { ...args.config } : {};
  const hasNested = 'config' in args;
  delete args.config;

  // Legacy config keys among the arguments (dbt's `_process_legacy_args`).
  const config: Record<string, unknown> = {};
  for (const key of TEST_CONFIG_ARGS) {
    let value = args[key];
    delete args[key];
    if (value && hasNested && key in nestedConfig) {
      fail(
        `test '${testLabel}' sets '${key}' both directly and under 'config:'`,
        `keep only the one under 'config:'`,
      );
    }
    if (!value && hasNested && key in nestedConfig) {
      value = nestedConfig[key];
      delete nestedConfig[key];
    }
    if (value !== null && value !== undefined) config[key] = value;
  }
  for (const [key, value] of Object.entries(nestedConfig)) {
    if (value !== null && value !== undefined) config[key] = value;
  }
  validateConfig(config, testLabel, fail);

  let description: string | undefined;
  if ('description' in args) {
    description = args.description === null || args.description === undefined ? undefined : String(args.description);
    delete args.description;
  }
  let explicitName: string | undefined;
  if ('name' in args) {
    const n = args.name;
    delete args.name;
    if (typeof n !== 'string' || n.trim() === '') {
      fail(`the 'name' of test '${testLabel}' must be a non-empty string, got ${typeName(n)}`, 'give the test a name such as `orders_id_is_unique`');
    }
    explicitName = n as string;
  }

  const spec: TestSpec = {
    testName,
    namespace,
    kwargs: args,
    config: config as NodeConfig,
    file: where.file,
    line: where.line,
    ...(explicitName !== undefined ? { explicitName } : {}),
    ...(description !== undefined ? { description } : {}),
  };
  return spec;
}

function validateConfig(
  config: Record<string, unknown>,
  testLabel: string,
  fail: (message: string, hint: string) => never,
): void {
  // String values may still hold Jinja (rendered later by the caller): check those after rendering.
  const isJinja = (v: unknown): boolean => typeof v === 'string' && /\{\{|\{%/.test(v);
  const sev = config.severity;
  if (sev !== undefined && !isJinja(sev) && (typeof sev !== 'string' || !/^(warn|error)$/i.test(sev))) {
    fail(`test '${testLabel}' has severity ${JSON.stringify(sev)}`, "severity is 'warn' or 'error'");
  }
  const limit = config.limit;
  if (limit !== undefined && !isJinja(limit) && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 0)) {
    fail(`test '${testLabel}' has limit ${JSON.stringify(limit)}`, 'limit is a whole number of rows, e.g. `limit: 100`');
  }
  const tags = config.tags;
  if (tags !== undefined && typeof tags !== 'string' && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
    fail(`test '${testLabel}' has tags ${JSON.stringify(tags)}`, 'tags is a string or a list of strings');
  }
  const sfa = config.store_failures_as;
  if (sfa !== undefined && !isJinja(sfa) && !(typeof sfa === 'string' && ['table', 'view', 'ephemeral'].includes(sfa))) {
    fail(`test '${testLabel}' has store_failures_as ${JSON.stringify(sfa)}`, "store_failures_as is 'table', 'view' or 'ephemeral'");
  }
  for (const key of ['warn_if', 'error_if', 'fail_calc', 'where'] as const) {
    const v = config[key];
    if (v !== undefined && typeof v !== 'string') {
      fail(`test '${testLabel}' has ${key} ${JSON.stringify(v)}`, `write ${key} as a string of SQL, e.g. ${key === 'where' ? '"status != \'test\'"' : key === 'fail_calc' ? '"count(*)"' : '">10"'}`);
    }
  }
}

/** The macro implementing a test: `test_unique`, or `dbt_utils.test_expression_is_true` (dbt's `macro_name()`). */
export function testMacroName(spec: Pick<TestSpec, 'testName' | 'namespace'>): string {
  return spec.namespace ? `${spec.namespace}.test_${spec.testName}` : `test_${spec.testName}`;
}
