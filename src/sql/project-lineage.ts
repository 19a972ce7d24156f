/**
 * Column lineage for a whole project: each model's (and snapshot's) parse
 * tree analysed in dependency order, so a parent's output columns are known
 * when a child says `select *`. Parents' columns come from, in order: the
 * parent's own lineage, its documented columns (properties), a seed's CSV
 * header, a snapshot's columns plus dbt's four meta columns.
 *
 * {@link projectColumnLineage} is the entry point other parts (docs, the
 * `lineage` command) use; {@link lineageGraph} walks columns up and down.
 */
import { readCsvHeaderSync } from '../seeds/csv-records.ts';
import { isAbsolute, join } from 'node:path';
import type { Manifest, ManifestNode, SourceDefinition } from '../parse/manifest.ts';
import { statementLineage, type NodeLineage, type RelationColumns, type UpstreamColumn } from './lineage.ts';
import type { ParseResult } from './parser.ts';

/** unique_id → lineage, for every model and snapshot whose SQL was parsed. */
export type ProjectLineage = ReadonlyMap<string, NodeLineage>;

const SNAPSHOT_META = ['dbt_scd_id', 'dbt_updated_at', 'dbt_valid_from', 'dbt_valid_to'];

/**
 * The column lineage of every node in `trees` (unique_id → its compiled
 * SQL's parse tree, as {@link validateCompiled} returns them), in dependency
 * order. `root` is the project directory (for seed files given relative).
 */
export function projectColumnLineage(manifest: Manifest, trees: ReadonlyMap<string, ParseResult>, root?: string): Map<string, NodeLineage> {
  const out = new Map<string, NodeLineage>();
  const byRelation = new Map<string, string>();
  const byName = new Map<string, string[]>();
  const addRel = (db: string | undefined, schema: string, name: string, id: string) => {
    byRelation.set(`${schema}.${name}`, id);
    if (db) byRelation.set(`${db}.${schema}.${name}`, id);
    byName.set(name, [...(byName.get(name) ?? []), id]);
  };
  for (const n of Object.values(manifest.nodes)) {
    if (n.resource_type === 'model' || n.resource_type === 'seed' || n.resource_type === 'snapshot') {
      if (n.config.materialized === 'ephemeral') byName.set(n.name, [n.unique_id]);
      else addRel(n.database, n.schema, n.alias, n.unique_id);
    }
  }
  for (const s of Object.values(manifest.sources)) addRel(s.database, s.schema, s.identifier, s.unique_id);
  const seedCols = new Map<string, string[] | null>();
  const columnsOf = (id: string): readonly string[] | null => {
    const l = out.get(id);
    const n = manifest.nodes[id];
    if (l && l.complete) return n?.resource_type === 'snapshot' ? [...Object.keys(l.columns), ...SNAPSHOT_META] : Object.keys(l.columns);
    if (n?.resource_type === 'seed') {
      if (!seedCols.has(id)) seedCols.set(id, seedHeader(n, root));
      const h = seedCols.get(id);
      if (h) return h;
    }
    const documented = Object.keys((n ?? (manifest.sources[id] as SourceDefinition | undefined))?.columns ?? {});
    return documented.length ? documented : null;
  };
  const rels = (self: string): RelationColumns => ({
    resolve: (schema, name, db) => {
      if (schema === undefined) {
        const ids = byName.get(name);
        return ids && ids.length === 1 ? ids[0] : undefined;
      }
      return (db && byRelation.get(`${db}.${schema}.${name}`)) || byRelation.get(`${schema}.${name}`);
    },
    columns: (id) => (id === self ? null : columnsOf(id)),
  });
  const done = new Set<string>();
  const visit = (id: string, stack: Set<string>) => {
    if (done.has(id) || stack.has(id)) return;
    stack.add(id);
    for (const d of manifest.nodes[id]?.depends_on.nodes ?? []) if (trees.has(d)) visit(d, stack);
    stack.delete(id);
    done.add(id);
    const tree = trees.get(id);
    const stmt = tree?.stmts?.[0]?.stmt;
    if (!stmt) return;
    try {
      out.set(id, statementLineage(stmt, rels(id), id));
    } catch (e) {
      // Lineage is an aid: a tree it cannot walk (or one too deep) must never stop a run.
      out.set(id, { columns: {}, filters: [], complete: false, notes: [`column lineage could not be computed: ${e instanceof Error ? e.message : String(e)}`] });
    }
  };
  for (const id of [...trees.keys()].sort()) visit(id, new Set());
  return out;
}

/** The header row of a seed's CSV (column names as the seed's table has them), or null when unreadable. */
function seedHeader(n: ManifestNode, root?: string): string[] | null {
  const file = n.seed_file ?? (root ? join(root, n.original_file_path) : undefined);
  if (!file) return null;
  const delimiter = typeof n.config.delimiter === 'string' && n.config.delimiter ? n.config.delimiter : ',';
  return readCsvHeaderSync(isAbsolute(file) ? file : join(root ?? '.', file), delimiter);
}

/** One column of one node, as the lineage graph names it. */
export interface ColumnRef {
  readonly node: string;
  readonly column: string;
}

/** A column's upstream or downstream tree: each step with its kind. */
export interface ColumnTree extends ColumnRef {
  readonly kind?: UpstreamColumn['kind'];
  readonly children: readonly ColumnTree[];
}

/**
 * The columns `start` is computed from (`up`) or that are computed from it
 * (`down`), as a tree (a column reached twice on one path is not expanded
 * again). Filter/join keys are not followed.
 */
export function columnTree(lineage: ProjectLineage, start: ColumnRef, direction: 'up' | 'down'): ColumnTree {
  const down = new Map<string, { node: string; column: string; kind: UpstreamColumn['kind'] }[]>();
  if (direction === 'down') {
    for (const [id, l] of lineage) {
      for (const [col, c] of Object.entries(l.columns)) {
        for (const u of c.upstream) {
          const k = `${u.node}\u0000${u.column}`;
          down.set(k, [...(down.get(k) ?? []), { node: id, column: col, kind: u.kind }]);
        }
      }
    }
  }
  const walk = (ref: ColumnRef, kind: UpstreamColumn['kind'] | undefined, path: Set<string>): ColumnTree => {
    const k = `${ref.node}\u0000${ref.column}`;
    if (path.has(k)) return { ...ref, kind, children: [] };
    path.add(k);
    const next = direction === 'up' ? (lineage.get(ref.node)?.columns[ref.column]?.upstream ?? []) : (down.get(k) ?? []);
    const children = next.map((n) => walk({ node: n.node, column: n.column }, n.kind, path));
    path.delete(k);
    return { ...ref, kind, children };
  };
  return walk(start, undefined, new Set());
}
