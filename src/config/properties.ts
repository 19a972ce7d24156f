/**
 * Properties files (`schema.yml` and friends) → {@link Properties}, as dbt
 * 1.x's schema-file parser reads them. Values stay as written (descriptions
 * with `{{ doc('x') }}`, Jinja in source schemas, test definitions): the
 * parser renders them later with the full context.
 */
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { globSync } from 'tinyglobby';
import { Diagnostics, TsdbtError } from '../errors.ts';
import { normalizeConfig } from './node-config.ts';
import type {
  ColumnProperties,
  ExtraEntry,
  ExtraResourceKey,
  ModelVersionProperties,
  NodeProperties,
  ProjectConfig,
  Properties,
  SourceProperties,
  SourceTableProperties,
  UnitTestProperties,
} from './types.ts';
import { isPlainObject, keyLines, lineOf, readYamlFile } from './yaml-file.ts';
import { secretEnvVarError } from './env-var.ts';
import type { YamlFile } from './yaml-file.ts';

type Path = (string | number)[];
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Top-level keys of a properties file dbt 1.x understands. Only some are read by tsdbt. */
const TOP_KEYS = [
  'version', 'models', 'seeds', 'snapshots', 'analyses', 'sources', 'macros', 'exposures', 'metrics', 'groups',
  'semantic_models', 'saved_queries', 'unit_tests', 'functions',
];
const NODE_KEYS = ['models', 'seeds', 'snapshots', 'analyses'] as const;
type NodeKey = (typeof NODE_KEYS)[number];
const ENTRY_KEYS = [
  'name', 'description', 'config', 'columns', 'tests', 'data_tests', 'docs', 'meta', 'tags', 'versions', 'latest_version',
  'access', 'group', 'constraints', 'deprecation_date', 'time_spine', 'relation', 'freshness',
];
const VERSION_KEYS = ['v', 'defined_in', 'description', 'access', 'config', 'constraints', 'docs', 'data_tests', 'tests', 'columns', 'deprecation_date'];
/** dbt's `IncludeExclude.INCLUDE_ALL`. */
const INCLUDE_ALL = ['all', '*'];
const COLUMN_KEYS = ['name', 'description', 'data_type', 'quote', 'meta', 'tags', 'tests', 'data_tests', 'constraints', 'config', 'policy_tags', 'granularity'];
const SOURCE_KEYS = [
  'name', 'description', 'database', 'schema', 'loader', 'loaded_at_field', 'loaded_at_query', 'meta', 'tags', 'config',
  'overrides', 'freshness', 'quoting', 'tables', 'event_time',
];
const TABLE_KEYS = [
  'name', 'description', 'identifier', 'meta', 'tags', 'config', 'columns', 'tests', 'data_tests', 'loaded_at_field',
  'loaded_at_query', 'freshness', 'quoting', 'external', 'event_time',
];
const SINGULAR: Record<string, string> = { models: 'model', seeds: 'seed', snapshots: 'snapshot', analyses: 'analysis', sources: 'source' };

class FileReader {
  constructor(
    readonly yf: YamlFile,
    readonly diag: Diagnostics,
  ) {}

  error(message: string, path: Path, hint: string): void {
    this.diag.error(new TsdbtError('properties-invalid', message, { file: this.yf.file, line: lineOf(this.yf, path), hint }));
  }

  /** Warns (`unknown-property`) about keys dbt does not read here, suggesting the closest known one. */
  checkKeys(o: Record<string, unknown>, path: Path, allowed: readonly string[], what: string): void {
    for (const key of Object.keys(o)) {
      if (allowed.includes(key)) continue;
      const best = closest(key, allowed as string[]);
      const near = distance(key, best) <= Math.max(2, Math.floor(key.length / 3));
      this.diag.warn(new TsdbtError('unknown-property', `unknown property '${key}' on ${what}${near ? `; did you mean '${best}'?` : ''}`, {
        file: this.yf.file,
        line: lineOf(this.yf, [...path, key]),
        hint: near ? `rename it to '${best}' (dbt ignores '${key}')` : 'dbt ignores this key; custom data belongs under meta:',
      }));
    }
  }

