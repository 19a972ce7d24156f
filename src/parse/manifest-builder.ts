/**
 * The Manifest being built: the maps of nodes, sources, macros and docs the
 * per-resource parsers (models.ts, seeds.ts, sources.ts, …) add to, the
 * Diagnostics collector, and the rules they share: config precedence from
 * dbt_project.yml, schema/alias/database naming (dbt's
 * `generate_schema_name` / `generate_alias_name` / `generate_database_name`,
 * overridable by the project's own macros), `{{ doc() }}` in descriptions,
 * and dbt's unique-name rule.
 */
import type { Exposure, SemanticEntry } from './exposures.ts';
import type { Group } from './groups.ts';
import { createHash } from 'node:crypto';
import { DBT_VERSION } from '../dbt-version.ts';
import { TsdbtError, type Diagnostics } from '../errors.ts';
import type { NodeConfig, ProjectConfig, Properties, TargetConfig } from '../config/types.ts';
import { resolveNodeConfig, KNOWN_CONFIG_KEYS, suggestConfigKey } from '../config/index.ts';
import type { JinjaEnv } from '../jinja/index.ts';
import { closestNames } from '../closest-names.ts';
import type { ProjectFile, ProjectFiles } from './discover.ts';
import type { InstalledPackage } from './packages.ts';
import { NameLookup, packagesToSearch } from './ref-lookup.ts';
import type { StaticCall } from './static-extract.ts';
import type { PartialParse } from './partial-parse.ts';
import type { ParseRenderer } from './parse-render.ts';
import { quoteIdent } from './relation.ts';
import { lineOf } from './node-fields.ts';
import { lookupKeys } from './model-versions.ts';
import type { Documentation, Macro, Manifest, ManifestNode, SourceDefinition } from './manifest.ts';

/** Resource types `ref()` can name; their names must be unique in a project (as dbt). */
const REFABLE = new Set(['model', 'seed', 'snapshot']);

/** A node's relation naming: where it is built. */
export interface NodeNames {
  readonly schema: string;
  readonly alias: string;
  readonly database: string;
}

/** What the builder starts from: the project, the files found, and what docs/macros parsing produced. */
export interface ManifestBuilderInput {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  /** `--vars`, already parsed. */
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly env: NodeJS.ProcessEnv;
  /** The database relations are qualified with. */
  readonly database: string;
  /** Seconds since the epoch: every node's `created_at`. */
  readonly now: number;
  readonly diags: Diagnostics;
  readonly files: ProjectFiles;
  readonly jinja: JinjaEnv;
  readonly pp: PartialParse;
  readonly properties: Properties;
  readonly docs: Record<string, Documentation>;
  readonly macros: Record<string, Macro>;
  readonly renderer: ParseRenderer;
  /** Use the static fast path for simple models (dbt's static parser); default true. */
  readonly staticParser?: boolean;
}

/**
 * Holds the Manifest under construction. Parsers call `register(node)` for
 * nodes (disabled ones are set aside, duplicates are errors), write sources
 * into `sources`, and report problems to `diags` (errors) or `warnings`.
 */
export class ManifestBuilder {
  /**
   * The project being parsed: the root project, or (between {@link enterPackage} and
   * {@link leavePackage}) an installed package, whose nodes get its name as `package_name`.
   */
  project: ProjectConfig;
  readonly target: TargetConfig;
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly env: NodeJS.ProcessEnv;
  /** The name of the project being parsed (its nodes' `package_name`): the root project's, or a package's. */
  pkg: string;
  /** The root project. */
  readonly rootProject: ProjectConfig;
  /** The root project's name. */
  readonly rootPkg: string;
  readonly database: string;
  readonly now: number;
  readonly diags: Diagnostics;
  /** The files of the project being parsed. */
  files: ProjectFiles;
  readonly jinja: JinjaEnv;
  readonly pp: PartialParse;
  /** The properties (schema .yml) of the project being parsed. */
  properties: Properties;
  readonly render: ParseRenderer;
  /** Whether simple models skip nunjucks (static-extract.ts); false renders every model. */
  readonly staticParser: boolean;
  /** package name → its folder relative to the root project (`dbt_packages/x`), for messages. */
  readonly packageDirs = new Map<string, string>();
  /** Refable names (enabled nodes) by package, in registration order (dbt's ref lookup). */
  readonly refLookup = new NameLookup();
  /** Refable names of disabled nodes by package (dbt's disabled lookup). */
  readonly disabledLookup = new NameLookup();
  /** `source_name.table` by package. */
  readonly sourceLookup = new NameLookup();
  /** relation_name → unique_id of the node built there (dbt's AmbiguousAliasError check). */
  private readonly relations = new Map<string, string>();
  /** Where the current package's diagnostics start (see leavePackage). */
  private packageMark: { errors: number; warnings: number; own: number; dir: string } | null = null;

