/**
 * Models and analyses (and the same shape for snapshots once they are
 * parsed): one node per `.sql` file. Config precedence as dbt: dbt_project.yml
 * < properties (`config:`, `meta:`) < the file's own `config()`. A file whose
 * only Jinja is literal `ref`/`source`/`config` calls takes the static fast
 * path (static-extract.ts); any other is rendered in the parse phase.
 */
import { posix } from 'node:path';
import { TsdbtError } from '../errors.ts';
import type { NodeConfig, NodeProperties } from '../config/types.ts';
import { mergeConfig } from '../config/index.ts';
import { staticExtract, extractionFromCalls, type StaticCall, type StaticExtraction } from './static-extract.ts';
import { normaliseConfigKeys } from './jinja-context.ts';
import { cacheable } from './parse-render.ts';
import { JinjaRelation } from './relation.ts';
import { columnsFrom, fileNodeBase, folderParts, lineOf, stripExt, uniq } from './node-fields.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ProjectFile } from './discover.ts';
import type { ManifestNode, RefCall } from './manifest.ts';

/** Materializations tsdbt implements for models. */
const MATERIALIZATIONS = ['view', 'table', 'incremental', 'ephemeral'];

/** Adds every model file (with its properties entry) and every analysis file to the manifest. */
export function parseModels(b: ManifestBuilder): void {
  const modelProps = new Map<string, NodeProperties>();
  for (const p of b.properties.models) modelProps.set(p.name, p);
  for (const f of b.files.models) {
    const name = posix.basename(stripExt(f.path));
    parseModelLike(b, f, 'model', b.project.models, modelProps.get(name));
  }
  for (const f of b.files.analyses) parseModelLike(b, f, 'analysis', b.project.models);
}

/**
 * One model-like node from file `f`, configured by `tree` (dbt_project.yml's `models:`) and `props`.
 * An empty model file is skipped, as dbt skips it. Errors (`unknown-materialization`, render and naming errors) are recorded in
 * `b.diags` and the node is left out.
 */
export function parseModelLike(b: ManifestBuilder, f: ProjectFile, resourceType: 'model' | 'analysis' | 'snapshot', tree: Record<string, unknown>, props?: NodeProperties): void {
  const { pp, pkg, diags, database, target } = b;
  const key = b.fileKey(f);
  const look = pp.lookup(key, f.absPath);
  const raw = look.raw;
  const name = posix.basename(stripExt(f.path));
  const fqn = [pkg, ...folderParts(f.path), name];
  let config = b.projectConfig(tree, fqn);
  if (props?.config) config = mergeConfig(config, normaliseConfigKeys(props.config as Record<string, unknown>));
  if (props?.meta) config = mergeConfig(config, { meta: props.meta });
  // dbt skips a model file that is empty or only whitespace: no node, no error
  // (dbt-core read_files: files without contents are not parsed).
  if (resourceType === 'model' && raw.trim() === '') return;
  let refs: RefCall[];
  let sources: [string, string][];
  let fileConfig: NodeConfig;
  const cachedCalls = look.hit ? look.entry.calls : undefined;
  const fast: StaticExtraction | null = cachedCalls === undefined ? staticExtract(raw) : cachedCalls && extractionFromCalls(cachedCalls);
  if (fast) {
    refs = [...fast.refs];
    sources = [...fast.sources];
    fileConfig = normaliseConfigKeys(fast.config as Record<string, unknown>);
    pp.record(key, look.stat, { checksum: look.checksum, raw, calls: fast.calls as StaticCall[] });
  } else {
    const self = new JinjaRelation({ database, schema: target.schema, identifier: name });
    const c = b.render.captureCached(look.hit ? look.entry.capture : undefined, raw, f.originalFilePath, config, self);
    if (!c) return;
    refs = c.refs.map((r) => ({ ...r }));
    sources = c.sources.map((x) => [...x] as [string, string]);
    fileConfig = c.config;
    pp.record(key, look.stat, { checksum: look.checksum, raw, calls: null, capture: cacheable(c) });
  }
  b.checkFileConfig(fileConfig, f.originalFilePath, raw);
  config = mergeConfig(config, fileConfig);
  // A package's node: the root project's `models: <package>: …` applies last, as dbt.
  config = mergeConfig(config, b.rootOverride(resourceType === 'snapshot' ? 'snapshots' : 'models', fqn));
  const defaults: NodeConfig = {
    enabled: true,
    materialized: resourceType === 'model' ? 'view' : resourceType === 'snapshot' ? 'snapshot' : 'view',
    tags: [],
    meta: {},
    persist_docs: {},
    quoting: {},
    column_types: {},
    on_schema_change: 'ignore',
    grants: {},
    packages: [],
    docs: { show: true, node_color: null },
    contract: { enforced: false, alias_types: true },
    access: 'protected',
  };
  config = { ...defaults, ...config };
  if (typeof config.tags === 'string') config.tags = [config.tags];
  if (resourceType === 'model' && config.enabled !== false && !MATERIALIZATIONS.includes(String(config.materialized))) {
    diags.error(
      new TsdbtError('unknown-materialization', `model '${name}' is configured with materialized='${config.materialized}', which tsdbt does not know`, {
        file: f.originalFilePath,
        line: fileConfig.materialized !== undefined ? (lineOf(raw, /\bconfig\s*\(/) ?? 1) : undefined,
        hint: `use one of ${MATERIALIZATIONS.map((m) => `'${m}'`).join(', ')}${b.suggest(String(config.materialized), MATERIALIZATIONS)}`,
      }),
    );
    return;
  }
  const uid = `${resourceType}.${pkg}.${name}`;
  const base = { name, resource_type: resourceType, fqn, original_file_path: f.originalFilePath } as const;
  const names = diags.capture(() => b.naming(base, config));
  if (!names) return;
  const tags = uniq([...(config.tags ?? [])]);
  const node: ManifestNode = {
    unique_id: uid,
    resource_type: resourceType,
    ...fileNodeBase(pkg, f, name, fqn, raw, look.checksum),
    config: { ...config, tags },
    tags,
    description: b.renderDocs(props?.description ?? '', props?.file, props?.line),
    columns: columnsFrom(props?.columns, (t, line) => b.renderDocs(t, props?.file, line ?? props?.line)),
    meta: (config.meta as Record<string, unknown>) ?? {},
    docs: { show: props?.docs?.show ?? true, node_color: null },
    patch_path: props ? `${pkg}://${props.file}` : null,
    database: names.database,
    schema: names.schema,
    alias: names.alias,
    relation_name: resourceType === 'analysis' || config.materialized === 'ephemeral' ? null : b.relationName(names),
    depends_on: { nodes: [], macros: [] },
    refs,
    sources,
    created_at: b.now,
    unrendered_config: fileConfig as Record<string, unknown>,
  };
  if (fast) b.staticCalls.set(uid, fast.calls);
  b.register(node);
}