  optString(o: Record<string, unknown>, key: string, path: Path): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.error(`${key} must be a string`, [...path, key], `write ${key}: "…" (quote text that contains a colon)`);
    return undefined;
  }

  optMap(o: Record<string, unknown>, key: string, path: Path): Record<string, unknown> | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (isPlainObject(v)) return v;
    this.error(`${key} must be a mapping`, [...path, key], `write ${key}: as key: value lines indented under it`);
    return undefined;
  }

  optTags(o: Record<string, unknown>, key: string, path: Path): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.map(String);
    this.error(`${key} must be a string or a list of strings`, [...path, key], `write ${key}: ["a", "b"]`);
    return undefined;
  }

  list(o: Record<string, unknown>, key: string, path: Path): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    this.error(`${key} must be a list (each item starting with "- ")`, [...path, key], `write ${key}:\n    - name: …`);
    return [];
  }

  /** `tests:` or `data_tests:` as written; both at once is an error, as in dbt 1.8+. */
  tests(o: Record<string, unknown>, path: Path, what: string): unknown[] {
    if (o.tests !== undefined && o.data_tests !== undefined) {
      this.error(`${what} has both tests: and data_tests:`, [...path, 'data_tests'], 'keep one list: data_tests: is the dbt 1.8+ name');
    }
    return o.data_tests !== undefined ? this.list(o, 'data_tests', path) : this.list(o, 'tests', path);
  }

  /** `config:` of an entry, normalised; `label` names the entry in warnings (e.g. `model 'orders'`). */
  config(o: Record<string, unknown>, path: Path, label: string) {
    const raw = this.optMap(o, 'config', path);
    if (!raw) return undefined;
    const where = {
      file: this.yf.file,
      path: `the config of ${label}`,
      keyLines: keyLines(this.yf, [...path, 'config']),
      line: lineOf(this.yf, [...path, 'config']),
    };
    const { config, unknownKeys } = normalizeConfig(raw, where);
    for (const w of unknownKeys) this.diag.warn(w);
    return config;
  }

  /** `columns:` of an entry; `indexes[i]` is item i's index in the file's list when `o.columns` is a subset of it. */
  columns(o: Record<string, unknown>, path: Path, owner: string, indexes?: readonly number[]): ColumnProperties[] {
    const out: ColumnProperties[] = [];
    this.list(o, 'columns', path).forEach((c, i) => {
      const cp = [...path, 'columns', indexes?.[i] ?? i];
      if (!isPlainObject(c) || c.name === undefined || c.name === null || c.name === '') {
        this.error(`a column of ${owner} has no name`, cp, 'every item under columns: needs `- name: <column>`');
        return;
      }
      this.checkKeys(c, cp, COLUMN_KEYS, `column '${String(c.name)}' of ${owner}`);
      const col: Mutable<ColumnProperties> = {
        name: String(c.name),
        description: this.optString(c, 'description', cp),
        data_type: this.optString(c, 'data_type', cp),
        quote: typeof c.quote === 'boolean' ? c.quote : undefined,
        meta: this.optMap(c, 'meta', cp),
        tags: this.optTags(c, 'tags', cp),
        tests: this.tests(c, cp, `column '${String(c.name)}' of ${owner}`),
        line: lineOf(this.yf, cp)!,
      };
      if (c.constraints !== undefined) col.constraints = c.constraints;
      if (c.config !== undefined) col.config = c.config;
      out.push(dropUndefined(col));
    });
    return out;
  }

  /**
   * A model's `versions:` list and `latest_version:`, checked as dbt's `UnparsedModelUpdate` /
   * `UnparsedVersion` check them: every item has `v`, no `v` twice, `latest_version` is one of
   * them, at most one include/exclude item per version, `include` is `all`, `*` or a list and
   * `exclude` only goes with `all`/`*`.
   */
  versions(e: Record<string, unknown>, path: Path, model: string): { versions?: ModelVersionProperties[]; latest_version?: string | number } {
    const out: ModelVersionProperties[] = [];
    const seen = new Map<string, number>();
    const raw = this.list(e, 'versions', path);
    raw.forEach((item, j) => {
      const vp: Path = [...path, 'versions', j];
      if (!isPlainObject(item) || item.v === undefined || item.v === null || item.v === '') {
        this.error(`a version of model '${model}' has no v`, vp, 'every item under versions: needs `- v: <version>` (a number or a string)');
        return;
      }
      if (typeof item.v !== 'string' && typeof item.v !== 'number') {
        this.error(`v of a version of model '${model}' must be a number or a string`, [...vp, 'v'], 'write `- v: 2`');
        return;
      }
      const v = item.v;
      if (seen.has(String(v))) {
        this.error(`Found duplicate version: '${v}' in versions list of model '${model}'`, [...vp, 'v'], `each v appears once; the first is on line ${seen.get(String(v))}`);
        return;
      }
      seen.set(String(v), lineOf(this.yf, vp)!);
      this.checkKeys(item, vp, VERSION_KEYS, `version ${v} of model '${model}'`);
      const label = `version ${v} of model '${model}'`;
      let include: ModelVersionProperties['include'] = '*';
      let exclude: string[] = [];
      let sawIncludeExclude = false;
      const ownColumns: unknown[] = [];
      const columnPaths: number[] = [];
      this.list(item, 'columns', vp).forEach((c, k) => {
        if (isPlainObject(c) && (c.include !== undefined || c.exclude !== undefined) && c.name === undefined) {
          const cp = [...vp, 'columns', k];
          if (sawIncludeExclude) {
            this.error(`${label} has more than one include/exclude item in columns:`, cp, 'a version can have at most one include/exclude element: merge them');
            return;
          }
          sawIncludeExclude = true;
          const inc = c.include;
          if (typeof inc === 'string' && INCLUDE_ALL.includes(inc)) include = inc as 'all' | '*';
          else if (Array.isArray(inc) && inc.every((x) => typeof x === 'string')) include = inc as string[];
          else {
            this.error(`include of ${label} must be one of 'all', '*' or a list of column names`, [...cp, 'include'], 'write `- include: all` (with an exclude: list) or `- include: [col_a, col_b]`');
            return;
          }
          if (c.exclude !== undefined && c.exclude !== null) {
            if (!Array.isArray(c.exclude) || !c.exclude.every((x) => typeof x === 'string')) {
              this.error(`exclude of ${label} must be a list of column names`, [...cp, 'exclude'], 'write `exclude: [col_a, col_b]`');
              return;
            }
            if (c.exclude.length && !INCLUDE_ALL.includes(String(include))) {
              this.error(`exclude of ${label} can only be specified if include is one of 'all', '*'`, [...cp, 'exclude'], 'write `include: all` with the exclude: list, or list only the columns to include');
              return;
            }
            exclude = c.exclude as string[];
          }
          for (const key of Object.keys(c)) {
            if (key !== 'include' && key !== 'exclude') this.checkKeys({ [key]: c[key] }, cp, ['include', 'exclude'], `the include/exclude item of ${label}`);
          }
          return;
        }
        ownColumns.push(c);
        columnPaths.push(k);
      });
      // The version's own columns, read like a model's (names, tests, lines).
      const own = this.columns({ columns: ownColumns }, vp, label, columnPaths);
      const version: Mutable<ModelVersionProperties> = {
        v,
        defined_in: this.optString(item, 'defined_in', vp),
        description: this.optString(item, 'description', vp),
        config: this.config(item, vp, label),
        docs: this.optMap(item, 'docs', vp) as ModelVersionProperties['docs'],
        access: this.optString(item, 'access', vp),
        constraints: item.constraints ?? undefined,
        tests: item.tests !== undefined || item.data_tests !== undefined ? this.tests(item, vp, label) : undefined,
        include,
        exclude,
        columns: own,
        deprecation_date: this.optString(item, 'deprecation_date', vp),
        line: lineOf(this.yf, vp)!,
      };
      out.push(dropUndefined(version));
    });
    const result: { versions?: ModelVersionProperties[]; latest_version?: string | number } = {};
    if (e.versions !== undefined && e.versions !== null) result.versions = out;
    const latest = e.latest_version;
    if (latest !== undefined && latest !== null) {
      if (typeof latest !== 'string' && typeof latest !== 'number') {
        this.error(`latest_version of model '${model}' must be a number or a string`, [...path, 'latest_version'], 'write `latest_version: 2`');
      } else if (!out.some((x) => String(x.v) === String(latest))) {
        this.error(`latest_version: ${latest} is not one of model '${model}' versions: [${out.map((x) => (typeof x.v === 'string' ? `'${x.v}'` : x.v)).join(', ')}]`, [...path, 'latest_version'], "set latest_version to one of the v: values under versions:, or add that version");
      } else {
        result.latest_version = latest;
      }
    }
    return result;
  }
}

