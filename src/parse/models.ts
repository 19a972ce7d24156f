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
import { applyConstraints } from './contracts.ts';
import { columnsForVersion, formattedVersion, normaliseDeprecationDate, versionedFiles, type VersionedFile } from './model-versions.ts';

/** Materializations tsdbt implements for models. */
const MATERIALIZATIONS = ['view', 'table', 'incremental', 'ephemeral'];

/** Names defined by `{% materialization name, … %}` blocks (`materialization_<name>_<adapter>` macros), as dbt accepts them. */
function customMaterializationNames(jinja: ManifestBuilder['jinja']): Set<string> {
  const names = new Set<string>();
  for (const d of jinja.macroDefinitions()) {
    const m = d.kind === 'materialization' ? /^materialization_(.+)_(postgres|default)$/.exec(d.name) : null;
    if (m) names.add(m[1]);
  }
  return names;
}
/** dbt's AccessType values. */
const ACCESS = ['private', 'protected', 'public'];

/**
 * Adds every model file (with its properties entry) and every analysis file to the manifest.
 * A file that defines a version of a versioned model (see model-versions.ts) becomes that
 * version's node, as dbt's ModelPatchParser makes it.
 */
export function parseModels(b: ManifestBuilder): void {
  const modelProps = new Map<string, NodeProperties>();
  for (const p of b.properties.models) modelProps.set(p.name, p);
  const fileNames = new Set(b.files.models.map((f) => posix.basename(stripExt(f.path))));
  const versions = versionedFiles(b.properties.models, fileNames, (w) => b.warnings.push(w));
  for (const f of b.files.models) {
    const name = posix.basename(stripExt(f.path));
    const versioned = versions.get(name);
    if (versioned) parseModelLike(b, f, 'model', b.project.models, versioned.props, versioned);
    else if (modelProps.get(name)?.versions?.length) parseModelLike(b, f, 'model', b.project.models, undefined);
    else parseModelLike(b, f, 'model', b.project.models, modelProps.get(name));
  }
  for (const f of b.files.analyses) parseModelLike(b, f, 'analysis', b.project.models);
}

/**
 * One model-like node from file `f`, configured by `tree` (dbt_project.yml's `models:`) and `props`.
 * An empty model file is skipped, as dbt skips it. Errors (`unknown-materialization`, render and naming errors) are recorded in
 * `b.diags` and the node is left out.
 * With `versioned`, the file defines that version of `props`' model: the node is named after the model,
 * its unique_id and fqn end `v<version>`, its relation defaults to `<model>_v<version>`, and its config,
 * description, docs, access and columns are the version's over the model entry's (dbt's ModelPatchParser).
 */
