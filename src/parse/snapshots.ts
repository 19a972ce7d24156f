/**
 * Snapshots (dbt's SCD type 2 resource), as dbt-core 1.x parses them:
 *
 * - SQL form: every `{% snapshot name %}…{% endsnapshot %}` block of a `.sql`
 *   file under snapshot-paths is one node (several per file are allowed, as
 *   dbt's `SnapshotParser` with its `BlockSearcher`). The node's `raw_code` is
 *   the block's body; its fqn includes the file name:
 *   `[project, ...folders, file name, snapshot name]` (dbt's `SnapshotParser.get_fqn`).
 * - YAML form (dbt ≥ 1.9): an entry under `snapshots:` in a properties file
 *   with `relation: ref('x')` or `relation: source('s', 't')` is a node whose
 *   code is `select * from {{ <relation> }}` (dbt's
 *   `_add_yaml_snapshot_nodes_to_manifest`); its fqn is
 *   `[project, ...folders of the .yml file, name]`.
 *
 * Config precedence as for models: dbt_project.yml `snapshots:` < the
 * properties entry's `config:` < the block's `config()`. Then dbt's
 * `SnapshotConfig.final_validate`: `strategy` and `unique_key` are required;
 * `timestamp` needs `updated_at` and no `check_cols`; `check` needs
 * `check_cols: all` or a list; `hard_deletes` is `ignore | invalidate |
 * new_record` and not set together with the older `invalidate_hard_deletes`.
 * `target_schema` / `target_database`, when set, replace the schema /
 * database as written (dbt's legacy fields); otherwise `schema` goes through
 * `generate_schema_name` as for models. A database other than the target's is
 * an error, as dbt-postgres's "Cross-db references not allowed".
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { TsdbtError, lineColumnAt } from '../errors.ts';
import type { NodeConfig, NodeProperties } from '../config/types.ts';
import { mergeConfig } from '../config/index.ts';
import { findTopLevelBlocks } from '../jinja/index.ts';
import { normaliseConfigKeys } from './jinja-context.ts';
import { JinjaRelation } from './relation.ts';
import { columnsFrom, folderParts, lineOf, sha256, stripExt, uniq } from './node-fields.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ProjectFile } from './discover.ts';
import type { ManifestNode } from './manifest.ts';

/** The `hard_deletes` values dbt knows. */
export const HARD_DELETES = ['ignore', 'invalidate', 'new_record'] as const;
export type HardDeletes = (typeof HARD_DELETES)[number];

/** The strategies tsdbt runs (dbt's built-in `snapshot_timestamp_strategy` and `snapshot_check_strategy`). */
export const SNAPSHOT_STRATEGIES = ['timestamp', 'check'] as const;

/** Where a snapshot was declared, for messages. */
interface Declared {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /** Line of the `config(` call in the file, when there is one. */
  readonly configLine?: number;
}

/**
 * Adds every snapshot (SQL blocks under snapshot-paths, YAML entries with
 * `relation:`) to the manifest. Errors (bad blocks, invalid config, render
 * errors) go to `b.diags` and the snapshot is left out.
 */
