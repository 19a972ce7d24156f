/**
 * target/manifest.json in dbt's manifest v12 shape, and reading one back
 * (for `--state`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import type { Manifest, ManifestNode, SourceDefinition } from '../parse/manifest.ts';
import { DOC_KEYS, MACRO_KEYS, MANIFEST_METADATA_KEYS, MANIFEST_SCHEMA_VERSION, NODE_KEYS, pick, SOURCE_KEYS } from './schema-keys.ts';
import { writeFileAtomicInBackground } from '../compile/background-writes.ts';

/** The file name dbt uses. */
export const MANIFEST_FILE = 'manifest.json';

/**
 * Fills `manifest.parent_map` and `manifest.child_map` (and returns them):
 * every node and source is a key; parent_map lists each one's
 * `depends_on.nodes` (deduplicated), child_map the nodes that depend on
 * it; every list is sorted. Dependencies on unique_ids that are neither a
 * node nor a source stay in parent_map but get no child_map key.
 * Also fills `group_map` (group name → unique_ids whose `config.group` is
 * that group, sorted). Mirrors dbt's `Manifest.build_parent_and_child_maps`.
 */
export function buildParentChildMaps(manifest: Manifest): Pick<Manifest, 'parent_map' | 'child_map' | 'group_map'> {
  const maps = parentChildMaps(manifest);
  manifest.parent_map = maps.parent_map;
  manifest.child_map = maps.child_map;
  manifest.group_map = maps.group_map;
  return maps;
}

/** The maps {@link buildParentChildMaps} fills, computed without touching `manifest`. */
export function parentChildMaps(manifest: Manifest): Pick<Manifest, 'parent_map' | 'child_map' | 'group_map'> {
  const parent_map: Record<string, string[]> = {};
  const child_map: Record<string, string[]> = {};
  const group_map: Record<string, string[]> = {};
  for (const id in manifest.sources) {
    parent_map[id] = [];
    child_map[id] = [];
  }
  for (const id in manifest.nodes) {
    child_map[id] = [];
  }
  for (const id in manifest.nodes) {
    const node = manifest.nodes[id]!;
    const deps = node.depends_on.nodes;
    const parents = deps.length === 0 ? [] : deps.length === 1 ? [deps[0]!] : [...new Set(deps)].sort();
    parent_map[id] = parents;
    for (const p of parents) child_map[p]?.push(id);
    const group = node.config?.group;
    if (typeof group === 'string' && group !== '') (group_map[group] ??= []).push(id);
  }
  // Unit tests are edge members too (dbt's build_parent_and_child_maps): children of the model they test.
  for (const id in manifest.unit_tests ?? {}) {
    const parents = [...new Set(manifest.unit_tests[id]!.depends_on.nodes)].sort();
    parent_map[id] = parents;
    child_map[id] = [];
    for (const p of parents) child_map[p]?.push(id);
  }
  // Exposures, semantic models, metrics and saved queries are children of what they depend on, as in dbt's maps.
  const extra = [manifest.exposures, manifest.semantic_models, manifest.metrics, manifest.saved_queries] as Record<string, { depends_on?: { nodes?: string[] } }>[];
  for (const map of extra) for (const id in map ?? {}) child_map[id] = [];
  for (const map of extra) {
    for (const id in map ?? {}) {
      const parents = [...new Set(map[id]!.depends_on?.nodes ?? [])].sort();
      parent_map[id] = parents;
      for (const p of parents) child_map[p]?.push(id);
    }
  }
  for (const id in child_map) if (child_map[id]!.length > 1) child_map[id]!.sort();
  for (const g in group_map) group_map[g]!.sort();
  return { parent_map, child_map, group_map };
}

type Hook = { sql: string; transaction: boolean; index: number | null };

function toHooks(value: unknown): Hook[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((h, i) =>
    typeof h === 'string'
      ? { sql: h, transaction: true, index: i }
      : { sql: String((h as Hook).sql ?? ''), transaction: (h as Hook).transaction ?? true, index: (h as Hook).index ?? i },
  );
}

