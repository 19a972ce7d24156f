/**
 * Model contracts at parse time, as dbt-core's ModelPatchParser checks them (`patch_constraints`,
 * `_validate_constraint_prerequisites`, `_validate_pk_constraints`, `ModelConfig`'s validation and
 * `_process_constraints_refs_and_sources`):
 *
 * - column-level and model-level `constraints:` are read into {@link Constraint}s (dbt's
 *   `ColumnLevelConstraint` / `ModelLevelConstraint` defaults: `warn_unenforced` / `warn_unsupported`
 *   true, `to_columns` []);
 * - with `contract: {enforced: true}`: the model needs `columns:` in a properties file, each with a
 *   `data_type`, constraint types must be dbt's, an incremental model's `on_schema_change` must be
 *   `append_new_columns` or `fail`, and a `view` with constraints gets dbt's
 *   UnsupportedConstraintMaterialization warning;
 * - primary keys on several columns, or on columns and the model at once, are errors;
 * - a foreign key's `to: ref('m')` / `source('s', 't')` becomes a dependency of the model and, after
 *   linking, `to` holds the referenced relation's name (dbt resolves it at compile).
 *
 * tsdbt reports a missing `data_type` at parse (file and line) where dbt raises it when the model runs.
 */
import { TsdbtError } from '../errors.ts';
import type { ColumnProperties, NodeProperties } from '../config/types.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { Constraint, ManifestNode } from './manifest.ts';
import { refKey } from './model-versions.ts';

/** dbt's ConstraintType values. */
export const CONSTRAINT_TYPES = ['check', 'not_null', 'unique', 'primary_key', 'foreign_key', 'custom'] as const;

const CONSTRAINT_KEYS = ['type', 'name', 'expression', 'warn_unenforced', 'warn_unsupported', 'to', 'to_columns', 'columns'];

/** Where a constraint list was written, for messages. */
interface Where {
  readonly file: string;
  readonly line?: number;
  /** `column 'id' of model 'orders'` or `model 'orders'`. */
  readonly owner: string;
}

/** The properties entry each model's constraints were read from (file, line), for link-time messages. */
const propertiesWhere = new WeakMap<ManifestNode, { file: string; line?: number }>();

/** True when `config.contract.enforced` is true. */
export function contractEnforced(config: Record<string, unknown>): boolean {
  const c = config.contract as { enforced?: unknown } | undefined;
  return c?.enforced === true;
}

/**
 * Reads a `constraints:` list as written into {@link Constraint}s. Not a list, an item that is not a
 * mapping, a `type` that is not dbt's or `to_columns`/`columns` that are not lists: `properties-invalid`
 * (recorded in `b.diags`; the item is skipped). Unknown keys: `unknown-property` warnings.
 */
export function readConstraints(b: ManifestBuilder, raw: unknown, where: Where, modelLevel: boolean): Constraint[] {
  if (raw === undefined || raw === null) return [];
  const err = (message: string, hint: string) => b.diags.error(new TsdbtError('properties-invalid', message, { file: where.file, line: where.line, hint }));
  if (!Array.isArray(raw)) {
    err(`constraints of ${where.owner} must be a list`, 'write constraints:\n  - type: not_null');
    return [];
  }
  const out: Constraint[] = [];
  for (const item of raw) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      err(`a constraint of ${where.owner} must be a mapping with a type:`, 'write `- type: not_null`');
      continue;
    }
    const o = item as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string' || !(CONSTRAINT_TYPES as readonly string[]).includes(type)) {
      // dbt: "Invalid constraint type on column <c>" / "on model <m>: Type must be one of [...]".
      err(
        `Invalid constraint type on ${where.owner}: Type must be one of [${CONSTRAINT_TYPES.map((t) => `'${t}'`).join(', ')}]`,
        `write type: one of ${CONSTRAINT_TYPES.join(', ')}${typeof type === 'string' ? b.suggest(type, [...CONSTRAINT_TYPES]) : ''}`,
      );
      continue;
    }
    for (const k of Object.keys(o)) {
      if (!CONSTRAINT_KEYS.includes(k) || (k === 'columns' && !modelLevel)) {
        b.diags.warn(new TsdbtError('unknown-property', `unknown property '${k}' on a constraint of ${where.owner}`, { file: where.file, line: where.line, hint: `dbt's constraint keys are ${CONSTRAINT_KEYS.filter((x) => modelLevel || x !== 'columns').join(', ')}` }));
      }
    }
    const list = (k: string): string[] | undefined => {
      const v = o[k];
      if (v === undefined || v === null) return [];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      err(`${k} of a ${type} constraint of ${where.owner} must be a list of column names`, `write ${k}: [id]`);
      return undefined;
    };
    const toColumns = list('to_columns');
    const columns = modelLevel ? list('columns') : [];
    if (!toColumns || !columns) continue;
    const str = (k: string) => (o[k] === undefined || o[k] === null ? null : String(o[k]));
    const c: Constraint = {
      type: type as Constraint['type'],
      name: str('name'),
      expression: str('expression'),
      warn_unenforced: o.warn_unenforced !== false,
      warn_unsupported: o.warn_unsupported !== false,
      to: str('to'),
      to_columns: toColumns,
    };
    if (modelLevel) c.columns = columns;
    out.push(c);
  }
  return out;
}

