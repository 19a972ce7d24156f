/**
 * Test helper: builds small Manifests by hand for graph tests.
 *
 *   const m = new ManifestBuilder('shop')
 *     .source('raw', 'orders')
 *     .model('stg_orders', { dir: 'staging', sources: [['raw', 'orders']] })
 *     .model('orders', { refs: ['stg_orders'] })
 *     .genericTest('unique', 'orders', 'id')
 *     .build();
 */
import type { NodeConfig } from '../config/types.ts';
import type { Manifest, ManifestNode, SourceDefinition, TestMetadata } from '../parse/manifest.ts';

type NodeKind = 'model' | 'seed' | 'snapshot' | 'analysis' | 'test';

export interface NodeSpec {
  /** Folder under the resource path, e.g. 'staging' or 'marts/core'. */
  dir?: string;
  /** Names of models/seeds/snapshots this node refs. */
  refs?: string[];
  sources?: [string, string][];
  tags?: string[];
  config?: NodeConfig;
  description?: string;
  columns?: Record<string, { description?: string; data_type?: string }>;
  checksum?: string;
  package?: string;
  macros?: string[];
  testMetadata?: TestMetadata;
  attachedNode?: string;
  columnName?: string;
  rawCode?: string;
}

const RESOURCE_DIRS: Record<NodeKind, string> = {
  model: 'models',
  seed: 'seeds',
  snapshot: 'snapshots',
  analysis: 'analyses',
  test: 'tests',
};

interface Pending {
  kind: NodeKind;
  name: string;
  spec: NodeSpec;
}

export class ManifestBuilder {
  private readonly pending: Pending[] = [];
  private readonly sourceDefs: SourceDefinition[] = [];
  private readonly macroDefs: Manifest['macros'] = {};

  constructor(readonly project = 'proj') {}