/** Config as dbt writes it: hooks under `pre-hook`/`post-hook` as `{sql, transaction, index}` objects. */
function configForJson(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in config) {
    if (k === 'pre_hook' || k === 'post_hook' || k === 'pre-hook' || k === 'post-hook') continue;
    const v = config[k];
    if (v !== undefined) out[k] = v;
  }
  out['pre-hook'] = toHooks(config.pre_hook ?? config['pre-hook']);
  out['post-hook'] = toHooks(config.post_hook ?? config['post-hook']);
  return out;
}

/** Back from dbt's JSON config to tsdbt's in-memory one (`pre_hook: string[]`). */
function configFromJson(config: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!config) return {};
  const out: Record<string, unknown> = {};
  for (const k in config) {
    if (k === 'pre-hook' || k === 'post-hook') continue;
    out[k] = config[k];
  }
  for (const [json, mem] of [
    ['pre-hook', 'pre_hook'],
    ['post-hook', 'post_hook'],
  ] as const) {
    const hooks = config[json];
    if (Array.isArray(hooks) && hooks.length > 0) {
      out[mem] = hooks.map((h) => (typeof h === 'string' ? h : String((h as Hook).sql)));
    } else if (Array.isArray(config[mem])) out[mem] = config[mem];
  }
  return out;
}

function schemaTitle(node: ManifestNode): keyof typeof NODE_KEYS {
  switch (node.resource_type) {
    case 'seed':
      return 'Seed';
    case 'model':
      return 'Model';
    case 'snapshot':
      return 'Snapshot';
    case 'analysis':
      return 'Analysis';
    case 'operation':
      return 'HookNode';
    case 'test':
      return node.test_metadata ? 'GenericTest' : 'SingularTest';
    default:
      return 'Model';
  }
}

/**
 * A function copying `keys` of an object into a new object literal, for
 * {@link nodeForJson}: one fixed shape per schema title, so V8 keeps the
 * copies in fast mode (`pick`'s keyed stores of 40+ properties turn each
 * copy into a slow dictionary object, which costs ~2× in building and in
 * `JSON.stringify` over 10,000 nodes). A key the node does not have is
 * copied as `undefined`, which `JSON.stringify` leaves out as `pick` does.
 * The keys are our own constants (schema-keys.ts), quoted with
 * JSON.stringify.
 */
function literalPicker(keys: readonly string[]): (obj: object) => Record<string, unknown> {
  const body = `return {${keys.map((k) => `${JSON.stringify(k)}: o[${JSON.stringify(k)}]`).join(', ')}};`;
  return new Function('o', body) as (obj: object) => Record<string, unknown>;
}

const NODE_PICKERS = Object.fromEntries(Object.entries(NODE_KEYS).map(([title, keys]) => [title, literalPicker(keys)])) as Record<
  keyof typeof NODE_KEYS,
  (obj: object) => Record<string, unknown>
>;

/** A node's compiled SQL and where it was written (target/compiled/…), from the compile stage. */
export interface CompiledFields {
  readonly compiledCode: string;
  readonly compiledPath: string;
}

/**
 * One node as manifest v12 allows it: known properties only, dbt's defaults
 * for the rest; `compiled` (when the node was compiled in this invocation)
 * gives `compiled_code` / `compiled_path` (the Manifest itself is not changed).
 */
