/**
 * Exposures, semantic models, metrics and saved queries from properties files into the Manifest, as
 * dbt-core's ExposureParser / SemanticModelParser read them:
 *
 * - `exposures:` → `manifest.exposures['exposure.<pkg>.<name>']` with dbt's fields (type, owner,
 *   maturity, url, label, config, depends_on); dbt's checks: a name of letters, digits and underscores,
 *   `type` one of dashboard / notebook / analysis / ml / application, an `owner` with a name or an email,
 *   `maturity` low / medium / high. `config: {enabled: false}` leaves the exposure out.
 * - `semantic_models:` → `manifest.semantic_models['semantic_model.<pkg>.<name>']` with `model: ref(..)`
 *   as its only dependency (entities, dimensions, measures with dbt's keys, semantic.ts);
 * - `metrics:` and `saved_queries:` → their manifest maps in dbt's shapes, with their measures and
 *   metrics resolved (semantic.ts).
 *
 * `depends_on` entries (`ref('m')`, `ref('pkg', 'm', v=1)`, `source('s', 't')`, `metric('m')`) are
 * resolved after linking ({@link linkExposures}): a missing ref or source is an error naming the
 * properties file and line, as for models.
 */
import { posix } from 'node:path';
import { TsdbtError } from '../errors.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { RefCall } from './manifest.ts';
import { refKey } from './model-versions.ts';
import { linkSemantic, parseMetricsAndSavedQueries, semanticModelEntry } from './semantic.ts';

/** dbt's ExposureType values. */
const EXPOSURE_TYPES = ['dashboard', 'notebook', 'analysis', 'ml', 'application'];
const MATURITIES = ['low', 'medium', 'high'];
const EXPOSURE_KEYS = ['name', 'type', 'owner', 'description', 'label', 'maturity', 'meta', 'tags', 'url', 'depends_on', 'config'];

/** An exposure, as dbt's manifest v12 `Exposure`. */
export interface Exposure {
  unique_id: string;
  resource_type: 'exposure';
  package_name: string;
  name: string;
  path: string;
  original_file_path: string;
  fqn: string[];
  type: string;
  owner: { email: string | null; name: string | null };
  description: string;
  label: string | null;
  maturity: string | null;
  meta: Record<string, unknown>;
  tags: string[];
  config: { enabled: boolean; tags: string[]; meta: Record<string, unknown> };
  unrendered_config: Record<string, unknown>;
  url: string | null;
  depends_on: { macros: string[]; nodes: string[] };
  refs: RefCall[];
  sources: [string, string][];
  metrics: string[][];
  created_at: number;
}

/** A semantic model / metric / saved query entry: dbt's fields as written plus the manifest's common ones. */
export type SemanticEntry = Record<string, unknown> & {
  unique_id: string;
  resource_type: 'semantic_model' | 'metric' | 'saved_query';
  name: string;
  package_name: string;
  original_file_path: string;
  fqn: string[];
  depends_on: { macros: string[]; nodes: string[] };
};

/** What linking needs to resolve one entry's refs and sources: the calls and where they were written. */
interface Pending {
  readonly uid: string;
  readonly kind: 'exposure' | 'semantic_model';
  readonly refs: RefCall[];
  readonly sources: [string, string][];
  readonly file: string;
  readonly line: number;
}

const pendingByBuilder = new WeakMap<ManifestBuilder, Pending[]>();