  readonly docs: Record<string, Documentation>;
  readonly macros: Record<string, Macro>;
  readonly nodes: Record<string, ManifestNode> = {};
  readonly disabled: Record<string, ManifestNode[]> = {};
  readonly sources: Record<string, SourceDefinition> = {};
  /** Groups (groups.ts), keyed `group.<pkg>.<name>`. */
  readonly groups: Record<string, Group> = {};
  /** Installed packages' dbt_project.yml by name, as they are entered. */
  private readonly enteredProjects = new Map<string, ProjectConfig>();
  /** Exposures (exposures.ts), keyed `exposure.<pkg>.<name>`. */
  readonly exposures: Record<string, Exposure> = {};
  /** Semantic models, metrics, saved queries (exposures.ts), by manifest key. */
  readonly semanticEntries: { semantic_models: Record<string, SemanticEntry>; metrics: Record<string, SemanticEntry>; saved_queries: Record<string, SemanticEntry> } = {
    semantic_models: {},
    metrics: {},
    saved_queries: {},
  };
  /** unique_id → the static fast-path calls, for nodes that need no full render. */
  readonly staticCalls = new Map<string, readonly StaticCall[]>();
  /**
   * ref() lookup key → unique_ids (of every package): a node's name, and for a versioned model
   * `name.v<version>` (the latest version is also found by its name); see model-versions.ts
   * `lookupKeys`. `refLookup` holds the same keys per package.
   */
  readonly byName = new Map<string, string[]>();
  /** Versioned model name → the unique_ids of its versions, in registration order. */
  readonly versionsByName = new Map<string, string[]>();
  /** Warnings in the order found (after the properties loader's own). */
  readonly warnings: TsdbtError[] = [];

  private readonly seenConfigWarnings = new Set<TsdbtError>();
  private readonly customSchemaMacro: boolean;
  private readonly customAliasMacro: boolean;
  private readonly customDatabaseMacro: boolean;

  constructor(input: ManifestBuilderInput) {
    this.project = input.project;
    this.rootProject = input.project;
    this.rootPkg = input.project.name;
    this.target = input.target;
    this.cliVars = input.cliVars;
    this.invocationId = input.invocationId;
    this.env = input.env;
    this.pkg = input.project.name;
    this.database = input.database;
    this.now = input.now;
    this.diags = input.diags;
    this.files = input.files;
    this.jinja = input.jinja;
    this.pp = input.pp;
    this.properties = input.properties;
    this.docs = input.docs;
    this.macros = input.macros;
    this.render = input.renderer;
    this.staticParser = input.staticParser ?? true;
    // A project's generate_x_name, or its default__/postgres__ implementation (dispatch finds those first), is called;
    // dbt's own default__ forms are computed without a render.
    const ownMacro = (n: string) => Object.values(this.macros).some((m) => m.package_name === this.pkg && (m.name === n || m.name === `default__${n}` || m.name === `postgres__${n}`));
    this.customSchemaMacro = ownMacro('generate_schema_name');
    this.customAliasMacro = ownMacro('generate_alias_name');
    this.customDatabaseMacro = ownMacro('generate_database_name');
  }

  /** `; did you mean 'x'?` for the candidates closest to `name`, or ''. */
  suggest(name: string, candidates: string[]): string {
    const close = closestNames(name, candidates, 3);
    return close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : '';
  }