export function parseModelLike(
  b: ManifestBuilder,
  f: ProjectFile,
  resourceType: 'model' | 'analysis' | 'snapshot',
  tree: Record<string, unknown>,
  props?: NodeProperties,
  versioned?: VersionedFile,
): void {
  const { pp, pkg, diags, database, target } = b;
  const key = b.fileKey(f);
  const look = pp.lookup(key, f.absPath);
  const raw = look.raw;
  const version = versioned?.version;
  // A version is named after its model; its fqn ends with `v<version>` (dbt's ModelPatchParser).
  const name = versioned ? versioned.props.name : posix.basename(stripExt(f.path));
  const fqn = [pkg, ...folderParts(f.path), name, ...(version ? [formattedVersion(version.v)] : [])];
  let config = b.projectConfig(tree, fqn);
  if (props?.config) config = mergeConfig(config, normaliseConfigKeys(props.config as Record<string, unknown>));
  // As dbt: the version's config is deep-merged over the model entry's.
  if (version?.config) config = mergeConfig(config, normaliseConfigKeys(version.config as Record<string, unknown>));
  // `access:` of the entry (or of the version), as properties-level config: the file's config() still wins.
  const access = resourceType === 'model' ? (version?.access ?? props?.access) : undefined;
  if (access !== undefined) {
    if (!ACCESS.includes(access)) {
      diags.error(
        new TsdbtError('properties-invalid', `access '${access}' of model '${name}' is not one of ${ACCESS.map((a) => `'${a}'`).join(', ')}`, {
          file: props!.file,
          line: version?.line ?? props!.line,
          hint: `write access: protected (the default), private or public${b.suggest(access, ACCESS)}`,
        }),
      );
      return;
    }
    config = mergeConfig(config, { access });
  }
  // `group:` of the entry, as properties-level config (dbt's ModelPatchParser); the file's config() still wins.
  if (resourceType === 'model' && typeof props?.group === 'string') config = mergeConfig(config, { group: props.group });
  if (props?.meta) config = mergeConfig(config, { meta: props.meta });
  // dbt skips a model file that is empty or only whitespace: no node, no error
  // (dbt-core read_files: files without contents are not parsed).
  if (resourceType === 'model' && raw.trim() === '') return;
  let refs: RefCall[];
  let sources: [string, string][];
  let fileConfig: NodeConfig;
  const cachedCalls = look.hit ? look.entry.calls : undefined;
  const fast: StaticExtraction | null = !b.staticParser ? null : cachedCalls === undefined ? staticExtract(raw) : cachedCalls && extractionFromCalls(cachedCalls);
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
  if (resourceType === 'model' && config.enabled !== false && !MATERIALIZATIONS.includes(String(config.materialized)) && !customMaterializationNames(b.jinja).has(String(config.materialized))) {
    diags.error(
      new TsdbtError('unknown-materialization', `model '${name}' is configured with materialized='${config.materialized}', which tsdbt does not know`, {
        file: f.originalFilePath,
        line: fileConfig.materialized !== undefined ? (lineOf(raw, /\bconfig\s*\(/) ?? 1) : undefined,
        hint: `use one of ${MATERIALIZATIONS.map((m) => `'${m}'`).join(', ')}${b.suggest(String(config.materialized), MATERIALIZATIONS)}`,
      }),
    );
    return;
  }
  const uid = version ? `${resourceType}.${pkg}.${name}.${formattedVersion(version.v)}` : `${resourceType}.${pkg}.${name}`;
  const base = { name, resource_type: resourceType, fqn, original_file_path: f.originalFilePath, version: version?.v ?? null } as const;
  const names = diags.capture(() => b.naming(base, config));
  if (!names) return;
  const deprecationText = version ? version.deprecation_date : resourceType === 'model' && typeof props?.deprecation_date === 'string' ? props.deprecation_date : undefined;
  const deprecationDate = deprecationText === undefined ? null : diags.capture(() => normaliseDeprecationDate(deprecationText, props!.file, version?.line ?? props!.line));
  if (deprecationDate === undefined) return;
  const description = (version?.description || props?.description) ?? '';
  const columnProps = version ? columnsForVersion(props!, version) : props?.columns;
  const docs = version?.docs ?? props?.docs;
  const tags = uniq([...(config.tags ?? [])]);
  const node: ManifestNode = {
    unique_id: uid,
    resource_type: resourceType,
    ...fileNodeBase(pkg, f, name, fqn, raw, look.checksum),
    config: { ...config, tags },
    tags,
    description: b.renderDocs(description, props?.file, version?.line ?? props?.line),
    columns: columnsFrom(columnProps, (t, line) => b.renderDocs(t, props?.file, line ?? props?.line)),
    meta: (config.meta as Record<string, unknown>) ?? {},
    docs: { show: docs?.show ?? true, node_color: null },
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
  if (resourceType === 'model') {
    node.version = version?.v ?? null;
    node.latest_version = versioned?.latest ?? null;
    node.deprecation_date = deprecationDate;
    // Constraints and the contract checks (contracts.ts); a version's constraints replace the entry's, as dbt.
    const versionConstraints = Array.isArray(version?.constraints) && version.constraints.length ? version.constraints : undefined;
    applyConstraints(b, node, props, columnProps, versionConstraints ?? props?.constraints, version?.line ?? props?.line);
  }
  if (fast) b.staticCalls.set(uid, fast.calls);
  b.register(node);
}