function dropUndefined<T extends object>(o: T): T {
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  return o;
}

function readNodes(r: FileReader, data: Record<string, unknown>, key: NodeKey): NodeProperties[] {
  const out: NodeProperties[] = [];
  const what = SINGULAR[key];
  r.list(data, key, []).forEach((e, i) => {
    const p: Path = [key, i];
    if (!isPlainObject(e)) {
      r.error(`each item under ${key}: must be a mapping starting with \`- name:\``, p, `write:\n  ${key}:\n    - name: my_${what}`);
      return;
    }
    if (e.name === undefined || e.name === null || e.name === '') {
      r.error(`a ${key}: entry has no name`, p, `add \`name: <${what} file name without extension>\` to this entry`);
      return;
    }
    const name = String(e.name);
    r.checkKeys(e, p, ENTRY_KEYS, `${what} '${name}'`);
    const node: Mutable<NodeProperties> & Record<string, unknown> = {
      name,
      description: r.optString(e, 'description', p),
      config: r.config(e, p, `${what} '${name}'`),
      columns: r.columns(e, p, `${what} '${name}'`),
      tests: key === 'analyses' ? [] : r.tests(e, p, `${what} '${name}'`),
      docs: r.optMap(e, 'docs', p) as NodeProperties['docs'],
      meta: r.optMap(e, 'meta', p),
      file: r.yf.file,
      line: lineOf(r.yf, p)!,
    };
    const tags = r.optTags(e, 'tags', p);
    if (tags) node.tags = tags;
    for (const k of ['access', 'group', 'constraints', 'deprecation_date', 'relation']) {
      if (e[k] !== undefined) node[k] = e[k];
    }
    if (key === 'models') Object.assign(node, r.versions(e, p, name));
    else {
      // dbt's ValidationWarning: only models are versioned.
      for (const k of ['versions', 'latest_version'] as const) {
        if (e[k] === undefined) continue;
        r.diag.warn(new TsdbtError('unknown-property', `Field ${k} is not valid for ${what} (${name}): only models have versions`, {
          file: r.yf.file,
          line: lineOf(r.yf, [...p, k]),
          hint: `remove ${k}: (dbt ignores it here)`,
        }));
      }
    }
    out.push(dropUndefined(node));
  });
  return out;
}