/**
 * Fills `node.columns[*].constraints` and `node.constraints` from the properties and runs dbt's
 * contract checks (see the module comment). `columnProps` are the columns the node was built from
 * (a version's, for a versioned model); `modelConstraints` the version's or the entry's list.
 * Errors go to `b.diags`, warnings to `b.warnings`.
 */
export function applyConstraints(
  b: ManifestBuilder,
  node: ManifestNode,
  props: NodeProperties | undefined,
  columnProps: readonly ColumnProperties[] | undefined,
  modelConstraints: unknown,
  entryLine: number | undefined,
): void {
  const file = props?.file ?? node.original_file_path;
  const label = `model '${node.name}'`;
  if (props) propertiesWhere.set(node, { file: props.file, line: entryLine });
  let pkColumns: string[] = [];
  for (const cp of columnProps ?? []) {
    const col = node.columns[cp.name];
    if (!col) continue;
    col.constraints = readConstraints(b, cp.constraints, { file, line: cp.line, owner: `column '${cp.name}' of ${label}` }, false);
    if (col.constraints.some((c) => c.type === 'primary_key')) pkColumns.push(cp.name);
  }
  node.constraints = readConstraints(b, modelConstraints, { file, line: entryLine, owner: label }, true);
  // dbt's _validate_pk_constraints.
  const problems: string[] = [];
  if (pkColumns.length > 1) {
    problems.push(`Found ${pkColumns.length} columns (${pkColumns.map((c) => `'${c}'`).join(', ')}) with primary key constraints defined. Primary keys for multiple columns must be defined as a model level constraint.`);
  }
  if (pkColumns.length > 0 && node.constraints.some((c) => c.type === 'primary_key')) {
    problems.push('Primary key constraints defined at the model level and the columns level. Primary keys can be defined at the model level or the column level, not both.');
  }
  if (problems.length) {
    b.diags.error(new TsdbtError('constraint-invalid', `Primary key constraint error: (${node.original_file_path})\n${problems.join('\n')}`, { file, line: entryLine, hint: 'write one `- type: primary_key` with `columns: [a, b]` under the model\'s constraints:' }));
  }
  pkColumns = [];
  const config = node.config as Record<string, unknown>;
  if (!contractEnforced(config)) return;
  // dbt's _validate_constraint_prerequisites.
  if (Object.keys(node.columns).length === 0) {
    b.diags.error(
      new TsdbtError('contract-invalid', `Contract enforcement failed for: (${node.original_file_path})\nConstraints must be defined in a \`yml\` schema configuration file like \`schema.yml\`.`, {
        file: node.original_file_path,
        hint: `list the columns of ${label} with their data_type under columns: in a properties file, or set contract: {enforced: false}`,
      }),
    );
    return;
  }
  // dbt's column_type_missing (raised when the model runs; here at parse, with the line).
  const missing = (columnProps ?? []).filter((c) => node.columns[c.name] && !c.data_type);
  if (missing.length) {
    b.diags.error(
      new TsdbtError(
        'contract-invalid',
        `Contracted models require data_type to be defined for each column. Please ensure that the column name and data_type are defined within the YAML configuration for the [${missing.map((c) => `'${c.name}'`).join(', ')}] column(s).`,
        { file, line: missing[0].line, hint: `add data_type: (e.g. integer, text) to each column of ${label}` },
      ),
    );
  }
  const materialized = String(config.materialized);
  if (materialized === 'incremental' && !['append_new_columns', 'fail'].includes(String(config.on_schema_change))) {
    b.diags.error(
      new TsdbtError(
        'contract-invalid',
        `Invalid value for on_schema_change: ${String(config.on_schema_change)}. Models materialized as incremental with contracts enabled must set on_schema_change to 'append_new_columns' or 'fail'`,
        { file: node.original_file_path, hint: "set on_schema_change: 'append_new_columns' or 'fail' in the model's config" },
      ),
    );
  }
  if (materialized === 'ephemeral') {
    // dbt: an ephemeral model is never created, so its contract cannot be checked; it refuses it at compile.
    b.diags.error(
      new TsdbtError('contract-invalid', `Contracts are not supported for ephemeral models: ${label} has contract: {enforced: true}`, {
        file: node.original_file_path,
        hint: 'materialize it as a table, view or incremental model, or set contract: {enforced: false}',
      }),
    );
  }
  const all = [...Object.values(node.columns).flatMap((c) => c.constraints ?? []), ...node.constraints];
  if (!['table', 'incremental'].includes(materialized) && all.some((c) => c.warn_unsupported && c.type !== 'custom')) {
    b.warnings.push(
      new TsdbtError(
        'constraint-not-supported',
        `Constraint types are not supported for ${materialized} materializations and will be ignored. Set 'warn_unsupported: false' on this constraint to ignore this warning.`,
        { file, line: entryLine, hint: `${label} is a ${materialized}: its columns are still checked against the contract` },
      ),
    );
  }
}