export function nodeForJson(node: ManifestNode, compiled?: CompiledFields): Record<string, unknown> {
  const title = schemaTitle(node);
  const out = NODE_PICKERS[title](node);
  if (compiled) {
    out.compiled_code = compiled.compiledCode;
    out.compiled_path = compiled.compiledPath;
  }
  const config = (node.config ?? {}) as Record<string, unknown>;
  out.config = configForJson(config);
  out.group ??= typeof config.group === 'string' ? config.group : null;
  out.build_path ??= null;
  out.unrendered_config ??= {};
  out.config_call_dict ??= {};
  out.unrendered_config_call_dict ??= {};
  out.doc_blocks ??= [];
  if (title === 'Seed') {
    out.depends_on = { macros: node.depends_on?.macros ?? [] };
    if (out.root_path === undefined) {
      const abs = node.abs_path ?? node.seed_file;
      const rel = node.original_file_path;
      out.root_path = abs && rel && abs.endsWith('/' + rel) ? abs.slice(0, abs.length - rel.length - 1) : null;
    }
    return out;
  }
  out.depends_on = { macros: node.depends_on?.macros ?? [], nodes: node.depends_on?.nodes ?? [] };
  out.refs = (node.refs ?? []).map((r) => ({ name: r.name, package: r.package ?? null, version: r.version ?? null }));
  out.sources ??= [];
  out.metrics ??= [];
  out.functions ??= [];
  out.language ??= 'sql';
  out.compiled ??= typeof out.compiled_code === 'string';
  out.compiled_path ??= null;
  out.extra_ctes_injected ??= out.compiled;
  out.extra_ctes ??= [];
  const contract = config.contract as { enforced?: boolean; alias_types?: boolean } | undefined;
  out.contract ??= { enforced: contract?.enforced === true, alias_types: contract?.alias_types ?? true, checksum: null };
  if (title === 'Model') {
    out.access ??= typeof config.access === 'string' ? config.access : 'protected';
    out.constraints ??= [];
    out.version ??= null;
    out.latest_version ??= null;
    out.deprecation_date ??= null;
    out.primary_key ??= [];
  } else if (title === 'GenericTest') {
    out.column_name ??= null;
    out.file_key_name ??= null;
    out.attached_node ??= null;
  }
  return out;
}

/** One source as manifest v12 allows it. */
export function sourceForJson(source: SourceDefinition): Record<string, unknown> {
  const out = pick(source, SOURCE_KEYS);
  out.quoting ??= { database: null, schema: null, identifier: null, column: null };
  out.loaded_at_query ??= null;
  out.freshness ??= null;
  out.external ??= null;
  out.unrendered_config ??= {};
  out.doc_blocks ??= [];
  return out;
}

function disabledForJson(entries: unknown[]): unknown[] {
  return entries.map((e) => {
    if (!e || typeof e !== 'object') return e;
    const rt = (e as { resource_type?: string }).resource_type;
    if (rt === 'source') return sourceForJson(e as SourceDefinition);
    if (rt && rt in { model: 1, seed: 1, test: 1, snapshot: 1, analysis: 1, operation: 1 }) return nodeForJson(e as ManifestNode);
    return e;
  });
}

/**
 * The manifest as the plain object written to manifest.json: dbt's v12
 * top-level keys, properties not in the schema removed, parent/child maps
 * recomputed; `compiled` (unique_id → compiled SQL and path) gives the
 * nodes compiled in this invocation their `compiled_code`. Does not modify
 * `manifest`.
 */
export function manifestForJson(manifest: Manifest, compiled?: ReadonlyMap<string, CompiledFields>): Record<string, unknown> {
  // The maps linking filled (parseSession), else computed here without touching the manifest.
  const linked = manifest.child_map && Object.keys(manifest.child_map).length > 0;
  const maps = linked ? { parent_map: manifest.parent_map, child_map: manifest.child_map, group_map: manifest.group_map ?? {} } : parentChildMaps(manifest);
  const nodes: Record<string, unknown> = {};
  for (const id in manifest.nodes) nodes[id] = nodeForJson(manifest.nodes[id]!, compiled?.get(id));
  const sources: Record<string, unknown> = {};
  for (const id in manifest.sources) sources[id] = sourceForJson(manifest.sources[id]!);
  const macros: Record<string, unknown> = {};
  for (const id in manifest.macros) {
    const m = pick(manifest.macros[id]!, MACRO_KEYS);
    m.resource_type = 'macro';
    m.docs ??= { show: true, node_color: null };
    m.patch_path ??= null;
    m.supported_languages ??= null;
    macros[id] = m;
  }
  const docs: Record<string, unknown> = {};
  for (const id in manifest.docs) {
    const d = pick(manifest.docs[id]!, DOC_KEYS);
    d.resource_type = 'doc';
    docs[id] = d;
  }
  const disabled: Record<string, unknown[]> = {};
  for (const id in manifest.disabled ?? {}) disabled[id] = disabledForJson(manifest.disabled[id]!);
  const metadata = pick(manifest.metadata ?? {}, MANIFEST_METADATA_KEYS);
  metadata.dbt_schema_version = MANIFEST_SCHEMA_VERSION;
  metadata.env ??= {};
  metadata.send_anonymous_usage_stats ??= false;
  return {
    metadata,
    nodes,
    sources,
    macros,
    docs,
    exposures: manifest.exposures ?? {},
    metrics: manifest.metrics ?? {},
    groups: manifest.groups ?? {},
    selectors: manifest.selectors ?? {},
    disabled,
    parent_map: maps.parent_map,
    child_map: maps.child_map,
    group_map: maps.group_map,
    saved_queries: manifest.saved_queries ?? {},
    semantic_models: manifest.semantic_models ?? {},
    unit_tests: unitTestsForJson(manifest.unit_tests ?? {}),
  };
}