function readSources(r: FileReader, data: Record<string, unknown>): SourceProperties[] {
  const out: SourceProperties[] = [];
  r.list(data, 'sources', []).forEach((s, i) => {
    const p: Path = ['sources', i];
    if (!isPlainObject(s) || s.name === undefined || s.name === null || s.name === '') {
      r.error('a sources: entry has no name', p, 'add `name: <source name>` to this entry (the first argument of source())');
      return;
    }
    const name = String(s.name);
    r.checkKeys(s, p, SOURCE_KEYS, `source '${name}'`);
    const tables: SourceTableProperties[] = [];
    r.list(s, 'tables', p).forEach((t, j) => {
      const tp: Path = [...p, 'tables', j];
      if (!isPlainObject(t) || t.name === undefined || t.name === null || t.name === '') {
        r.error(`a table of source '${name}' has no name`, tp, 'add `name: <table>` (the second argument of source())');
        return;
      }
      const tname = String(t.name);
      r.checkKeys(t, tp, TABLE_KEYS, `source table '${name}.${tname}'`);
      const table: Mutable<SourceTableProperties> = {
        name: tname,
        identifier: r.optString(t, 'identifier', tp) ?? tname,
        description: r.optString(t, 'description', tp),
        config: r.config(t, tp, `source table '${name}.${tname}'`),
        columns: r.columns(t, tp, `source table '${name}.${tname}'`),
        tests: r.tests(t, tp, `source table '${name}.${tname}'`),
        loaded_at_field: r.optString(t, 'loaded_at_field', tp),
        meta: r.optMap(t, 'meta', tp),
        tags: r.optTags(t, 'tags', tp),
        line: lineOf(r.yf, tp)!,
      };
      if (t.quoting !== undefined) table.quoting = t.quoting;
      // `freshness: null` on a table switches its source's freshness off (dbt): kept as null, unlike an absent key.
      if ('freshness' in t) table.freshness = t.freshness ?? null;
      tables.push(dropUndefined(table));
    });
    const src: Mutable<SourceProperties> = {
      name,
      database: r.optString(s, 'database', p),
      schema: r.optString(s, 'schema', p) ?? name,
      description: r.optString(s, 'description', p),
      config: r.config(s, p, `source '${name}'`),
      loader: r.optString(s, 'loader', p),
      meta: r.optMap(s, 'meta', p),
      tags: r.optTags(s, 'tags', p),
      tables,
      file: r.yf.file,
      line: lineOf(r.yf, p)!,
    };
    if (s.quoting !== undefined) src.quoting = s.quoting;
    if (s.overrides !== undefined) src.overrides = String(s.overrides);
    if ('freshness' in s) src.freshness = s.freshness ?? null;
    const lf = r.optString(s, 'loaded_at_field', p);
    if (lf !== undefined) src.loaded_at_field = lf;
    out.push(dropUndefined(src));
  });
  return out;
}