const REF_RE = /^\s*ref\s*\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?(?:,\s*v(?:ersion)?\s*=\s*(['"]?)([^'")\s]+)\5\s*)?\)\s*$/;
const SOURCE_RE = /^\s*source\s*\(\s*(['"])([^'"]+)\1\s*,\s*(['"])([^'"]+)\3\s*\)\s*$/;
const METRIC_RE = /^\s*metric\s*\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?\)\s*$/;

/** Reads `ref(..)` / `source(..)` / `metric(..)` as written; null when it is none of them. */
export function parseDependency(text: string): { ref?: RefCall; source?: [string, string]; metric?: string[] } | null {
  const r = REF_RE.exec(text);
  if (r) return { ref: { name: r[4] ?? r[2]!, package: r[4] !== undefined ? r[2] : null, version: r[6] ?? null } };
  const s = SOURCE_RE.exec(text);
  if (s) return { source: [s[2]!, s[4]!] };
  const m = METRIC_RE.exec(text);
  if (m) return { metric: m[4] !== undefined ? [m[2]!, m[4]] : [m[2]!] };
  return null;
}

/** dbt's fqn for a properties-file resource: package, the file's folders below its resource path, name. */
export function fqnFor(pkg: string, file: string, name: string): string[] {
  const parts = posix.dirname(file).split('/').filter((x) => x && x !== '.');
  return [pkg, ...parts.slice(1), name];
}

function strList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/**
 * Adds the current project's (root or package) exposures, semantic models, metrics and saved queries
 * to `b.exposures` / `b.semanticEntries`. Errors (bad type, owner, name, depends_on syntax) go to `b.diags`.
 */
export function parseExposures(b: ManifestBuilder): void {
  const extras = b.properties.extras;
  if (!extras) return;
  const pending = pendingByBuilder.get(b) ?? [];
  pendingByBuilder.set(b, pending);
  const pkg = b.pkg;
  for (const e of extras.exposures) {
    const d = e.data;
    const err = (message: string, key: string, hint: string) => b.diags.error(new TsdbtError('exposure-invalid', message, { file: e.file, line: e.keyLines[key] ?? e.line, hint }));
    for (const k of Object.keys(d)) {
      if (!EXPOSURE_KEYS.includes(k)) b.diags.warn(new TsdbtError('unknown-property', `unknown property '${k}' on exposure '${e.name}'`, { file: e.file, line: e.keyLines[k], hint: `dbt's exposure keys are ${EXPOSURE_KEYS.join(', ')}` }));
    }
    let ok = true;
    if (!/^[\w]+$/.test(e.name)) {
      err(`Invalid exposure name '${e.name}': names must contain only letters, numbers, and underscores`, 'name', 'rename it (a readable title belongs in label:)');
      ok = false;
    }
    if (!EXPOSURE_TYPES.includes(String(d.type))) {
      err(`exposure '${e.name}' has type ${d.type === undefined ? '(none)' : `'${String(d.type)}'`}, which is not one of ${EXPOSURE_TYPES.join(', ')}`, 'type', `write type: one of ${EXPOSURE_TYPES.join(', ')}`);
      ok = false;
    }
    const owner = d.owner as Record<string, unknown> | undefined;
    if (!owner || typeof owner !== 'object' || (!owner.name && !owner.email)) {
      err(`exposure '${e.name}': owner must have at least one of 'name' or 'email'`, 'owner', 'write owner:\n  name: …\n  email: …');
      ok = false;
    }
    if (d.maturity !== undefined && d.maturity !== null && !MATURITIES.includes(String(d.maturity))) {
      err(`exposure '${e.name}' has maturity '${String(d.maturity)}', which is not one of ${MATURITIES.join(', ')}`, 'maturity', 'write maturity: low, medium or high');
      ok = false;
    }
    const refs: RefCall[] = [];
    const sources: [string, string][] = [];
    const metrics: string[][] = [];
    for (const dep of strList(d.depends_on)) {
      const p = parseDependency(dep);
      if (!p) {
        err(`exposure '${e.name}' depends on '${dep}', which is not ref(..), source(..) or metric(..)`, 'depends_on', "write depends_on:\n  - ref('model_name')\n  - source('source_name', 'table_name')");
        ok = false;
        continue;
      }
      if (p.ref) refs.push({ ...p.ref, line: e.keyLines.depends_on });
      if (p.source) sources.push(p.source);
      if (p.metric) metrics.push(p.metric);
    }
    if (!ok) continue;
    const config = (d.config && typeof d.config === 'object' ? d.config : {}) as Record<string, unknown>;
    if (config.enabled === false) continue;
    const tags = [...new Set([...strList(d.tags), ...strList(config.tags)])];
    const meta = { ...((d.meta as Record<string, unknown>) ?? {}), ...((config.meta as Record<string, unknown>) ?? {}) };
    const uid = `exposure.${pkg}.${e.name}`;
    b.exposures[uid] = {
      unique_id: uid,
      resource_type: 'exposure',
      package_name: pkg,
      name: e.name,
      path: e.file.split('/').slice(1).join('/'),
      original_file_path: e.file,
      fqn: fqnFor(pkg, e.file, e.name),
      type: String(d.type),
      owner: { email: owner?.email ? String(owner.email) : null, name: owner?.name ? String(owner.name) : null },
      description: typeof d.description === 'string' ? d.description : '',
      label: typeof d.label === 'string' ? d.label : null,
      maturity: d.maturity ? String(d.maturity) : null,
      meta,
      tags,
      config: { enabled: true, tags, meta },
      unrendered_config: config,
      url: typeof d.url === 'string' ? d.url : null,
      depends_on: { macros: [], nodes: [] },
      refs,
      sources,
      metrics,
      created_at: b.now,
    };
    pending.push({ uid, kind: 'exposure', refs, sources, file: e.file, line: e.keyLines.depends_on ?? e.line });
  }
  for (const e of extras.semantic_models) {
    const uid = `semantic_model.${pkg}.${e.name}`;
    const refs: RefCall[] = [];
    const model = e.data.model;
    if (typeof model === 'string') {
      const p = parseDependency(model);
      if (!p?.ref) {
        b.diags.error(new TsdbtError('semantic-model-invalid', `semantic model '${e.name}' has model '${model}', which is not ref(..)`, { file: e.file, line: e.keyLines.model ?? e.line, hint: "write model: ref('model_name')" }));
        continue;
      }
      refs.push({ ...p.ref, line: e.keyLines.model });
    }
    b.semanticEntries.semantic_models[uid] = semanticModelEntry(b, e, refs);
    pending.push({ uid, kind: 'semantic_model', refs, sources: [], file: e.file, line: e.keyLines.model ?? e.line });
  }
  parseMetricsAndSavedQueries(b);
}

/**
 * After linking the nodes: each exposure's and semantic model's refs and sources become its
 * `depends_on.nodes`, resolved as `ref()` / `source()` are. A ref or source that does not exist (or is
 * disabled) is an error naming the properties file and the line of `depends_on:` / `model:`.
 */
export function linkExposures(b: ManifestBuilder): void {
  for (const p of pendingByBuilder.get(b) ?? []) {
    const entry = p.kind === 'exposure' ? b.exposures[p.uid] : b.semanticEntries.semantic_models[p.uid];
    if (!entry) continue;
    const pkg = entry.package_name;
    const label = `${p.kind === 'exposure' ? 'exposure' : 'semantic model'} '${entry.name}'`;
    const deps: string[] = [];
    for (const r of p.refs) {
      const key = refKey(r.name, r.version);
      const uid = b.refLookup.resolve(key, r.package ?? null, b.rootPkg, pkg);
      if (uid) {
        deps.push(uid);
        continue;
      }
      const disabled = b.disabledLookup.resolve(key, r.package ?? null, b.rootPkg, pkg) !== undefined;
      const shown = `${r.package ? r.package + '.' : ''}${r.name}${r.version !== null && r.version !== undefined ? `' with version '${r.version}` : ''}`;
      b.diags.error(
        new TsdbtError(disabled ? 'ref-disabled' : 'ref-not-found', `${label} refers to '${shown}', which ${disabled ? 'is disabled' : 'does not exist'}`, {
          file: p.file,
          line: p.line,
          hint: disabled ? `enable '${r.name}' or remove it from depends_on` : `check the name${b.suggest(r.name, b.refLookup.names().filter((k) => !k.includes('.')))}; models, seeds and snapshots are referred to by file name`,
        }),
      );
    }
    for (const [s, t] of p.sources) {
      const uid = b.sourceLookup.resolve(`${s}.${t}`, null, b.rootPkg, pkg);
      if (uid && b.sources[uid]) deps.push(uid);
      else b.diags.error(new TsdbtError('source-not-found', `${label} uses source('${s}', '${t}'), which is not declared`, { file: p.file, line: p.line, hint: 'declare it under sources: in a .yml file in a model path' }));
    }
    entry.depends_on.nodes = [...new Set(deps)];
    // dbt's SemanticModel.node_relation: where the referenced model is built.
    const model = p.kind === 'semantic_model' && deps[0] ? b.nodes[deps[0]] : undefined;
    if (model) (entry as SemanticEntry).node_relation = { alias: model.alias, schema_name: model.schema, database: model.database ?? null, relation_name: model.relation_name ?? null };
  }
  linkSemantic(b);
}
