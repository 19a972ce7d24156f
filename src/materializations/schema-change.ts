/**
 * Planning an incremental model's `on_schema_change` (pure): compare the new
 * rows' columns with the existing table's and decide what to alter and which
 * columns to insert. Mirrors dbt's `process_schema_changes`,
 * `check_for_schema_changes`, `sync_column_schemas` and
 * `expand_target_column_types` (dbt-adapters, incremental/on_schema_change.sql).
 */
import type { ColumnSpec } from './sql.ts';

/** The four values dbt accepts. */
export type OnSchemaChange = 'ignore' | 'append_new_columns' | 'sync_all_columns' | 'fail';

export const ON_SCHEMA_CHANGE_VALUES: readonly OnSchemaChange[] = ['ignore', 'append_new_columns', 'sync_all_columns', 'fail'];

/**
 * dbt's `incremental_validate_on_schema_change`: an unknown value falls back to
 * `ignore` (dbt logs a message; we return a warning for the caller to show).
 */
export function validateOnSchemaChange(value: unknown): { mode: OnSchemaChange; warning?: string } {
  if (value === undefined || value === null) return { mode: 'ignore' };
  if (typeof value === 'string' && (ON_SCHEMA_CHANGE_VALUES as readonly string[]).includes(value)) {
    return { mode: value as OnSchemaChange };
  }
  return {
    mode: 'ignore',
    warning: `Invalid value for on_schema_change (${String(value)}) specified. Setting default value of ignore. Valid values: ${ON_SCHEMA_CHANGE_VALUES.join(', ')}.`,
  };
}

/** A column whose type must change: `from` is the table's type, `to` the new rows' type. */
export interface TypeChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** What to do to the existing table before inserting, and which columns to insert. */
export interface SchemaChangePlan {
  readonly mode: OnSchemaChange;
  /** Varchar columns widened because the new rows are longer (always, as dbt's `expand_target_column_types`). */
  readonly expand: readonly TypeChange[];
  /** In the new rows, not in the table. */
  readonly sourceNotInTarget: readonly ColumnSpec[];
  /** In the table, not in the new rows. */
  readonly targetNotInSource: readonly ColumnSpec[];
  /** Same name, a type that cannot hold the new values (after widening). */
  readonly typeChanges: readonly TypeChange[];
  /** True when the two column sets differ (what `fail` refuses). */
  readonly schemaChanged: boolean;
  /** Columns to add to the table (`append_new_columns`, `sync_all_columns`). */
  readonly add: readonly ColumnSpec[];
  /** Columns to drop from the table (`sync_all_columns`). */
  readonly remove: readonly string[];
  /** Column types to change (`sync_all_columns`). */
  readonly alter: readonly TypeChange[];
  /** The columns of the insert/merge (dbt's `dest_columns`). */
  readonly destColumns: readonly ColumnSpec[];
}

const VARCHAR = /^character varying(?:\((\d+)\))?$/u;

/** Varchar length, Infinity for unbounded `character varying`, null for other types. */
function varcharSize(dataType: string): number | null {
  const m = VARCHAR.exec(dataType);
  if (!m) return null;
  return m[1] === undefined ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/**
 * Compares the new rows' columns (`source`, the temporary table) with the
 * table's (`target`) under `mode`. Names compare exactly (Postgres names are
 * case-sensitive once created). Pure; the caller applies the plan or, for
 * `fail` with `schemaChanged`, reports {@link describeSchemaChange}.
 */
export function planSchemaChange(mode: OnSchemaChange, source: readonly ColumnSpec[], target: readonly ColumnSpec[]): SchemaChangePlan {
  const targetByName = new Map(target.map((c) => [c.name, c]));
  const sourceNames = new Set(source.map((c) => c.name));
  const expand: TypeChange[] = [];
  const typeChanges: TypeChange[] = [];
  for (const s of source) {
    const t = targetByName.get(s.name);
    if (!t || t.dataType === s.dataType) continue;
    const ss = varcharSize(s.dataType);
    const ts = varcharSize(t.dataType);
    if (ss !== null && ts !== null) {
      // both varchar: widen the table when the new values are longer; shorter ones fit already.
      if (ss > ts) expand.push({ name: s.name, from: t.dataType, to: s.dataType });
      continue;
    }
    typeChanges.push({ name: s.name, from: t.dataType, to: s.dataType });
  }
  const sourceNotInTarget = source.filter((c) => !targetByName.has(c.name));
  const targetNotInSource = target.filter((c) => !sourceNames.has(c.name));
  const schemaChanged = sourceNotInTarget.length > 0 || targetNotInSource.length > 0 || typeChanges.length > 0;

  let add: ColumnSpec[] = [];
  let remove: string[] = [];
  let alter: TypeChange[] = [];
  let destColumns: readonly ColumnSpec[];
  if (mode === 'ignore') {
    destColumns = target;
  } else {
    destColumns = source;
    if (mode === 'append_new_columns') add = sourceNotInTarget;
    if (mode === 'sync_all_columns') {
      add = sourceNotInTarget;
      remove = targetNotInSource.map((c) => c.name);
      alter = typeChanges;
    }
  }
  return { mode, expand, sourceNotInTarget, targetNotInSource, typeChanges, schemaChanged, add, remove, alter, destColumns };
}

/**
 * The differing columns in words, for the `fail` error:
 * `new in the model: a (integer); missing from the model: b (text); type changed: c (text → integer)`.
 */
export function describeSchemaChange(plan: SchemaChangePlan): string {
  const parts: string[] = [];
  if (plan.sourceNotInTarget.length > 0) {
    parts.push(`new in the model: ${plan.sourceNotInTarget.map((c) => `${c.name} (${c.dataType})`).join(', ')}`);
  }
  if (plan.targetNotInSource.length > 0) {
    parts.push(`missing from the model: ${plan.targetNotInSource.map((c) => `${c.name} (${c.dataType})`).join(', ')}`);
  }
  if (plan.typeChanges.length > 0) {
    parts.push(`type changed: ${plan.typeChanges.map((c) => `${c.name} (${c.from} → ${c.to})`).join(', ')}`);
  }
  return parts.join('; ');
}