export function parseSnapshots(b: ManifestBuilder): void {
  const props = new Map<string, NodeProperties>();
  for (const p of b.properties.snapshots) props.set(p.name, p);
  const fromSql = new Set<string>();
  for (const f of b.files.snapshots) {
    let raw: string;
    try {
      raw = readFileSync(f.absPath, 'utf8');
    } catch {
      continue;
    }
    const checksum = sha256(raw);
    const blocks = b.diags.capture(() => findTopLevelBlocks(raw, f.originalFilePath));
    if (!blocks) continue;
    for (const block of blocks) {
      if (block.tag !== 'snapshot') continue;
      const name = block.name;
      if (!/^[A-Za-z_][\w]*$/.test(name)) {
        b.diags.error(
          new TsdbtError('snapshot-invalid', `a snapshot block needs a name: {% snapshot ${name || '<name>'} %}`, {
            file: f.originalFilePath,
            line: block.line,
            hint: 'write {% snapshot my_snapshot %} … {% endsnapshot %} with a name made of letters, digits and _',
          }),
        );
        continue;
      }
      const body = raw.slice(block.bodyStart, block.bodyEnd);
      const bodyLine = lineColumnAt(raw, block.bodyStart).line;
      const fqn = [b.pkg, ...folderParts(f.path), posix.basename(stripExt(f.path)), name];
      const cfgLine = lineOf(body, /\bconfig\s*\(/);
      fromSql.add(name);
      addSnapshot(b, {
        name,
        fqn,
        file: f,
        raw: body,
        checksum,
        props: props.get(name),
        declared: { name, file: f.originalFilePath, line: block.line, configLine: cfgLine === undefined ? undefined : bodyLine + cfgLine - 1 },
      });
    }
  }
  for (const p of b.properties.snapshots) {
    if (p.relation === undefined) {
      if (!fromSql.has(p.name)) {
        b.warnings.push(
          new TsdbtError('snapshot-patch-unmatched', `properties for snapshot '${p.name}' match no snapshot`, {
            file: p.file,
            line: p.line,
            hint: `define {% snapshot ${p.name} %} in a .sql file under snapshot-paths, or add relation: ref('…') to define it in YAML (dbt ≥ 1.9)`,
          }),
        );
      }
      continue;
    }
    const relation = String(p.relation).trim();
    if (!/^(ref|source)\s*\(\s*(['"])[^'"]*\2(\s*,\s*(['"])[^'"]*\4)?\s*\)$/.test(relation)) {
      b.diags.error(
        new TsdbtError('snapshot-invalid', `relation of snapshot '${p.name}' must be a ref() or source() call, got ${JSON.stringify(p.relation)}`, {
          file: p.file,
          line: p.line,
          hint: "write relation: ref('my_model') or relation: source('my_source', 'my_table')",
        }),
      );
      continue;
    }
    const f = propertiesFile(b, p.file);
    const fqn = [b.pkg, ...folderParts(f.path), p.name];
    addSnapshot(b, {
      name: p.name,
      fqn,
      file: f,
      raw: `select * from {{ ${relation} }}`,
      checksum: sha256(`${p.file}\u0000${p.name}\u0000${relation}\u0000${JSON.stringify(p.config ?? {})}`),
      props: p,
      declared: { name: p.name, file: p.file, line: p.line },
    });
  }
}

/** The properties file `file` (project-relative) as a ProjectFile under its resource path. */
function propertiesFile(b: ManifestBuilder, file: string): ProjectFile {
  const { project } = b;
  const dirs = [...project.snapshotPaths, ...project.modelPaths, ...project.seedPaths, ...project.analysisPaths];
  for (const d of dirs) {
    const prefix = posix.normalize(d.replace(/\\/g, '/').replace(/\/$/, ''));
    if (prefix === '.' || file.startsWith(`${prefix}/`)) {
      return { absPath: posix.join(project.root, file), originalFilePath: file, path: prefix === '.' ? file : file.slice(prefix.length + 1), resourcePath: d };
    }
  }
  return { absPath: posix.join(project.root, file), originalFilePath: file, path: file, resourcePath: '' };
}

interface SnapshotInput {
  readonly name: string;
  readonly fqn: string[];
  readonly file: ProjectFile;
  readonly raw: string;
  readonly checksum: string;
  readonly props?: NodeProperties;
  readonly declared: Declared;
}

function addSnapshot(b: ManifestBuilder, s: SnapshotInput): void {
  const { diags, database, target, pkg } = b;
  let config = b.projectConfig(b.project.snapshots, s.fqn);
  if (s.props?.config) config = mergeConfig(config, normaliseConfigKeys(s.props.config as Record<string, unknown>));
  if (s.props?.meta) config = mergeConfig(config, { meta: s.props.meta });
  if (s.props?.tags) config = mergeConfig(config, { tags: s.props.tags });
  const self = new JinjaRelation({ database, schema: target.schema, identifier: s.name });
  const c = b.render.capture(s.raw, s.declared.file, config, self);
  if (!c) return;
  const fileConfig = c.config;
  b.checkFileConfig(fileConfig, s.declared.file, s.raw);
  config = mergeConfig(config, fileConfig);
  // A package's snapshot: the root project's `snapshots: <package>:` tree applies last, as for its models.
  config = mergeConfig(config, b.rootOverride('snapshots', s.fqn));
  const defaults: NodeConfig = {
    enabled: true,
    materialized: 'snapshot',
    tags: [],
    meta: {},
    persist_docs: {},
    quoting: {},
    column_types: {},
    grants: {},
    packages: [],
    docs: { show: true, node_color: null },
    contract: { enforced: false, alias_types: true },
    strategy: null,
    unique_key: null,
    target_schema: null,
    target_database: null,
    updated_at: null,
    check_cols: null,
    snapshot_meta_column_names: {},
    dbt_valid_to_current: null,
  };
  config = { ...defaults, ...config };
  if (typeof config.tags === 'string') config.tags = [config.tags];
  if (config.enabled !== false) {
    const problem = snapshotConfigProblem(config);
    if (problem) {
      diags.error(
        new TsdbtError('snapshot-config-invalid', `snapshot '${s.name}': ${problem.message}`, {
          file: s.declared.file,
          line: s.declared.configLine ?? s.declared.line,
          hint: problem.hint,
        }),
      );
      return;
    }
  }
  const base = { name: s.name, resource_type: 'snapshot', fqn: s.fqn, original_file_path: s.declared.file } as const;
  const names = diags.capture(() => b.naming(base, config));
  if (!names) return;
  // dbt's legacy target_schema / target_database replace the generated names as written.
  const schema = typeof config.target_schema === 'string' && config.target_schema ? config.target_schema : names.schema;
  const db = typeof config.target_database === 'string' && config.target_database ? config.target_database : names.database;
  if (db !== database) {
    // dbt-postgres: "Cross-db references not allowed": a Postgres connection reaches one database.
    diags.error(
      new TsdbtError('snapshot-config-invalid', `snapshot '${s.name}': target_database '${db}' is not the target's database '${database}' (PostgreSQL cannot write across databases)`, {
        file: s.declared.file,
        line: s.declared.configLine ?? s.declared.line,
        hint: `remove target_database (or set it to '${database}'), or point the profile target at database '${db}'`,
      }),
    );
    return;
  }
  const finalNames = { schema, alias: names.alias, database: db };
  const tags = uniq([...((config.tags as string[]) ?? [])]);
  const props = s.props;
  const node: ManifestNode = {
    unique_id: `snapshot.${pkg}.${s.name}`,
    resource_type: 'snapshot',
    package_name: pkg,
    name: s.name,
    path: s.file.path,
    original_file_path: s.declared.file,
    abs_path: s.file.absPath,
    fqn: s.fqn,
    raw_code: s.raw,
    language: 'sql',
    checksum: { name: 'sha256', checksum: s.checksum },
    config: { ...config, tags },
    tags,
    description: b.renderDocs(props?.description ?? '', props?.file, props?.line),
    columns: columnsFrom(props?.columns, (t, line) => b.renderDocs(t, props?.file, line ?? props?.line)),
    meta: (config.meta as Record<string, unknown>) ?? {},
    docs: { show: props?.docs?.show ?? true, node_color: null },
    patch_path: props ? `${pkg}://${props.file}` : null,
    database: finalNames.database,
    schema: finalNames.schema,
    alias: finalNames.alias,
    relation_name: b.relationName(finalNames),
    depends_on: { nodes: [], macros: [] },
    refs: c.refs.map((r) => ({ ...r })),
    sources: c.sources.map((x) => [...x] as [string, string]),
    created_at: b.now,
    unrendered_config: fileConfig as Record<string, unknown>,
  };
  b.register(node);
}

/**
 * dbt's snapshot config rules (`SnapshotConfig.final_validate` and
 * `get_hard_deletes_behavior`), plus what tsdbt does not run: a custom
 * strategy is `[unsupported]`. Undefined when the config is valid.
 */
export function snapshotConfigProblem(config: NodeConfig): { message: string; hint: string } | undefined {
  const strategy = config.strategy;
  const uk = config.unique_key;
  if (!strategy || uk === null || uk === undefined || uk === '' || (Array.isArray(uk) && uk.length === 0)) {
    return {
      message: "Snapshots must be configured with a 'strategy' and 'unique_key'.",
      hint: "e.g. {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }} or strategy='check', check_cols=['status']",
    };
  }
  if (typeof uk !== 'string' && !(Array.isArray(uk) && uk.every((k) => typeof k === 'string'))) {
    return { message: `unique_key must be a column, an expression or a list of columns, got ${JSON.stringify(uk)}`, hint: "e.g. unique_key='id' or unique_key=['id', 'day']" };
  }
  const checkCols = config.check_cols;
  if (strategy === 'check') {
    if (!checkCols || (Array.isArray(checkCols) && checkCols.length === 0)) {
      return { message: 'A snapshot configured with the check strategy must specify a check_cols configuration.', hint: "set check_cols='all' or check_cols=['status', 'amount']" };
    }
    if (typeof checkCols === 'string' && checkCols !== 'all') {
      return { message: `Invalid value for 'check_cols': ${checkCols}. Expected 'all' or a list of strings.`, hint: `write check_cols=['${checkCols}'] for one column` };
    }
    if (typeof checkCols !== 'string' && !(Array.isArray(checkCols) && checkCols.every((c) => typeof c === 'string'))) {
      return { message: `Invalid value for 'check_cols': ${JSON.stringify(checkCols)}. Expected 'all' or a list of strings.`, hint: "e.g. check_cols=['status', 'amount']" };
    }
  } else if (strategy === 'timestamp') {
    if (!config.updated_at) {
      return { message: 'A snapshot configured with the timestamp strategy must specify an updated_at configuration.', hint: "set updated_at='<the column holding the row's last change time>'" };
    }
    if (checkCols) return { message: "A 'timestamp' snapshot should not have 'check_cols'", hint: 'remove check_cols, or use strategy=\'check\'' };
  } else {
    return {
      message: `[unsupported] custom snapshot strategy '${String(strategy)}': tsdbt runs the built-in 'timestamp' and 'check' strategies only`,
      hint: "use strategy='timestamp' (with updated_at) or strategy='check' (with check_cols)",
    };
  }
  if (config.materialized && config.materialized !== 'snapshot') {
    return { message: "A snapshot must have a materialized value of 'snapshot'", hint: 'remove the materialized config from the snapshot' };
  }
  const hd = config.hard_deletes;
  const legacy = config.invalidate_hard_deletes;
  if (hd !== null && hd !== undefined && legacy !== null && legacy !== undefined) {
    return { message: 'You cannot set both the invalidate_hard_deletes and hard_deletes config properties on the same snapshot.', hint: "keep hard_deletes (dbt ≥ 1.9): hard_deletes='invalidate' replaces invalidate_hard_deletes=true" };
  }
  if (hd !== null && hd !== undefined && !(HARD_DELETES as readonly unknown[]).includes(hd)) {
    return { message: `Invalid setting for property hard_deletes: ${JSON.stringify(hd)}.`, hint: `use one of ${HARD_DELETES.map((h) => `'${h}'`).join(', ')}` };
  }
  const names = config.snapshot_meta_column_names;
  if (names !== null && names !== undefined) {
    if (typeof names !== 'object' || Array.isArray(names)) {
      return { message: 'snapshot_meta_column_names must be a mapping', hint: 'e.g. snapshot_meta_column_names: {dbt_valid_from: start_date, dbt_valid_to: end_date}' };
    }
    for (const [k, v] of Object.entries(names as Record<string, unknown>)) {
      if (!['dbt_valid_from', 'dbt_valid_to', 'dbt_scd_id', 'dbt_updated_at', 'dbt_is_deleted'].includes(k)) {
        return { message: `unknown key '${k}' in snapshot_meta_column_names`, hint: 'the keys are dbt_valid_from, dbt_valid_to, dbt_scd_id, dbt_updated_at and dbt_is_deleted' };
      }
      if (v !== null && (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(v))) {
        return { message: `snapshot_meta_column_names.${k} must be a plain column name, got ${JSON.stringify(v)}`, hint: 'use letters, digits and _ (dbt writes these names unquoted)' };
      }
    }
  }
  return undefined;
}