/** Top-level keys whose entries are kept as written (Properties.extras). */
const EXTRA_KEYS: readonly ExtraResourceKey[] = ['exposures', 'groups', 'semantic_models', 'metrics', 'saved_queries'];

/** `exposures:` / `groups:` / … entries: each must be a mapping with a name; kept as written with file and lines. */
function readExtras(r: FileReader, data: Record<string, unknown>, key: ExtraResourceKey): ExtraEntry[] {
  const out: ExtraEntry[] = [];
  r.list(data, key, []).forEach((e, i) => {
    const p: Path = [key, i];
    if (!isPlainObject(e) || e.name === undefined || e.name === null || e.name === '') {
      r.error(`a ${key}: entry has no name`, p, `every item under ${key}: needs \`- name: <name>\``);
      return;
    }
    const keyLinesOf: Record<string, number> = {};
    for (const k of Object.keys(e)) {
      const l = lineOf(r.yf, [...p, k]);
      if (l !== undefined) keyLinesOf[k] = l;
    }
    out.push({ name: String(e.name), data: e, file: r.yf.file, line: lineOf(r.yf, p)!, keyLines: keyLinesOf });
  });
  return out;
}

/** Reads one properties file into `acc`; problems go to `diag`. */
function readFile(abs: string, file: string, diag: Diagnostics, acc: Record<NodeKey | 'sources' | 'unitTests' | ExtraResourceKey, unknown[]>): void {
  let yf: YamlFile;
  try {
    yf = readYamlFile(abs, file);
  } catch (e) {
    if (e instanceof TsdbtError) return diag.error(e);
    throw e;
  }
  if (yf.data === null || yf.data === undefined) return;
  const r = new FileReader(yf, diag);
  if (!isPlainObject(yf.data)) {
    r.error('a properties file must be a mapping (version: 2, models: …)', [], 'start the file with `version: 2` and a `models:` list');
    return;
  }
  const data = yf.data;
  if (data.version !== undefined && data.version !== 2 && data.version !== '2') {
    r.error(`version: ${String(data.version)} is not supported; properties files use version: 2`, ['version'], 'write version: 2 (or remove the line)');
  }
  for (const key of Object.keys(data)) {
    if (TOP_KEYS.includes(key)) continue;
    const best = closest(key, TOP_KEYS);
    const near = distance(key, best) <= Math.max(2, Math.floor(key.length / 3));
    diag.warn(new TsdbtError('unknown-properties-key', `unknown top-level key '${key}' in ${file}${near ? `; did you mean '${best}'?` : ''}`, {
      file,
      line: lineOf(yf, [key]),
      hint: near ? `rename it to '${best}': dbt ignores '${key}'` : 'dbt ignores this key; remove it',
    }));
  }
  refuseSecretEnvVars(yf, data, [], diag);
  for (const key of NODE_KEYS) acc[key].push(...readNodes(r, data, key));
  acc.sources.push(...readSources(r, data));
  acc.unitTests.push(...readUnitTests(r, data));
  for (const key of EXTRA_KEYS) acc[key].push(...readExtras(r, data, key));
}

