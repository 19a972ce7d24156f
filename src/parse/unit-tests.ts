/**
 * `unit_tests:` in properties files → {@link UnitTestDefinition}s in
 * `manifest.unit_tests`, as dbt-core 1.8+'s `UnitTestParser` and
 * `process_models_for_unit_test`:
 *
 *  - unique_id `unit_test.<project>.<model>.<name>`; fqn `[project, …folders
 *    of the properties file under its resource path, model, name]`;
 *  - `given[].input` is `ref(...)`, `source(...)` or `this`, checked against
 *    the project (an input that does not exist is an error);
 *  - `format: dict` (default) rows are a list of mappings; `csv` rows are CSV
 *    text or a `fixture:` file (`<test-path>/fixtures/<name>.csv`), empty
 *    cells read as null; `sql` rows are SQL text or a `fixture:` file
 *    (`<name>.sql`). A seed input with neither rows nor fixture takes the
 *    seed's CSV rows (as dbt);
 *  - `overrides` (`macros`, `vars`, `env_vars`), `config` (`tags`, `meta`,
 *    `enabled`), `description`;
 *  - the tested model must exist; a disabled model disables its unit tests;
 *    an incremental model needs a boolean `overrides.macros.is_incremental`,
 *    and `is_incremental: true` needs a `this` input (dbt's parse errors).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { TsdbtError } from '../errors.ts';
import type { UnitTestProperties } from '../config/types.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ManifestNode, UnitTestDefinition, UnitTestFixture } from './manifest.ts';
import { staticExtract } from './static-extract.ts';
import { closestNames } from '../closest-names.ts';

const ENTRY_KEYS = ['name', 'model', 'given', 'expect', 'description', 'overrides', 'config', 'versions'];
const FIXTURE_KEYS = ['input', 'rows', 'format', 'fixture'];
const OVERRIDE_KEYS = ['macros', 'vars', 'env_vars'];
const CONFIG_KEYS = ['tags', 'meta', 'enabled'];
const FORMATS = ['dict', 'csv', 'sql'] as const;

/** What an input of a unit test resolves to in the project. */
export type UnitTestInputTarget =
  | { readonly kind: 'this' }
  | { readonly kind: 'ref'; readonly uniqueId: string }
  | { readonly kind: 'source'; readonly uniqueId: string };

/**
 * Resolves a `given[].input` text (`ref('m')`, `source('s', 't')`, `this`)
 * to what it names, or null when it is none of these forms. Pure.
 */
export function parseInputText(input: string): { kind: 'this' } | { kind: 'ref'; name: string; package?: string | null } | { kind: 'source'; source: string; table: string } | null {
  if (input.trim() === 'this') return { kind: 'this' };
  const x = staticExtract(`{{ ${input} }}`);
  if (!x || x.calls.length !== 1) return null;
  const c = x.calls[0];
  if (c.kind === 'ref') return { kind: 'ref', name: c.ref.name, package: c.ref.package ?? null };
  if (c.kind === 'source') return { kind: 'source', source: c.source[0], table: c.source[1] };
  return null;
}

/** Fixture files by name (file stem), from every `<test-path>/fixtures/` folder (dbt's fixture paths). */
function fixtureFiles(b: ManifestBuilder): Map<string, { abs: string; rel: string; ext: string }[]> {
  const out = new Map<string, { abs: string; rel: string; ext: string }[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else {
        const m = /^(.*)\.(csv|sql)$/.exec(name);
        if (!m) continue;
        const rel = relative(b.project.root, abs).split(sep).join('/');
        (out.get(m[1]) ?? out.set(m[1], []).get(m[1])!).push({ abs, rel, ext: m[2] });
      }
    }
  };
  for (const tp of b.project.testPaths) {
    const dir = join(b.project.root, tp, 'fixtures');
    if (existsSync(dir) && statSync(dir).isDirectory()) walk(dir);
  }
  return out;
}

/** CSV text → rows as dicts (all values strings), empty cells null (as dbt). */
export function csvRows(text: string): Record<string, unknown>[] {
  const records = parseCsv(text.trim() + '\n', { columns: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as Record<string, string>[];
  return records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === '' ? null : v])));
}

/**
 * Parses every `unit_tests:` entry of the properties files into
 * `manifest.unit_tests` (enabled) or `disabled`. Call after models, seeds and
 * sources are registered and refs are linked. Problems go to `b.diags`
 * (errors) and `b.warnings` (unknown keys).
 */