  /** Replaces each `{{ doc('name') }}` in a description by the docs block; an unknown block is an error. */
  renderDocs(text: string, file?: string, line?: number): string {
    if (!text || !text.includes('{{')) return text;
    const { docs } = this;
    return text.replace(/\{\{\s*doc\(\s*(?:['"]([^'"]+)['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)\s*\}\}/g, (_m, docPkg: string | undefined, name: string) => {
      // As dbt's resolve_doc: the named package, else the root project, this node's package, then any.
      let d: Documentation | undefined;
      for (const p of packagesToSearch(this.rootPkg, this.pkg, docPkg ?? null)) {
        d = p === null ? Object.values(docs).find((x) => x.name === name) : docs[`doc.${p}.${name}`];
        if (d) break;
      }
      if (!d) {
        this.diags.error(
          new TsdbtError('doc-not-found', `doc('${name}') refers to a docs block that does not exist`, {
            file,
            line,
            hint: `define {% docs ${name} %}…{% enddocs %} in a .md file under a docs path${this.suggest(name, Object.values(docs).map((x) => x.name))}`,
          }),
        );
        return '';
      }
      return d.block_contents;
    });
  }

  /**
   * Parses an installed package from here until {@link leavePackage}: its nodes get
   * `package_name` `p.name`, its dbt_project.yml trees and vars apply, and the
   * errors and warnings found meanwhile name its files from the root project
   * (`dbt_packages/p/models/x.sql`) while nodes keep paths relative to the package root, as dbt.
   */
  /** An installed package's dbt_project.yml (once entered), e.g. for its `restrict-access`. */
  packageProject(name: string): ProjectConfig | undefined {
    return this.enteredProjects.get(name);
  }

  enterPackage(p: InstalledPackage, properties: Properties): void {
    this.enteredProjects.set(p.name, p.project);
    this.project = p.project;
    this.pkg = p.name;
    this.files = p.files;
    this.properties = properties;
    this.packageDirs.set(p.name, p.dir);
    this.render.packageProject = p.project;
    this.packageMark = { errors: this.diags.errors.length, warnings: this.diags.warnings.length, own: this.warnings.length, dir: p.dir };
  }

  /** Back to the root project after {@link enterPackage}. */
  leavePackage(): void {
    const mark = this.packageMark;
    if (mark) {
      const fix = (list: TsdbtError[], from: number) => {
        for (let i = from; i < list.length; i++) list[i] = inPackageDir(list[i], mark.dir);
      };
      fix(this.diags.errors, mark.errors);
      fix(this.diags.warnings, mark.warnings);
      fix(this.warnings, mark.own);
    }
    this.packageMark = null;
    this.project = this.rootProject;
    this.pkg = this.rootPkg;
    this.render.packageProject = undefined;
  }

  /** A file of the project being parsed as the root project sees it (`dbt_packages/p/…` for a package's). */
  displayPath(file: string, pkg: string = this.pkg): string {
    const dir = this.packageDirs.get(pkg);
    return dir && pkg !== this.rootPkg ? `${dir}/${file}` : file;
  }

  /** The key partial parsing stores a file under (package files are kept apart from the root project's). */
  fileKey(f: ProjectFile): string {
    return this.displayPath(f.originalFilePath);
  }

  /**
   * For a node of an installed package: the config the ROOT project's tree (`models:`,
   * `seeds:`, … of the root dbt_project.yml) gives it, which dbt applies last, over the
   * package's own tree, its properties and its `config()` call
   * (`ContextConfigGenerator._active_project_configs`). `{}` for the root project's nodes.
   */
  rootOverride(kind: 'models' | 'seeds' | 'tests' | 'snapshots' | 'sources', fqn: string[]): NodeConfig {
    if (this.pkg === this.rootPkg) return {};
    return this.projectConfig(this.rootProject[kind], fqn);
  }

  /** The config dbt_project.yml gives the node at `fqn` under `tree`; unknown keys are warned about once. */
  projectConfig(tree: Record<string, unknown>, fqn: string[]): NodeConfig {
    const r = resolveNodeConfig(tree, this.pkg, fqn);
    // The same warning objects come back for every node under a folder: report each once.
    for (const w of r.unknownKeys ?? []) {
      if (this.seenConfigWarnings.has(w)) continue;
      this.seenConfigWarnings.add(w);
      this.warnings.push(w);
    }
    return r.config;
  }

  /**
   * Checks the keys and values a file's `config()` call set: an unknown key is a warning with a
   * suggestion (dbt keeps it as custom config, so a typo silently does nothing); a boolean setting
   * that is not true/false is an error. Both point at the line of the `config(` call.
   */
  checkFileConfig(fileConfig: NodeConfig, file: string, raw: string): void {
    const keys = Object.keys(fileConfig);
    if (!keys.length) return;
    const line = lineOf(raw, /\bconfig\s*\(/);
    for (const key of keys) {
      if (!KNOWN_CONFIG_KEYS.has(key)) {
        const suggestion = suggestConfigKey(key);
        this.warnings.push(
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
        this.diags.error(
          new TsdbtError('config-invalid', `config '${key}' must be true or false, got ${JSON.stringify(v)}`, {
            file,
            line,
            hint: `write ${key}=true or ${key}=false (without quotes)`,
          }),
        );
      }
    }
  }

  /**
   * Where a node is built: dbt's default `generate_schema_name` (`<target schema>_<custom>`)
   * and `generate_alias_name` (the node name), or the project's own macros of those names.
   * @throws TsdbtError when a naming macro fails.
   */
  naming(node: Pick<ManifestNode, 'name' | 'resource_type' | 'fqn' | 'original_file_path' | 'version'>, config: NodeConfig): NodeNames {
    const { target, database, jinja } = this;
    const custom = (config.schema ?? null) as string | null;
    let schema: string;
    const version = node.version ?? null;
    const nodeDict = { name: node.name, resource_type: node.resource_type, fqn: node.fqn, original_file_path: node.original_file_path, config, version };
    let ctx: Record<string, unknown> | undefined;
    const namingContext = () => (ctx ??= this.render.macroContext(node.original_file_path, nodeDict, config));
    if (this.customSchemaMacro) {
      schema = String(jinja.callMacro('generate_schema_name', [custom, nodeDict], {}, namingContext()) ?? '').trim();
    } else {
      schema = custom == null ? target.schema : `${target.schema}_${String(custom).trim()}`;
    }
    let alias = (config.alias ?? null) as string | null;
    if (this.customAliasMacro) {
      alias = String(jinja.callMacro('generate_alias_name', [alias, nodeDict], {}, namingContext()) ?? '').trim();
    }
    let db = (config.database ?? null) as string | null;
    if (this.customDatabaseMacro) {
      // Postgres cannot cross databases; the macro's answer is recorded but relations stay in the target database.
      db = String(jinja.callMacro('generate_database_name', [db, nodeDict], {}, namingContext()) ?? database).trim();
    }
    // dbt's default__generate_alias_name: a versioned model is built as `<name>_v<version>` (dots → `_`).
    const defaultAlias = version !== null && version !== '' ? `${node.name}_v${String(version).replace(/\./g, '_')}` : node.name;
    return { schema, alias: alias || defaultAlias, database: db || database };
  }

  /** `"database"."schema"."alias"`. */
  relationName(n: NodeNames): string {
    return `${quoteIdent(n.database)}.${quoteIdent(n.schema)}.${quoteIdent(n.alias)}`;
  }

  /**
   * Adds a node: a disabled one goes to `disabled`; a second node with the same unique_id, or a
   * model/seed/snapshot whose name is taken in the same package, is a `duplicate-node` error (dbt
   * requires unique names within a package; two packages may each have a model `x`). Two nodes
   * built as the same relation are an `ambiguous-relation` error (dbt's AmbiguousAliasError).
   */
  register(node: ManifestNode): void {
    const { nodes, byName } = this;
    if (node.config.enabled === false) {
      (this.disabled[node.unique_id] ??= []).push(node);
      if (REFABLE.has(node.resource_type)) for (const k of lookupKeys(node)) this.disabledLookup.add(k, node.package_name, node.unique_id);
      return;
    }
    const existing = nodes[node.unique_id];
    if (existing) {
      this.diags.error(
        new TsdbtError('duplicate-node', `two ${node.resource_type}s are named '${node.name}': ${existing.original_file_path} and ${node.original_file_path}`, {
          file: node.original_file_path,
          hint: 'dbt requires unique names for models, seeds and snapshots in a project: rename one of the files',
        }),
      );
      return;
    }
    if (REFABLE.has(node.resource_type)) {
      const keys = lookupKeys(node);
      const versioned = node.version !== undefined && node.version !== null;
      const samePkg = (id: string | undefined) => (id !== undefined && nodes[id]?.package_name === node.package_name ? id : undefined);
      // Names are unique within a package: an unversioned node may not share its name with a versioned model,
      // nor two nodes one lookup key.
      const same =
        keys.map((k) => this.refLookup.find(k, node.package_name)).find((x) => x !== undefined) ??
        (!versioned ? this.versionsByName.get(node.name)?.find((id) => samePkg(id)) : undefined) ??
        (versioned ? byName.get(node.name)?.find((id) => samePkg(id) && (nodes[id]?.version === undefined || nodes[id]?.version === null)) : undefined);
      if (same) {
        const o = nodes[same];
        this.diags.error(
          new TsdbtError('duplicate-node', `'${node.name}' is defined twice: ${o.original_file_path} (${o.resource_type}) and ${node.original_file_path} (${node.resource_type})`, {
            file: node.original_file_path,
            hint: 'names of models, seeds and snapshots must be unique in a project: rename one of them',
          }),
        );
        return;
      }
      if (node.relation_name) {
        const other = this.relations.get(node.relation_name);
        if (other) {
          const o = nodes[other];
          this.diags.error(
            new TsdbtError(
              'ambiguous-relation',
              `${o.unique_id} (${this.displayPath(o.original_file_path, o.package_name)}) and ${node.unique_id} (${this.displayPath(node.original_file_path, node.package_name)}) would both be built as ${node.relation_name}`,
              {
                file: node.original_file_path,
                hint: 'dbt cannot create two resources with identical database representations: give one of them another alias or schema (e.g. models: <package>: +alias / +schema in dbt_project.yml), or disable one',
              },
            ),
          );
          return;
        }
        this.relations.set(node.relation_name, node.unique_id);
      }
      for (const k of keys) {
        this.refLookup.add(k, node.package_name, node.unique_id);
        const list = byName.get(k);
        if (list) list.push(node.unique_id);
        else byName.set(k, [node.unique_id]);
      }
      if (versioned) {
        const list = this.versionsByName.get(node.name);
        if (list) list.push(node.unique_id);
        else this.versionsByName.set(node.name, [node.unique_id]);
      }
    }
    nodes[node.unique_id] = node;
  }

  /** The finished Manifest (dbt manifest v12), `generated_at` now. */
  toManifest(): Manifest {
    const pkg = this.rootPkg;
    return {
      metadata: {
        dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
        dbt_version: DBT_VERSION,
        generated_at: new Date().toISOString(),
        invocation_id: this.invocationId,
        env: {},
        project_name: pkg,
        project_id: createHash('md5').update(pkg).digest('hex'),
        adapter_type: 'postgres',
      },
      nodes: this.nodes,
      sources: this.sources,
      macros: this.macros,
      docs: this.docs,
      exposures: this.exposures,
      metrics: this.semanticEntries.metrics,
      groups: this.groups,
      selectors: {},
      disabled: this.disabled as Record<string, unknown[]>,
      parent_map: {},
      child_map: {},
      group_map: {},
      saved_queries: this.semanticEntries.saved_queries,
      semantic_models: this.semanticEntries.semantic_models,
      unit_tests: {},
    };
  }
}

/** `e` with its file seen from the root project (`<dir>/<file>`), for a diagnostic found in a package. */
export function inPackageDir(e: TsdbtError, dir: string): TsdbtError {
  if (!e.file || e.file.startsWith(`${dir}/`)) return e;
  return new TsdbtError(e.code, e.message, { file: `${dir}/${e.file}`, line: e.line, column: e.column, hint: e.hint, kind: e.kind, cause: e.cause });
}