/** `unit_tests:` entries as written, with their lines; validated when parsing (src/unittests). */
function readUnitTests(r: FileReader, data: Record<string, unknown>): UnitTestProperties[] {
  const out: UnitTestProperties[] = [];
  r.list(data, 'unit_tests', []).forEach((e, i) => {
    const p: Path = ['unit_tests', i];
    if (!isPlainObject(e)) {
      r.error('each item under unit_tests: must be a mapping starting with `- name:`', p, 'write:\n  unit_tests:\n    - name: my_test\n      model: my_model');
      return;
    }
    const given = Array.isArray(e.given) ? e.given : [];
    out.push({
      entry: e,
      file: r.yf.file,
      line: lineOf(r.yf, p)!,
      givenLines: given.map((_g, j) => lineOf(r.yf, [...p, 'given', j])),
      expectLine: lineOf(r.yf, [...p, 'expect']),
    });
  });
  return out;
}

/** `env_var('DBT_ENV_SECRET_…')` / `env_var("…")` with a literal name, in Jinja source text. */
const SECRET_ENV_CALL = /\benv_var\s*\(\s*['"](DBT_ENV_SECRET_[^'"]*)['"]/;

/**
 * As dbt, which renders a properties file with a context whose `env_var`
 * refuses secret variables (SecretEnvVarLocationError): any value in it that
 * calls `env_var('DBT_ENV_SECRET_…')` is an error at its line, found when the
 * file is read — so also in values tsdbt renders only later (generic test
 * arguments), before anything runs.
 */
function refuseSecretEnvVars(yf: YamlFile, value: unknown, path: (string | number)[], diag: Diagnostics): void {
  if (typeof value === 'string') {
    const m = SECRET_ENV_CALL.exec(value);
    if (m && (value.includes('{{') || value.includes('{%'))) diag.error(secretEnvVarError(m[1], { file: yf.file, line: lineOf(yf, path) }));
  } else if (Array.isArray(value)) value.forEach((v, i) => refuseSecretEnvVars(yf, v, [...path, i], diag));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) refuseSecretEnvVars(yf, v, [...path, k], diag);
}

function duplicates(items: readonly { name: string; file: string; line: number }[], what: string, diag: Diagnostics, label = (n: string) => `${what} '${n}'`): void {
  const seen = new Map<string, { file: string; line: number }>();
  for (const it of items) {
    const first = seen.get(it.name);
    if (!first) {
      seen.set(it.name, it);
      continue;
    }
    diag.error(new TsdbtError('duplicate-properties', `${label(it.name)} is described twice: here and at ${first.file}:${first.line}`, {
      file: it.file,
      line: it.line,
      hint: `describe each ${what} once: merge the two entries into one`,
    }));
  }
}