export function parseUnitTests(b: ManifestBuilder): Record<string, UnitTestDefinition> {
  const out: Record<string, UnitTestDefinition> = {};
  const entries = b.properties.unitTests ?? [];
  if (!entries.length) return out;
  let fixtures: ReturnType<typeof fixtureFiles> | undefined;
  const models = new Map<string, ManifestNode>();
  const disabledModels = new Map<string, ManifestNode>();
  for (const n of Object.values(b.nodes)) if (n.resource_type === 'model') models.set(n.name, n);
  for (const list of Object.values(b.disabled)) for (const n of list) if (n.resource_type === 'model') disabledModels.set(n.name, n);
  const seen = new Map<string, UnitTestProperties>();

  for (const ut of entries) {
    const e = ut.entry;
    const err = (message: string, hint: string, line = ut.line) => b.diags.error(new TsdbtError('unit-test-invalid', message, { file: ut.file, line, hint }));
    const warnKeys = (o: Record<string, unknown>, allowed: string[], what: string, line: number | undefined) => {
      for (const k of Object.keys(o)) {
        if (allowed.includes(k)) continue;
        const near = closestNames(k, allowed);
        b.warnings.push(new TsdbtError('unknown-property', `unknown property '${k}' on ${what}${near.length ? `; did you mean '${near[0]}'?` : ''}`, {
          file: ut.file,
          line,
          hint: `dbt reads only ${allowed.join(', ')} here`,
        }));
      }
    };
    const name = typeof e.name === 'string' || typeof e.name === 'number' ? String(e.name) : '';
    if (!name) {
      err('a unit_tests: entry has no name', 'add `name: <test name>` to this entry');
      continue;
    }
    const label = `unit test '${name}'`;
    warnKeys(e, ENTRY_KEYS, label, ut.line);
    if (typeof e.model !== 'string' || !e.model.trim()) {
      err(`${label} has no model`, 'add `model: <name of the model it tests>`');
      continue;
    }
    const modelName = e.model.trim().split(/\s+/)[0];
    if (e.versions !== undefined && e.versions !== null) {
      err(`[unsupported] versions: on ${label}: tsdbt does not run unit tests per model version yet`, 'remove versions: from the unit test (it then tests the latest version)');
      continue;
    }
    const model = models.get(modelName) ?? disabledModels.get(modelName);
    if (!model) {
      const near = closestNames(modelName, [...models.keys()]);
      err(`Unable to find model '${b.pkg}.${modelName}' for ${label} in ${ut.file}`, near.length ? `did you mean '${near[0]}'?` : 'model: must name a model of this project');
      continue;
    }
    const uniqueId = `unit_test.${b.pkg}.${modelName}.${name}`;
    const first = seen.get(uniqueId);
    if (first) {
      err(`${label} of model '${modelName}' is defined twice: here and at ${first.file}:${first.line}`, 'give each unit test of a model its own name');
      continue;
    }
    seen.set(uniqueId, ut);

    let ok = true;
    const readFixture = (raw: unknown, what: string, line: number | undefined, isInput: boolean): UnitTestFixture | null => {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        err(`${what} of ${label} must be a mapping (input/rows/format/fixture)`, isInput ? "write:\n  given:\n    - input: ref('my_model')\n      rows:\n        - {id: 1}" : 'write:\n  expect:\n    rows:\n      - {id: 1}', line);
        return null;
      }
      const o = raw as Record<string, unknown>;
      warnKeys(o, isInput ? FIXTURE_KEYS : FIXTURE_KEYS.filter((k) => k !== 'input'), `${what} of ${label}`, line);
      const format = (o.format ?? 'dict') as string;
      if (!(FORMATS as readonly string[]).includes(format)) {
        err(`${what} of ${label} has format: ${format}`, 'format is one of dict (the default), csv, sql', line);
        return null;
      }
      const fixtureName = o.fixture === undefined || o.fixture === null ? null : String(o.fixture);
      let rows: UnitTestFixture['rows'];
      if (fixtureName !== null) {
        if (format === 'dict') {
          err(`${what} of ${label} names fixture '${fixtureName}' with format: dict`, 'fixture files are read with format: csv or format: sql', line);
          return null;
        }
        fixtures ??= fixtureFiles(b);
        const file = (fixtures.get(fixtureName) ?? []).find((f) => f.ext === format);
        if (!file) {
          err(`File not found for fixture '${fixtureName}' in unit tests in ${ut.file}`, `put it at ${b.project.testPaths[0] ?? 'tests'}/fixtures/${fixtureName}.${format}`, line);
          return null;
        }
        const text = readFileSync(file.abs, 'utf8');
        if (format === 'sql') rows = text;
        else {
          try {
            rows = csvRows(text);
          } catch (x) {
            err(`fixture ${file.rel} of ${label} is not valid CSV: ${(x as Error).message}`, 'the first line names the columns; each line after it is one row', line);
            return null;
          }
        }
      } else if (format === 'dict') {
        if (o.rows === undefined || o.rows === null) {
          rows = [];
          if (isInput && typeof o.input === 'string') {
            const p = parseInputText(o.input);
            const seed = p?.kind === 'ref' ? Object.values(b.nodes).find((n) => n.resource_type === 'seed' && n.name === p.name) : undefined;
            if (seed?.seed_file) {
              // As dbt: a seed input without rows takes the seed's rows.
              rows = csvRows(readFileSync(seed.seed_file, 'utf8'));
            } else {
              err(`${what} of ${label} has no rows`, 'give rows: (a list of mappings, or [] for no rows), or a fixture: with format: csv / sql', line);
              return null;
            }
          }
        } else if (Array.isArray(o.rows) && o.rows.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
          rows = o.rows as Record<string, unknown>[];
        } else {
          err(`Unit test ${name} has ${isInput ? 'input' : 'expected'} rows which do not match format dict`, 'with format: dict, rows: is a list of mappings, e.g. - {id: 1, name: a}', line);
          return null;
        }
      } else if (typeof o.rows === 'string') {
        if (format === 'sql') rows = o.rows;
        else {
          try {
            rows = csvRows(o.rows);
          } catch (x) {
            err(`csv rows of ${what} of ${label} are not valid CSV: ${(x as Error).message}`, 'write rows: | with a header line, then one line per row', line);
            return null;
          }
        }
      } else {
        err(`Unit test ${name} has ${isInput ? 'input' : 'expected'} rows or fixtures which do not match format ${format}.  Expected string.`, `with format: ${format}, rows: is text (rows: |) or use fixture: <file name>`, line);
        return null;
      }
      const f: UnitTestFixture = { rows, format: format as UnitTestFixture['format'], fixture: fixtureName };
      if (isInput) f.input = String(o.input);
      return f;
    };

    const givenRaw = e.given;
    if (!Array.isArray(givenRaw)) {
      err(`${label} has no given: list`, "add given: with one item per input of the model, e.g.\n  given:\n    - input: ref('stg_orders')\n      rows: [{id: 1}]");
      continue;
    }
    const given: UnitTestFixture[] = [];
    const dependsOn: string[] = [model.unique_id];
    givenRaw.forEach((g, i) => {
      const line = ut.givenLines[i] ?? ut.line;
      const input = g && typeof g === 'object' ? (g as Record<string, unknown>).input : undefined;
      if (typeof input !== 'string' || !input.trim()) {
        err(`given item ${i + 1} of ${label} has no input`, "write input: ref('model'), input: source('src', 'table') or input: this", line);
        ok = false;
        return;
      }
      const p = parseInputText(input);
      if (!p) {
        err(`Unit test given inputs must be either a 'ref', 'source' or 'this' call. Got: '${input}' (${label})`, "write input: ref('model'), input: source('src', 'table') or input: this", line);
        ok = false;
        return;
      }
      if (p.kind === 'ref' && !b.byName.get(p.name)?.length) {
        err(`Unit test '${name}' had an input (${input}) which was not found in the manifest.`, 'the input must be a model, seed or snapshot of this project', line);
        ok = false;
        return;
      }
      if (p.kind === 'source' && !b.sources[`source.${b.pkg}.${p.source}.${p.table}`]) {
        err(`Unit test '${name}' had an input (${input}) which was not found in the manifest.`, 'the source table must be declared under sources:', line);
        ok = false;
        return;
      }
      const f = readFixture(g, `given item ${i + 1}`, line, true);
      if (!f) {
        ok = false;
        return;
      }
      given.push(f);
    });
    const expect = readFixture(e.expect, 'expect', ut.expectLine ?? ut.line, false);
    if (!expect) ok = false;

    let overrides: UnitTestDefinition['overrides'] = null;
    if (e.overrides !== undefined && e.overrides !== null) {
      const o = e.overrides as Record<string, unknown>;
      if (typeof o !== 'object' || Array.isArray(o)) {
        err(`overrides of ${label} must be a mapping`, 'write overrides: {macros: {is_incremental: true}, vars: {...}, env_vars: {...}}');
        ok = false;
      } else {
        warnKeys(o, OVERRIDE_KEYS, `the overrides of ${label}`, ut.line);
        const map = (k: string): Record<string, unknown> => {
          const v = o[k];
          if (v === undefined || v === null) return {};
          if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
          err(`overrides.${k} of ${label} must be a mapping`, `write ${k}: {name: value}`);
          ok = false;
          return {};
        };
        overrides = { macros: map('macros'), vars: map('vars'), env_vars: map('env_vars') };
      }
    }
    const rawConfig = (e.config ?? {}) as Record<string, unknown>;
    if (typeof rawConfig !== 'object' || Array.isArray(rawConfig)) {
      err(`config of ${label} must be a mapping`, 'write config: {tags: [...], enabled: true}');
      continue;
    }
    warnKeys(rawConfig, CONFIG_KEYS, `the config of ${label}`, ut.line);
    // dbt_project.yml's unit_tests: tree (by project, folders, model), then the entry's config: (tags add up, as dbt).
    const rel = relative(join(b.project.root, b.project.modelPaths.find((p) => ut.file.startsWith(p.replace(/\/$/, '') + '/')) ?? ''), join(b.project.root, ut.file)).split(sep).join('/');
    const folders = rel.split('/').slice(0, -1);
    const fqn = [b.pkg, ...folders, modelName, name];
    const fromProject = b.projectConfig(b.project.unitTests ?? {}, fqn) as Record<string, unknown>;
    const asTags = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
    const tags = [...new Set([...asTags(fromProject.tags), ...asTags(rawConfig.tags)])];
    const meta = { ...(fromProject.meta as Record<string, unknown> | undefined), ...(rawConfig.meta && typeof rawConfig.meta === 'object' ? (rawConfig.meta as Record<string, unknown>) : {}) };
    const enabledRaw = rawConfig.enabled ?? fromProject.enabled;
    let enabled = enabledRaw === undefined || enabledRaw === null ? true : enabledRaw !== false && enabledRaw !== 'false';

    // dbt's checks once the model is known (process_models_for_unit_test).
    if (model.config.enabled === false || !models.has(modelName)) enabled = false;
    // dbt asks for the override when the model depends on the is_incremental macro (calls it).
    const incremental = /\bis_incremental\s*\(/.test(model.raw_code);
    const incOverride = overrides?.macros.is_incremental;
    if (enabled && incremental && typeof incOverride !== 'boolean') {
      err(`Boolean override for 'is_incremental' must be provided for unit test '${name}' in model '${modelName}'`, 'add overrides: {macros: {is_incremental: true}} (or false) to the unit test');
      ok = false;
    }
    if (enabled && incremental && incOverride === true && !given.some((g) => g.input?.trim() === 'this')) {
      err(`Unit test '${name}' for incremental model '${modelName}' must have a 'this' input`, 'add a given item `- input: this` with the rows the existing table holds');
      ok = false;
    }
    if (!ok || !expect) continue;

    const def: UnitTestDefinition = {
      unique_id: uniqueId,
      resource_type: 'unit_test',
      package_name: b.pkg,
      name,
      model: modelName,
      path: rel,
      original_file_path: ut.file,
      fqn,
      description: typeof e.description === 'string' ? e.description : '',
      given,
      expect,
      overrides,
      config: { tags, meta, enabled },
      depends_on: { nodes: dependsOn, macros: [] },
      schema: model.schema,
      tags,
      checksum: createHash('sha256').update(JSON.stringify({ given, expect, overrides })).digest('hex'),
      versions: null,
      version: null,
      created_at: b.now,
      line: ut.line,
    };
    if (!enabled) (b.disabled[uniqueId] ??= []).push(def as unknown as ManifestNode);
    else out[uniqueId] = def;
  }
  return out;
}