  source(sourceName: string, table: string, opts: { dir?: string; tags?: string[]; description?: string; package?: string } = {}): this {
    const pkg = opts.package ?? this.project;
    const file = `models/${opts.dir ? opts.dir + '/' : ''}sources.yml`;
    this.sourceDefs.push({
      unique_id: `source.${pkg}.${sourceName}.${table}`,
      resource_type: 'source',
      package_name: pkg,
      name: table,
      source_name: sourceName,
      source_description: '',
      identifier: table,
      database: 'db',
      schema: sourceName,
      relation_name: `"db"."${sourceName}"."${table}"`,
      description: opts.description ?? '',
      loader: '',
      loaded_at_field: null,
      columns: {},
      meta: {},
      source_meta: {},
      tags: opts.tags ?? [],
      config: { enabled: true },
      path: file.replace(/^models\//, ''),
      original_file_path: file,
      fqn: [pkg, ...(opts.dir ? opts.dir.split('/') : []), sourceName, table],
      patch_path: null,
      created_at: 0,
    });
    return this;
  }

  model(name: string, spec: NodeSpec = {}): this {
    this.pending.push({ kind: 'model', name, spec });
    return this;
  }
  seed(name: string, spec: NodeSpec = {}): this {
    this.pending.push({ kind: 'seed', name, spec });
    return this;
  }
  snapshot(name: string, spec: NodeSpec = {}): this {
    this.pending.push({ kind: 'snapshot', name, spec });
    return this;
  }
  analysis(name: string, spec: NodeSpec = {}): this {
    this.pending.push({ kind: 'analysis', name, spec });
    return this;
  }
  /** A singular data test (a .sql file under tests/). */
  singularTest(name: string, spec: NodeSpec = {}): this {
    this.pending.push({ kind: 'test', name, spec });
    return this;
  }
  /**
   * A generic data test, named as dbt names them (`unique_orders_id`).
   * `on` is a model name, or several for e.g. relationships (first = attached node).
   */
  genericTest(test: string, on: string | string[], column?: string, extra: NodeSpec = {}): this {
    const models = Array.isArray(on) ? on : [on];
    const name = [test, models[0], column].filter(Boolean).join('_');
    this.pending.push({
      kind: 'test',
      name,
      spec: {
        dir: undefined,
        ...extra,
        refs: models,
        testMetadata: { name: test, kwargs: { column_name: column ?? null }, namespace: null },
        attachedNode: models[0],
        columnName: column,
      },
    });
    return this;
  }

  macro(name: string, sql: string, dependsOn: string[] = []): this {
    const id = `macro.${this.project}.${name}`;
    this.macroDefs[id] = {
      unique_id: id,
      name,
      package_name: this.project,
      path: `macros/${name}.sql`,
      original_file_path: `macros/${name}.sql`,
      macro_sql: sql,
      depends_on: { macros: dependsOn.map((m) => `macro.${this.project}.${m}`) },
      description: '',
      meta: {},
      arguments: [],
      created_at: 0,
    };
    return this;
  }

  build(): Manifest {
    const ids = new Map<string, string>();
    for (const p of this.pending) {
      const pkg = p.spec.package ?? this.project;
      const tail = p.kind === 'test' && p.spec.testMetadata ? `${p.name}` : p.name;
      ids.set(p.name, `${p.kind}.${pkg}.${tail}`);
    }
    const nodes: Record<string, ManifestNode> = {};
    for (const p of this.pending) {
      const s = p.spec;
      const pkg = s.package ?? this.project;
      const id = ids.get(p.name)!;
      const dirParts = s.dir ? s.dir.split('/') : [];
      const generic = p.kind === 'test' && s.testMetadata;
      const ext = p.kind === 'seed' ? 'csv' : generic ? 'yml' : 'sql';
      const relPath = generic ? `${s.dir ? s.dir + '/' : ''}schema.yml` : [...dirParts, `${p.name}.${ext}`].join('/');
      const origDir = generic ? 'models' : RESOURCE_DIRS[p.kind];
      const refIds = (s.refs ?? []).map((r) => {
        const rid = ids.get(r);
        if (!rid) throw new Error(`fixture: ${p.name} refs unknown node ${r}`);
        return rid;
      });
      const sourceIds = (s.sources ?? []).map(([src, t]) => {
        const def = this.sourceDefs.find((d) => d.source_name === src && d.name === t);
        if (!def) throw new Error(`fixture: ${p.name} uses unknown source ${src}.${t}`);
        return def.unique_id;
      });
      const config: NodeConfig = {
        enabled: true,
        materialized: p.kind === 'model' ? 'view' : p.kind === 'test' ? 'test' : p.kind,
        ...s.config,
        tags: s.tags ?? [],
      };
      const columns: ManifestNode['columns'] = {};
      for (const [c, info] of Object.entries(s.columns ?? {})) {
        columns[c] = { name: c, description: info.description ?? '', data_type: info.data_type ?? null, meta: {}, tags: [] };
      }
      nodes[id] = {
        unique_id: id,
        resource_type: p.kind,
        package_name: pkg,
        name: p.name,
        path: relPath,
        original_file_path: `${origDir}/${relPath}`,
        abs_path: `/abs/${origDir}/${relPath}`,
        fqn: [pkg, ...(generic ? [] : dirParts), p.name],
        raw_code: s.rawCode ?? `select 1 -- ${p.name}`,
        language: 'sql',
        checksum: { name: 'sha256', checksum: s.checksum ?? `sum-${p.name}` },
        config,
        tags: s.tags ?? [],
        description: s.description ?? '',
        columns,
        meta: {},
        docs: { show: true, node_color: null },
        patch_path: null,
        database: 'db',
        schema: 'analytics',
        alias: p.name,
        relation_name: p.kind === 'test' || p.kind === 'analysis' ? null : `"db"."analytics"."${p.name}"`,
        depends_on: { nodes: [...sourceIds, ...refIds], macros: (s.macros ?? []).map((m) => `macro.${this.project}.${m}`) },
        refs: (s.refs ?? []).map((r, i) => ({ name: r, line: i + 1 })),
        sources: s.sources ?? [],
        ...(s.testMetadata ? { test_metadata: s.testMetadata } : {}),
        ...(s.columnName !== undefined ? { column_name: s.columnName } : {}),
        ...(s.attachedNode ? { attached_node: ids.get(s.attachedNode) ?? null } : {}),
        ...(p.kind === 'seed' ? { seed_file: `/abs/seeds/${relPath}` } : {}),
        created_at: 0,
      };
    }
    const sources: Record<string, SourceDefinition> = {};
    for (const d of this.sourceDefs) sources[d.unique_id] = d;
    return {
      metadata: {
        dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
        dbt_version: '1.9.0',
        generated_at: '2024-01-01T00:00:00.000000Z',
        invocation_id: '00000000-0000-0000-0000-000000000000',
        env: {},
        project_name: this.project,
        adapter_type: 'postgres',
      },
      nodes,
      sources,
      macros: this.macroDefs,
      docs: {},
      exposures: {},
      metrics: {},
      groups: {},
      selectors: {},
      disabled: {},
      parent_map: {},
      child_map: {},
      group_map: {},
      saved_queries: {},
      semantic_models: {},
      unit_tests: {},
    };
  }
}

/** Adds a dependency `child` → `parent` (by unique_id) after build, e.g. to create a cycle. */
export function addDependency(manifest: Manifest, childId: string, parentId: string, line?: number): void {
  const child = manifest.nodes[childId]!;
  child.depends_on.nodes.push(parentId);
  const parent = manifest.nodes[parentId];
  if (parent) child.refs.push({ name: parent.name, ...(line !== undefined ? { line } : {}) });
}

/** A synthetic manifest of `n` models, each depending on up to two earlier ones (deterministic). */
export function largeManifest(n: number): Manifest {
  const b = new ManifestBuilder('big');
  const m = b.build();
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < n; i++) {
    const id = `model.big.m${i}`;
    const deps = new Set<string>();
    if (i > 0) deps.add(`model.big.m${Math.floor(rand() * i)}`);
    if (i > 1) deps.add(`model.big.m${Math.floor(rand() * i)}`);
    m.nodes[id] = {
      unique_id: id,
      resource_type: 'model',
      package_name: 'big',
      name: `m${i}`,
      path: `m${i}.sql`,
      original_file_path: `models/m${i}.sql`,
      fqn: ['big', `m${i}`],
      raw_code: 'select 1',
      language: 'sql',
      checksum: { name: 'sha256', checksum: String(i) },
      config: { enabled: true, materialized: 'view', tags: [] },
      tags: [],
      description: '',
      columns: {},
      meta: {},
      docs: { show: true },
      patch_path: null,
      database: 'db',
      schema: 's',
      alias: `m${i}`,
      relation_name: `"db"."s"."m${i}"`,
      depends_on: { nodes: [...deps], macros: [] },
      refs: [],
      sources: [],
      created_at: 0,
    };
  }
  return m;
}
