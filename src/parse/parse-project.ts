/**
 * Project → Manifest: reads every file of a dbt project, captures each
 * node's refs, sources and config by rendering it in dbt's parse phase (or
 * through the static fast path), applies config precedence (project file <
 * properties < `config()` in the file, as dbt) and schema/alias naming
 * (`generate_schema_name` / `generate_alias_name`, overridable by the
 * project's own macros, as dbt), and links refs to unique_ids.
 *
 * Every compile error in the project is collected before anything is thrown
 * (as Dataform's compile session); the thrown error lists them all.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Diagnostics, TsdbtError } from '../errors.ts';
import type { NodeConfig, ProjectConfig, Properties, NodeProperties, TargetConfig, ColumnProperties } from '../config/types.ts';
import { resolveNodeConfig, mergeConfig, loadProperties, resolveVar, KNOWN_CONFIG_KEYS, suggestConfigKey, targetDatabase } from '../config/index.ts';
import { renderValue, targetForJinja } from '../config/render.ts';
import { isSecretName, registerSecret } from '../secrets.ts';
import { JinjaEnv, extractDocBlocks } from '../jinja/index.ts';
import { closestNames } from '../graph/index.ts';
import { parseTestEntry, genericTestNames, genericTestUniqueId } from '../datatests/index.ts';
import { discoverFiles, type ProjectFile } from './discover.ts';
import { staticExtract, extractionFromCalls, type StaticCall, type StaticExtraction } from './static-extract.ts';
import { PartialParse, partialParseKey, configKey, type PartialParseStats, type RenderCapture } from './partial-parse.ts';
import { buildContext, normaliseConfigKeys, type Captured, type ContextHooks } from './jinja-context.ts';
import { JinjaRelation, quoteIdent } from './relation.ts';
import { builtinMacroFiles, builtinMacrosDigest } from './builtin-macros.ts';
import type { ColumnInfo, Documentation, Macro, Manifest, ManifestNode, RefCall, SourceDefinition } from './manifest.ts';

export interface ParseOptions {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  /** `--vars`, already parsed. */
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Reuse what the previous parse learned from unchanged files
   * (`<target-path>/partial_parse.json`, as dbt's partial parsing) and save
   * it for the next one. Default: true unless `DBT_PARTIAL_PARSE` is
   * `false`/`0` (dbt's `--no-partial-parse`).
   */
  readonly partialParse?: boolean;
}

/** What parsing produced, for the compile stage. */
export interface ParseResult {
  readonly manifest: Manifest;
  readonly jinja: JinjaEnv;
  /** unique_id → the static fast-path calls, for nodes that need no full render. */
  readonly staticCalls: ReadonlyMap<string, readonly StaticCall[]>;
  readonly warnings: readonly TsdbtError[];
  /** The database name relations are qualified with (the target's dbname; `postgres` on PGlite). */
  readonly database: string;
  /** How many files partial parsing reused (see partial-parse.ts). */
  readonly partialParse: PartialParseStats;
}

const REFABLE = new Set(['model', 'seed', 'snapshot']);
/** Materializations tsdbt implements for models. */
const MATERIALIZATIONS = ['view', 'table', 'incremental', 'ephemeral'];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function stripExt(p: string): string {
  return p.replace(/\.[^./]+$/, '');
}

function folderParts(path: string): string[] {
  const parts = path.split('/');
  parts.pop();
  return parts;
}

function lineOf(text: string, needle: RegExp): number | undefined {
  const m = needle.exec(text);
  if (!m) return undefined;
  let line = 1;
  for (let i = 0; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function columnsFrom(cols: readonly ColumnProperties[] | undefined, docs: (t: string, line?: number) => string): Record<string, ColumnInfo> {
  const out: Record<string, ColumnInfo> = {};
  for (const c of cols ?? []) {
    out[c.name] = {
      name: c.name,
      description: docs(c.description ?? '', (c as ColumnProperties & { line?: number }).line),
      data_type: c.data_type ?? null,
      meta: c.meta ?? {},
      tags: c.tags ?? [],
      quote: c.quote ?? null,
    };
  }
  return out;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * Parses the project into a Manifest.
 * @throws TsdbtError (or CompileErrors listing several) for any project error.
 */
export function parseProject(opts: ParseOptions): ParseResult {
  const { project, target } = opts;
  const env = opts.env ?? process.env;
  const diags = new Diagnostics();
  const now = Date.now() / 1000;
  const database = targetDatabase(target);
  const files = discoverFiles(project);
  const pkg = project.name;

  // ---- docs ----
  const docs: Record<string, Documentation> = {};
  for (const f of files.docs) {
    const text = readFileSync(f.absPath, 'utf8');
    for (const block of extractDocBlocks(text, f.originalFilePath)) {
      docs[`doc.${pkg}.${block.name}`] = {
        unique_id: `doc.${pkg}.${block.name}`,
        name: block.name,
        package_name: pkg,
        path: f.path,
        original_file_path: f.originalFilePath,
        block_contents: block.contents.trim(),
      };
    }
  }
  const renderDocs = (text: string, file?: string, line?: number): string => {
    if (!text || !text.includes('{{')) return text;
    return text.replace(/\{\{\s*doc\(\s*(?:['"]([^'"]+)['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)\s*\}\}/g, (_m, _p, name: string) => {
      const d = docs[`doc.${pkg}.${name}`];
      if (!d) {
        diags.error(
          new TsdbtError('doc-not-found', `doc('${name}') refers to a docs block that does not exist`, {
            file,
            line,
            hint: `define {% docs ${name} %}…{% enddocs %} in a .md file under a docs path${suggest(name, Object.values(docs).map((x) => x.name))}`,
          }),
        );
        return '';
      }
      return d.block_contents;
    });
  };

  // ---- macros ----
  const jinja = new JinjaEnv({ rootPackage: pkg, dispatch: project.dispatch });
  const macros: Record<string, Macro> = {};
  const addMacros = (source: string, file: string, relPath: string, packageName: string, lazy = false) => {
    const defs = diags.capture(() => jinja.addMacroFile(source, file, packageName, { lazy })) ?? [];
    for (const d of defs) {
      const uid = `macro.${packageName}.${d.name}`;
      macros[uid] = {
        unique_id: uid,
        name: d.name,
        package_name: packageName,
        path: relPath,
        original_file_path: file,
        macro_sql: d.sql ?? '',
        depends_on: { macros: [] },
        description: '',
        meta: {},
        arguments: (d.arguments ?? []).map((a: string | { name: string }) => ({ name: typeof a === 'string' ? a : a.name })),
        created_at: now,
      };
    }
  };
  for (const f of builtinMacroFiles()) addMacros(f.source, f.file, f.path, 'dbt', true); // dbt's global macros (src/macros/dbt), compiled on first use
  const macroSources: string[] = [builtinMacrosDigest()];
  for (const f of files.macros) {
    const text = readFileSync(f.absPath, 'utf8');
    macroSources.push(f.originalFilePath, text);
    addMacros(text, f.originalFilePath, f.path, pkg);
  }

  // ---- partial parsing: what earlier parses learned from unchanged files ----
  const partialParseOn = opts.partialParse ?? !/^(false|0|no)$/i.test(env.DBT_PARTIAL_PARSE ?? '');
  const pp = new PartialParse(
    join(project.root, project.targetPath),
    partialParseKey({ project, target, cliVars: opts.cliVars, macroSources }),
    partialParseOn,
  );
  const properties: Properties = pp.properties(project, () => loadProperties(project));
  // A project's generate_x_name, or its default__/postgres__ implementation (dispatch finds those first), is called;
  // dbt's own default__ forms are computed without a render.
  const customNaming = (n: string) => Object.values(macros).some((m) => m.package_name === pkg && (m.name === n || m.name === `default__${n}` || m.name === `postgres__${n}`));
  const customSchemaMacro = customNaming('generate_schema_name');
  const customAliasMacro = customNaming('generate_alias_name');
  const customDatabaseMacro = customNaming('generate_database_name');

  // ---- variables and hooks shared by every parse-phase render ----
  const variable = (name: string, fallback: unknown, hasDefault: boolean, file?: string): unknown => {
    try {
      return resolveVar(name, project, opts.cliVars, pkg, hasDefault ? { default: fallback } : undefined);
    } catch (e) {
      if (e instanceof TsdbtError && file && !e.file) {
        throw new TsdbtError(e.code, e.message, { file, hint: e.hint });
      }
      throw e;
    }
  };
  const envVar = (name: string, fallback: unknown, hasDefault: boolean, file?: string): unknown => {
    const v = env[name];
    if (v !== undefined) {
      if (isSecretName(name)) registerSecret(v);
      return v;
    }
    if (hasDefault) return fallback;
    throw new TsdbtError('env-var-missing', `env_var('${name}') is not set and has no default`, {
      file,
      hint: `export ${name}=… before running, or give a default: env_var('${name}', 'value')`,
    });
  };

  const baseContextInput = {
    execute: false,
    target,
    targetDatabase: database,
    projectName: pkg,
    invocationId: opts.invocationId,
    runStartedAt: new Date(),
    fullRefresh: false,
    dispatch: (name: string, ns: string | null) => jinja.dispatch(name, ns),
  };

  /** Renders a file in the parse phase, capturing its calls. */
  const capture = (raw: string, file: string, config: NodeConfig, self: JinjaRelation | null, envSeen?: Record<string, string | null>): Captured | undefined => {
    const captured: Captured = { refs: [], sources: [], config: {} };
    const hooks: ContextHooks = {
      ref: (call) => new JinjaRelation({ database, schema: target.schema, identifier: call.name }),
      source: (s, t) => new JinjaRelation({ database, schema: s, identifier: t }),
      variable: (n, f, h) => variable(n, f, h, file),
      envVar: (n, f, h) => {
        if (envSeen) envSeen[n] = env[n] ?? null;
        return envVar(n, f, h, file);
      },
      isIncremental: () => false,
    };
    const ctx = buildContext({ ...baseContextInput, self, model: { name: self?.identifier }, config, file, hooks, captured });
    const ok = diags.capture(() => jinja.render(raw, ctx, { file, lenientUndefined: true }));
    if (ok === undefined) return undefined;
    for (const r of captured.refs) {
      r.line = lineOf(raw, new RegExp(`ref\\s*\\((?:\\s*['"][^'"]*['"]\\s*,)?\\s*['"]${escapeRe(r.name)}['"]`));
    }
    return captured;
  };

  /**
   * The parse-phase capture of a file that needs a render: the cached one
   * when it was rendered with the same config and saw the same environment
   * variables, else a fresh render.
   */
  const captureCached = (cached: RenderCapture | undefined, raw: string, file: string, config: NodeConfig, self: JinjaRelation | null): RenderCapture | undefined => {
    const key = configKey(config);
    if (cached && cached.configKey === key && Object.entries(cached.env).every(([k, v]) => envFingerprint(env[k]) === v)) return cached;
    const envSeen: Record<string, string | null> = {};
    const c = capture(raw, file, config, self, envSeen);
    if (!c) return undefined;
    const fingerprints: Record<string, string | null> = {};
    for (const k of Object.keys(envSeen)) fingerprints[k] = envFingerprint(env[k]);
    return { configKey: key, refs: c.refs, sources: c.sources, config: c.config, env: fingerprints };
  };
  /**
   * What partial_parse.json may keep of a capture: nothing when the render read a
   * secret-named env var (its value could sit in the captured config), so such a
   * file is rendered again every time and its secret registered for masking.
   */
  const cacheable = (c: RenderCapture | undefined): RenderCapture | undefined =>
    c && Object.keys(c.env).some(isSecretName) ? undefined : c;

  const nodes: Record<string, ManifestNode> = {};
  const disabled: Record<string, ManifestNode[]> = {};
  const staticCalls = new Map<string, readonly StaticCall[]>();
  const byName = new Map<string, string[]>(); // refable name → unique_ids
  const propsByName = (list: readonly NodeProperties[]) => {
    const m = new Map<string, NodeProperties>();
    for (const p of list) m.set(p.name, p);
    return m;
  };
  const modelProps = propsByName(properties.models);
  const seedProps = propsByName(properties.seeds);
  const snapshotProps = propsByName(properties.snapshots);

  const naming = (
    node: Pick<ManifestNode, 'name' | 'resource_type' | 'fqn' | 'original_file_path'>,
    config: NodeConfig,
  ): { schema: string; alias: string; database: string } => {
    const custom = (config.schema ?? null) as string | null;
    let schema: string;
    const nodeDict = { name: node.name, resource_type: node.resource_type, fqn: node.fqn, original_file_path: node.original_file_path, config };
    let ctx: Record<string, unknown> | undefined;
    const namingContext = (): Record<string, unknown> => {
      const hooks: ContextHooks = {
        ref: (call) => new JinjaRelation({ database, schema: target.schema, identifier: call.name }),
        source: (s, t) => new JinjaRelation({ database, schema: s, identifier: t }),
        variable: (n, f, h) => variable(n, f, h, node.original_file_path),
        envVar: (n, f, h) => envVar(n, f, h, node.original_file_path),
        isIncremental: () => false,
      };
      return (ctx ??= buildContext({ ...baseContextInput, self: null, model: nodeDict, config, file: node.original_file_path, hooks }));
    };
    if (customSchemaMacro) {
      schema = String(jinja.callMacro('generate_schema_name', [custom, nodeDict], {}, namingContext()) ?? '').trim();
    } else {
      schema = custom == null ? target.schema : `${target.schema}_${String(custom).trim()}`;
    }
    let alias = (config.alias ?? null) as string | null;
    if (customAliasMacro) {
      alias = String(jinja.callMacro('generate_alias_name', [alias, nodeDict], {}, namingContext()) ?? '').trim();
    }
    let db = (config.database ?? null) as string | null;
    if (customDatabaseMacro) {
      // Postgres cannot cross databases; the macro's answer is recorded but relations stay in the target database.
      db = String(jinja.callMacro('generate_database_name', [db, nodeDict], {}, namingContext()) ?? database).trim();
    }
    return { schema, alias: alias || node.name, database: db || database };
  };

  const register = (node: ManifestNode) => {
    if (node.config.enabled === false) {
      (disabled[node.unique_id] ??= []).push(node);
      return;
    }
    const existing = nodes[node.unique_id];
    if (existing) {
      diags.error(
        new TsdbtError('duplicate-node', `two ${node.resource_type}s are named '${node.name}': ${existing.original_file_path} and ${node.original_file_path}`, {
          file: node.original_file_path,
          hint: 'dbt requires unique names for models, seeds and snapshots in a project: rename one of the files',
        }),
      );
      return;
    }
    if (REFABLE.has(node.resource_type)) {
      const other = byName.get(node.name);
      if (other?.length) {
        const o = nodes[other[0]];
        diags.error(
          new TsdbtError('duplicate-node', `'${node.name}' is defined twice: ${o.original_file_path} (${o.resource_type}) and ${node.original_file_path} (${node.resource_type})`, {
            file: node.original_file_path,
            hint: 'names of models, seeds and snapshots must be unique in a project: rename one of them',
          }),
        );
        return;
      }
      byName.set(node.name, [node.unique_id]);
    }
    nodes[node.unique_id] = node;
  };

  const relationName = (n: { database: string; schema: string; alias: string }) =>
    `${quoteIdent(n.database)}.${quoteIdent(n.schema)}.${quoteIdent(n.alias)}`;

  const warnings: TsdbtError[] = [];
  const seenConfigWarnings = new Set<TsdbtError>();
  const projectConfig = (tree: Record<string, unknown>, fqn: string[], file: string): NodeConfig => {
    const r = resolveNodeConfig(tree, pkg, fqn);
    // The same warning objects come back for every node under a folder: report each once.
    for (const w of r.unknownKeys ?? []) {
      if (seenConfigWarnings.has(w)) continue;
      seenConfigWarnings.add(w);
      warnings.push(w);
    }
    return r.config;
  };

  /**
   * Checks the keys and values a file's `config()` call set: an unknown key is a warning with a
   * suggestion (dbt keeps it as custom config, so a typo silently does nothing); a boolean setting
   * that is not true/false is an error. Both point at the line of the `config(` call.
   */
  const checkFileConfig = (fileConfig: NodeConfig, file: string, raw: string) => {
    const keys = Object.keys(fileConfig);
    if (!keys.length) return;
    const line = lineOf(raw, /\bconfig\s*\(/);
    for (const key of keys) {
      if (!KNOWN_CONFIG_KEYS.has(key)) {
        const suggestion = suggestConfigKey(key);
        warnings.push(
          new TsdbtError('unknown-config-key', `unknown config key '${key}' in config()${suggestion ? `; did you mean '${suggestion}'?` : ''}`, {
            file,
            line,
            hint: suggestion
              ? `rename it to '${suggestion}' (dbt keeps unknown keys as custom config, so a misspelt key silently does nothing)`
              : 'if it is a custom setting for your own macros, put it under meta instead',
          }),
        );
      }
    }
    for (const key of ['enabled', 'full_refresh'] as const) {
      const v = fileConfig[key];
      if (v !== undefined && v !== null && typeof v !== 'boolean') {
        diags.error(
          new TsdbtError('config-invalid', `config '${key}' must be true or false, got ${JSON.stringify(v)}`, {
            file,
            line,
            hint: `write ${key}=true or ${key}=false (without quotes)`,
          }),
        );
      }
    }
  };

  // ---- models ----
  const modelLike = (f: ProjectFile, resourceType: 'model' | 'analysis' | 'snapshot', tree: Record<string, unknown>, props?: NodeProperties) => {
    const look = pp.lookup(f.originalFilePath, f.absPath);
    const raw = look.raw;
    const name = posix.basename(stripExt(f.path));
    const fqn = [pkg, ...folderParts(f.path), name];
    let config = projectConfig(tree, fqn, f.originalFilePath);
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
      pp.record(f.originalFilePath, look.stat, { checksum: look.checksum, raw, calls: fast.calls as StaticCall[] });
    } else {
      const self = new JinjaRelation({ database, schema: target.schema, identifier: name });
      const c = captureCached(look.hit ? look.entry.capture : undefined, raw, f.originalFilePath, config, self);
      if (!c) return;
      refs = c.refs.map((r) => ({ ...r }));
      sources = c.sources.map((x) => [...x] as [string, string]);
      fileConfig = c.config;
      pp.record(f.originalFilePath, look.stat, { checksum: look.checksum, raw, calls: null, capture: cacheable(c) });
    }
    checkFileConfig(fileConfig, f.originalFilePath, raw);
    config = mergeConfig(config, fileConfig);
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
          hint: `use one of ${MATERIALIZATIONS.map((m) => `'${m}'`).join(', ')}${suggest(String(config.materialized), MATERIALIZATIONS)}`,
        }),
      );
      return;
    }
    const uid = `${resourceType}.${pkg}.${name}`;
    const base = { name, resource_type: resourceType, fqn, original_file_path: f.originalFilePath } as const;
    const names = diags.capture(() => naming(base, config));
    if (!names) return;
    const tags = uniq([...(config.tags ?? [])]);
    const node: ManifestNode = {
      unique_id: uid,
      resource_type: resourceType,
      ...fileNodeBase(pkg, f, name, fqn, raw, look.checksum),
      config: { ...config, tags },
      tags,
      description: renderDocs(props?.description ?? '', props?.file, props?.line),
      columns: columnsFrom(props?.columns, (t, line) => renderDocs(t, props?.file, line ?? props?.line)),
      meta: (config.meta as Record<string, unknown>) ?? {},
      docs: { show: props?.docs?.show ?? true, node_color: null },
      patch_path: props ? `${pkg}://${props.file}` : null,
      database: names.database,
      schema: names.schema,
      alias: names.alias,
      relation_name: resourceType === 'analysis' || config.materialized === 'ephemeral' ? null : relationName(names),
      depends_on: { nodes: [], macros: [] },
      refs,
      sources,
      created_at: now,
      unrendered_config: fileConfig as Record<string, unknown>,
    };
    if (fast) staticCalls.set(uid, fast.calls);
    register(node);
  };
  for (const f of files.models) {
    const name = posix.basename(stripExt(f.path));
    modelLike(f, 'model', project.models, modelProps.get(name));
  }
  for (const f of files.analyses) modelLike(f, 'analysis', project.models);

  // ---- seeds ----
  for (const f of files.seeds) {
    const name = posix.basename(stripExt(f.path));
    const fqn = [pkg, ...folderParts(f.path), name];
    const props = seedProps.get(name);
    let config = projectConfig(project.seeds, fqn, f.originalFilePath);
    if (props?.config) config = mergeConfig(config, normaliseConfigKeys(props.config as Record<string, unknown>));
    config = { enabled: true, materialized: 'seed', tags: [], meta: {}, column_types: {}, quote_columns: null, delimiter: ',', grants: {}, docs: { show: true, node_color: null }, ...config };
    const checksum = pp.seedChecksum(f.originalFilePath, f.absPath);
    const names = diags.capture(() => naming({ name, resource_type: 'seed', fqn, original_file_path: f.originalFilePath }, config));
    if (!names) continue;
    const tags = uniq([...(config.tags ?? [])]);
    register({
      unique_id: `seed.${pkg}.${name}`,
      resource_type: 'seed',
      ...fileNodeBase(pkg, f, name, fqn, '', checksum),
      config: { ...config, tags },
      tags,
      description: renderDocs(props?.description ?? '', props?.file, props?.line),
      columns: columnsFrom(props?.columns, (t, line) => renderDocs(t, props?.file, line ?? props?.line)),
      meta: (config.meta as Record<string, unknown>) ?? {},
      docs: { show: true, node_color: null },
      patch_path: props ? `${pkg}://${props.file}` : null,
      database: names.database,
      schema: names.schema,
      alias: names.alias,
      relation_name: relationName(names),
      depends_on: { nodes: [], macros: [] },
      refs: [],
      sources: [],
      seed_file: f.absPath,
      created_at: now,
    });
  }

  // ---- sources ----
  const sources: Record<string, SourceDefinition> = {};
  for (const s of properties.sources) {
    for (const t of s.tables) {
      const uid = `source.${pkg}.${s.name}.${t.name}`;
      const fqn = [pkg, ...folderParts(s.file.split('/').slice(1).join('/')), s.name, t.name];
      const config = mergeConfig(mergeConfig(projectConfig(project.sources, [pkg, s.name, t.name], s.file), (s.config ?? {}) as NodeConfig), (t.config ?? {}) as NodeConfig);
      // dbt renders a source's schema, database and identifier ({{ target.schema }}_raw, env_var(...)).
      const rendered = (v: string | undefined, line: number) =>
        v === undefined
          ? undefined
          : diags.capture(() => String(renderValue(v, { env, cliVars: opts.cliVars, target: targetForJinja(target), file: s.file, fileKind: 'properties' }, line)));
      const schema = rendered(s.schema, s.line) ?? s.name;
      const identifier = rendered(t.identifier, t.line) ?? t.name;
      const db = rendered(s.database, s.line) ?? database;
      if (config.enabled === false) continue;
      sources[uid] = {
        unique_id: uid,
        resource_type: 'source',
        package_name: pkg,
        name: t.name,
        source_name: s.name,
        source_description: renderDocs(s.description ?? '', s.file, s.line),
        identifier,
        database: db,
        schema,
        relation_name: `${quoteIdent(db)}.${quoteIdent(schema)}.${quoteIdent(identifier)}`,
        description: renderDocs(t.description ?? '', s.file, t.line),
        loader: s.loader ?? '',
        loaded_at_field: t.loaded_at_field ?? null,
        columns: columnsFrom(t.columns, (x, line) => renderDocs(x, s.file, line ?? t.line)),
        meta: t.meta ?? {},
        source_meta: s.meta ?? {},
        tags: uniq([...(s.tags ?? []), ...(t.tags ?? [])]),
        config: { enabled: true, ...config },
        path: s.file,
        original_file_path: s.file,
        fqn,
        patch_path: null,
        created_at: now,
      };
    }
  }

  // ---- singular tests ----
  for (const f of files.singularTests) {
    const look = pp.lookup(f.originalFilePath, f.absPath);
    const raw = look.raw;
    const name = posix.basename(stripExt(f.path));
    const fqn = [pkg, ...folderParts(f.path), name];
    let config = projectConfig(project.tests, fqn, f.originalFilePath);
    const c = captureCached(look.hit ? look.entry.capture : undefined, raw, f.originalFilePath, config, null);
    if (!c) continue;
    pp.record(f.originalFilePath, look.stat, { checksum: look.checksum, raw, calls: null, capture: cacheable(c) });
    config = mergeConfig(config, c.config);
    config = testDefaults(config);
    const tags = uniq([...(config.tags ?? [])]);
    register({
      unique_id: `test.${pkg}.${name}`,
      resource_type: 'test',
      ...fileNodeBase(pkg, f, name, fqn, raw, look.checksum),
      config: { ...config, tags },
      tags,
      description: '',
      columns: {},
      meta: {},
      docs: { show: true, node_color: null },
      patch_path: null,
      database,
      schema: `${target.schema}_dbt_test__audit`,
      alias: name,
      relation_name: null,
      depends_on: { nodes: [], macros: [] },
      refs: c.refs.map((r) => ({ ...r })),
      sources: c.sources.map((x) => [...x] as [string, string]),
      created_at: now,
    });
  }

  // ---- generic tests from properties ----
  const addGenericTests = (
    entries: readonly unknown[],
    at: { file: string; line: number },
    attached: { resourceType: string; name: string; sourceName?: string; uid: string; folder: string[] },
    columnName: string | null,
    quoteColumn = false,
  ) => {
    for (const entry of entries) {
      const spec = diags.capture(() => parseTestEntry(entry, at));
      if (!spec) continue;
      const { name, shortName } = genericTestNames(spec, attached, columnName ?? undefined);
      const kwargs: Record<string, unknown> = { ...spec.kwargs };
      // As dbt: a column declared `quote: true` reaches the test macro quoted.
      if (columnName !== null) kwargs.column_name = quoteColumn ? quoteIdent(columnName) : columnName;
      const modelArg =
        attached.resourceType === 'source'
          ? `{{ get_where_subquery(source('${attached.sourceName}', '${attached.name}')) }}`
          : `{{ get_where_subquery(ref('${attached.name}')) }}`;
      kwargs.model = modelArg;
      const uid = genericTestUniqueId(pkg, name, spec, attached, columnName);
      const fqn = [pkg, ...attached.folder, name];
      let config = projectConfig(project.tests, fqn, at.file);
      config = mergeConfig(config, normaliseConfigKeys((spec.config ?? {}) as Record<string, unknown>));
      config = testDefaults(config);
      const refs: RefCall[] = [];
      const srcs: [string, string][] = [];
      if (attached.resourceType === 'source') srcs.push([attached.sourceName!, attached.name]);
      else refs.push({ name: attached.name, package: null, version: null, line: at.line });
      for (const v of Object.values(spec.kwargs)) {
        if (typeof v !== 'string') continue;
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
        created_at: now,
      };
      (node as ManifestNode & { line?: number }).line = at.line;
      if (!jinja.hasMacro(spec.namespace ? `${spec.namespace}.test_${spec.testName}` : `test_${spec.testName}`)) {
        diags.error(
          new TsdbtError('test-not-found', `unknown generic test '${spec.testName}'`, {
            file: at.file,
            line: at.line,
            hint: `built-in tests are unique, not_null, accepted_values and relationships; define custom ones with {% test ${spec.testName}(model, column_name) %} in macros/ or tests/generic/${suggest(spec.testName, ['unique', 'not_null', 'accepted_values', 'relationships'])}`,
          }),
        );
        continue;
      }
      register(node);
    }
  };
  const testsFor = (props: NodeProperties, resourceType: 'model' | 'seed' | 'snapshot') => {
    const uid = `${resourceType}.${pkg}.${props.name}`;
    const target = nodes[uid];
    if (!target) {
      if (!disabled[uid]) {
        warnings.push(
          new TsdbtError('patch-unknown-node', `${props.file} describes ${resourceType} '${props.name}', which does not exist`, {
            file: props.file,
            line: props.line,
            hint: `check the spelling${suggest(props.name, [...byName.keys()])}`,
          }),
        );
      }
      return;
    }
    const folder = folderParts(target.path);
    const attached = { resourceType, name: props.name, uid, folder };
    addGenericTests(props.tests, { file: props.file, line: props.line }, attached, null);
    for (const col of props.columns) {
      addGenericTests(col.tests, { file: props.file, line: (col as ColumnProperties & { line?: number }).line ?? props.line }, attached, col.name, col.quote === true);
    }
  };
  for (const p of properties.models) testsFor(p, 'model');
  for (const p of properties.seeds) testsFor(p, 'seed');
  for (const p of properties.snapshots) testsFor(p, 'snapshot');
  for (const s of properties.sources) {
    for (const t of s.tables) {
      const uid = `source.${pkg}.${s.name}.${t.name}`;
      if (!sources[uid]) continue;
      const attached = { resourceType: 'source', name: t.name, sourceName: s.name, uid, folder: [] as string[] };
      addGenericTests(t.tests, { file: s.file, line: t.line }, attached, null);
      for (const col of t.columns) addGenericTests(col.tests, { file: s.file, line: (col as ColumnProperties & { line?: number }).line ?? t.line }, attached, col.name, col.quote === true);
    }
  }

  // ---- link refs and sources ----
  const refNames = [...byName.keys()];
  const sourceNames = Object.values(sources).map((s) => `${s.source_name}.${s.name}`);
  const disabledNames = new Set(Object.values(disabled).flat().map((n) => n.name));
  for (const node of Object.values(nodes)) {
    const deps: string[] = [];
    for (const r of node.refs) {
      const uid = byName.get(r.name)?.[0];
      if (uid && (!r.package || r.package === pkg || r.package === nodes[uid].package_name)) {
        deps.push(uid);
        continue;
      }
      const isDisabled = disabledNames.has(r.name);
      diags.error(
        new TsdbtError(
          isDisabled ? 'ref-disabled' : 'ref-not-found',
          isDisabled
            ? `${node.resource_type} '${node.name}' refers to '${r.name}', which is disabled`
            : `${node.resource_type} '${node.name}' refers to '${r.package ? r.package + '.' : ''}${r.name}', which does not exist`,
          {
            file: node.original_file_path,
            line: r.line,
            hint: isDisabled
              ? `enable '${r.name}' (config enabled: true) or remove the ref`
              : `check the name${suggest(r.name, refNames)}; models, seeds and snapshots are referred to by file name without extension`,
          },
        ),
      );
    }
    for (const [s, t] of node.sources) {
      const uid = `source.${pkg}.${s}.${t}`;
      if (sources[uid]) {
        deps.push(uid);
        continue;
      }
      diags.error(
        new TsdbtError('source-not-found', `${node.resource_type} '${node.name}' uses source('${s}', '${t}'), which is not declared`, {
          file: node.original_file_path,
          line: lineOf(node.raw_code, new RegExp(`source\\s*\\(\\s*['"]${escapeRe(s)}['"]`)) ?? (node as ManifestNode & { line?: number }).line,
          hint: `declare it under sources: in a .yml file in a model path${suggest(`${s}.${t}`, sourceNames)}`,
        }),
      );
    }
    node.depends_on.nodes = uniq(deps);
  }

  diags.throwIfErrors();
  pp.save();
  const manifest: Manifest = {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      dbt_version: '1.8.0',
      generated_at: new Date().toISOString(),
      invocation_id: opts.invocationId,
      env: {},
      project_name: pkg,
      project_id: createHash('md5').update(pkg).digest('hex'),
      adapter_type: 'postgres',
    },
    nodes,
    sources,
    macros,
    docs,
    exposures: {},
    metrics: {},
    groups: {},
    selectors: {},
    disabled: disabled as Record<string, unknown[]>,
    parent_map: {},
    child_map: {},
    group_map: {},
    saved_queries: {},
    semantic_models: {},
    unit_tests: {},
  };
  return { manifest, jinja, staticCalls, warnings: [...(properties.warnings ?? []), ...warnings, ...diags.warnings], database, partialParse: pp.stats };
}

/** A one-way fingerprint of an environment variable's value (null when unset): the cache never stores values. */
function envFingerprint(v: string | undefined): string | null {
  return v === undefined ? null : createHash('sha256').update(v).digest('hex').slice(0, 16);
}

/** The fields every node read from its own file shares (dbt's `package_name`, paths, code, checksum). */
function fileNodeBase(pkg: string, f: ProjectFile, name: string, fqn: string[], raw: string, checksum: string) {
  return {
    package_name: pkg,
    name,
    path: f.path,
    original_file_path: f.originalFilePath,
    abs_path: f.absPath,
    fqn,
    raw_code: raw,
    language: 'sql' as const,
    checksum: { name: 'sha256' as const, checksum },
  };
}

function testDefaults(config: NodeConfig): NodeConfig {
  return {
    enabled: true,
    materialized: 'test',
    severity: 'ERROR',
    store_failures: null,
    where: null,
    limit: null,
    fail_calc: 'count(*)',
    warn_if: '!= 0',
    error_if: '!= 0',
    tags: [],
    meta: {},
    ...config,
  };
}

function suggest(name: string, candidates: string[]): string {
  const close = closestNames(name, candidates, 3);
  return close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : '';
}