/** Project-relative path with `/` separators. */
function relPath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

/**
 * Reads every `.yml`/`.yaml` file under the project's model-paths,
 * seed-paths, snapshot-paths and analysis-paths (sorted by path) and returns
 * the `models`, `seeds`, `snapshots`, `analyses` and `sources` they describe.
 *
 * Normalisation: `data_tests:` and `tests:` both land in `tests` (as
 * written); a source's `schema` defaults to its name and a table's
 * `identifier` to its name; `config:` blocks are normalised (`+` stripped,
 * hook aliases, tags as lists) with unknown keys reported as warnings;
 * `freshness` is kept as written (null when written `freshness: null`). Every entry keeps its project-relative `file` and
 * 1-based `line` (columns too). Unknown top-level keys become warnings.
 *
 * Every file is read before anything is thrown, so all problems are reported
 * together (one TsdbtError, or CompileErrors for several).
 *
 * @throws TsdbtError `yaml-syntax` (file, line, column), `properties-invalid`
 *   (an entry or column without a name, wrong types, version other than 2,
 *   both tests: and data_tests:), `duplicate-properties` (the same model or
 *   source described twice).
 */
export function loadProperties(project: ProjectConfig): Properties {
  const diag = new Diagnostics();
  const props = loadPropertiesCollect(project, diag);
  diag.throwIfErrors();
  return props;
}

/**
 * Like {@link loadProperties}, but records errors and warnings in `diag`
 * instead of throwing, so a caller can gather problems from several stages.
 */
export function loadPropertiesCollect(project: ProjectConfig, diag: Diagnostics): Properties {
  const dirs = [...new Set([...project.modelPaths, ...project.seedPaths, ...project.snapshotPaths, ...project.analysisPaths])];
  const files = new Set<string>();
  for (const d of dirs) {
    const absDir = join(project.root, d);
    if (!existsSync(absDir)) continue;
    for (const f of globSync(['**/*.yml', '**/*.yaml'], { cwd: absDir, absolute: true, followSymbolicLinks: true })) files.add(f);
  }
  const sorted = [...files].map((abs) => ({ abs, rel: relPath(project.root, abs) })).sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const acc: Record<NodeKey | 'sources' | 'unitTests' | ExtraResourceKey, unknown[]> = {
    models: [], seeds: [], snapshots: [], analyses: [], sources: [], unitTests: [], exposures: [], groups: [], semantic_models: [], metrics: [], saved_queries: [],
  };
  for (const { abs, rel } of sorted) readFile(abs, rel, diag, acc);

  const models = acc.models as NodeProperties[];
  const seeds = acc.seeds as NodeProperties[];
  const snapshots = acc.snapshots as NodeProperties[];
  const analyses = acc.analyses as NodeProperties[];
  const sources = acc.sources as SourceProperties[];
  duplicates(models, 'model', diag);
  duplicates(seeds, 'seed', diag);
  duplicates(snapshots, 'snapshot', diag);
  duplicates(analyses, 'analysis', diag);
  duplicates(sources, 'source', diag);
  for (const s of sources) {
    duplicates(s.tables.map((t) => ({ name: t.name, line: t.line, file: s.file })), 'table', diag, (n) => `table '${n}' of source '${s.name}'`);
  }
  const unitTests = acc.unitTests as UnitTestProperties[];
  const extras = Object.fromEntries(EXTRA_KEYS.map((k) => [k, acc[k] as ExtraEntry[]])) as Record<ExtraResourceKey, ExtraEntry[]>;
  const singular: Record<ExtraResourceKey, string> = { exposures: 'exposure', groups: 'group', semantic_models: 'semantic model', metrics: 'metric', saved_queries: 'saved query' };
  for (const k of EXTRA_KEYS) duplicates(extras[k], singular[k], diag);
  return { models, seeds, snapshots, analyses, sources, unitTests, files: sorted.map((f) => f.rel), warnings: diag.warnings.slice(), extras };
}

