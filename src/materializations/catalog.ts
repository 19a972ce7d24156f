/**
 * Catalog reads the strategies make on their own session (inside transactions,
 * where the adapter's pooled helpers would see a different snapshot or miss
 * temporary tables).
 */
import type { RelationKind, RelationRef } from '../adapters/adapter.ts';
import type { RecordingSession } from './context.ts';
import { columnsSql, relationLookupSql, type ColumnSpec } from './sql.ts';

/** A relation found in the catalog: its OID (as text) and kind. */
export interface FoundRelation {
  readonly oid: string;
  readonly kind: RelationKind;
}

/** Maps `pg_class.relkind` to a {@link RelationKind} (`p`, a partitioned table, counts as a table). */
export function relationKindOf(relkind: string): RelationKind {
  switch (relkind) {
    case 'r':
    case 'p':
      return 'table';
    case 'v':
      return 'view';
    case 'm':
      return 'materialized_view';
    case 'f':
      return 'foreign_table';
    default:
      return 'other';
  }
}

/** The relation's OID and kind, or null when it does not exist. */
export async function lookupRelation(s: RecordingSession, rel: RelationRef): Promise<FoundRelation | null> {
  const r = await s.look<{ oid: string; relkind: string }>(relationLookupSql(), [rel.schema, rel.identifier]);
  const row = r.rows[0];
  return row ? { oid: String(row.oid), kind: relationKindOf(String(row.relkind)) } : null;
}

/** Columns of `rel` (or of this session's temporary table named `temp`) in position order. */
export async function readColumns(s: RecordingSession, rel: RelationRef | { temp: string }): Promise<ColumnSpec[]> {
  const r =
    'temp' in rel
      ? await s.look<{ name: string; data_type: string }>(columnsSql(true), [rel.temp])
      : await s.look<{ name: string; data_type: string }>(columnsSql(false), [rel.schema, rel.identifier]);
  return r.rows.map((row) => ({ name: String(row.name), dataType: String(row.data_type) }));
}