const REF_RE = /^\s*ref\s*\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?(?:,\s*v(?:ersion)?\s*=\s*(['"]?)([^'")\s]+)\5\s*)?\)\s*$/;
const SOURCE_RE = /^\s*source\s*\(\s*(['"])([^'"]+)\1\s*,\s*(['"])([^'"]+)\3\s*\)\s*$/;

/**
 * After linking: each foreign key's `to: ref(..)` / `source(..)` of every model is resolved as
 * `ref()` / `source()` are (root project, the model's package, any), added to the model's
 * `depends_on.nodes` (and `refs` / `sources`, as dbt's `_process_constraints_refs_and_sources`), and
 * `to` becomes the referenced relation's name. Bad syntax, a missing ref or source: errors naming
 * the properties file and line (`constraint-invalid`, `ref-not-found`, `source-not-found`).
 */
export function resolveConstraintTargets(b: ManifestBuilder): void {
  for (const node of Object.values(b.nodes)) {
    if (node.resource_type !== 'model') continue;
    const all = [...Object.values(node.columns).flatMap((c) => c.constraints ?? []), ...(node.constraints ?? [])];
    const where = propertiesWhere.get(node) ?? { file: node.original_file_path };
    for (const c of all) {
      if (c.type !== 'foreign_key' || !c.to) continue;
      const ref = REF_RE.exec(c.to);
      const src = ref ? null : SOURCE_RE.exec(c.to);
      if (!ref && !src) {
        b.diags.error(new TsdbtError('constraint-invalid', `Invalid 'ref' or 'source' syntax on foreign key constraint 'to' on model ${node.name}: ${c.to}.`, { ...where, hint: "write to: ref('other_model') or to: source('src', 'table'), with to_columns: [id]" }));
        continue;
      }
      if (ref) {
        const pkg = ref[4] !== undefined ? ref[2] : null;
        const name = ref[4] ?? ref[2];
        const version = ref[6] ?? null;
        const uid = b.refLookup.resolve(refKey(name, version), pkg, b.rootPkg, node.package_name);
        const target = uid ? b.nodes[uid] : undefined;
        if (!target || !target.relation_name) {
          b.diags.error(new TsdbtError('ref-not-found', `model '${node.name}' has a foreign key constraint to '${c.to}', which does not exist${target ? ' as a relation' : ''}`, { ...where, hint: 'check the model name in to: (models, seeds and snapshots are referred to by file name)' }));
          continue;
        }
        node.refs.push({ name, package: pkg, version, line: where.line });
        if (!node.depends_on.nodes.includes(target.unique_id)) node.depends_on.nodes.push(target.unique_id);
        c.to = target.relation_name;
      } else if (src) {
        const uid = b.sourceLookup.resolve(`${src[2]}.${src[4]}`, null, b.rootPkg, node.package_name);
        const s = uid ? b.sources[uid] : undefined;
        if (!s) {
          b.diags.error(new TsdbtError('source-not-found', `model '${node.name}' has a foreign key constraint to ${c.to}, which is not declared`, { ...where, hint: 'declare it under sources: in a .yml file' }));
          continue;
        }
        node.sources.push([src[2], src[4]]);
        if (!node.depends_on.nodes.includes(s.unique_id)) node.depends_on.nodes.push(s.unique_id);
        c.to = s.relation_name;
      }
    }
  }
}