/** Unit tests as dbt writes them (the source line and the tags copy are tsdbt's own, left out). */
function unitTestsForJson(unitTests: Manifest['unit_tests']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id in unitTests) out[id] = unitTestForJson(unitTests[id]!);
  return out;
}

/** One unit test as manifest.json writes it (and `ls --output json` prints it). */
export function unitTestForJson(unitTest: Manifest['unit_tests'][string]): Record<string, unknown> {
  const { line: _line, tags: _tags, ...rest } = unitTest; // tags live in config, as dbt writes them
  return rest;
}

/** Writes `text` to `path` through a temporary file and a rename, so readers never see half a file. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Writes `<dir>/manifest.json` (creating `dir`) in dbt's manifest v12
 * shape (`metadata.dbt_schema_version` =
 * https://schemas.getdbt.com/dbt/manifest/v12.json), compact JSON, one
 * `JSON.stringify`; the Manifest is not modified.
 * Returns the file's path. Throws the file system's error if `dir` cannot
 * be written. `opts.background`: a large manifest is written by the writer
 * thread (src/compile/background-writes.ts); the file is there after
 * flushBackgroundWrites().
 */
export function writeManifest(dir: string, manifest: Manifest, compiled?: ReadonlyMap<string, CompiledFields>, opts: { background?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, MANIFEST_FILE);
  // No masking pass: no secret can be here (DBT_ENV_SECRET_ env vars are refused outside profiles.yml/packages.yml, the password is not in the Jinja context).
  const text = JSON.stringify(manifestForJson(manifest, compiled));
  if (opts.background) writeFileAtomicInBackground(path, text, writeFileAtomic);
  else writeFileAtomic(path, text);
  return path;
}

/**
 * Reads a manifest.json written by tsdbt or dbt (for `--state`). `path` is
 * the file or the folder holding it. Hooks are turned back into tsdbt's
 * in-memory form so that state comparison sees equal configs as equal.
 * Throws TsdbtError `state-not-found` when there is no file, `bad-artifact`
 * when it is not a dbt manifest.
 */
export function readManifest(path: string): Manifest {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, MANIFEST_FILE) : path;
  const data = readJson(file, 'manifest.json', 'point --state at the target/ folder of an earlier run (it holds manifest.json)');
  const m = data as Partial<Manifest> & { metadata?: { dbt_schema_version?: string } };
  const version = m.metadata?.dbt_schema_version ?? '';
  if (!m.nodes || typeof m.nodes !== 'object' || !/\/manifest\/v\d+\.json$/.test(version)) {
    throw new TsdbtError('bad-artifact', `${file} is not a dbt manifest (no metadata.dbt_schema_version for a manifest, or no nodes)`, {
      file,
      hint: 'point --state at the target/ folder of an earlier tsdbt or dbt run',
    });
  }
  for (const id in m.nodes) {
    const node = m.nodes[id] as ManifestNode;
    node.config = configFromJson(node.config as Record<string, unknown>) as ManifestNode['config'];
    node.depends_on = { nodes: node.depends_on?.nodes ?? [], macros: node.depends_on?.macros ?? [] };
    node.refs ??= [];
    node.sources ??= [];
    node.columns ??= {};
    node.tags ??= [];
  }
  m.sources ??= {};
  m.macros ??= {};
  m.docs ??= {};
  return m as Manifest;
}

/** Reads and parses a JSON artifact, with user-facing errors. */
export function readJson(file: string, what: string, hint: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TsdbtError('state-not-found', `No ${what} at ${file}`, { file, hint, cause: e });
    }
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TsdbtError('bad-artifact', `${file} is not valid JSON: ${(e as Error).message}`, {
      file,
      hint: `the file may be truncated; re-run the command that writes ${what}`,
      cause: e,
    });
  }
}
