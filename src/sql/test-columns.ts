/**
 * Generic data tests on a column the model does not produce: `not_null` on
 * `emial` when the model's SQL has no such output column. dbt finds this only
 * when the test runs (the database's `column "emial" does not exist`); tsdbt
 * knows it once the model's output columns are known for certain from column
 * lineage (lineage.ts: `complete`, i.e. no `select *` from a relation whose
 * columns nobody knows).
 *
 * A warning (`test-column-not-produced`), not an error: `tsdbt run` does not
 * run tests and must not fail for one; the test still fails when it runs, as
 * with dbt. Only a plain identifier (`email`, `"Email"`) is checked — a
 * `column_name` that is an expression (`lower(email)`, `id || name`) is not.
 */
import { TsdbtError } from '../errors.ts';
import type { Manifest, ManifestNode } from '../parse/manifest.ts';
import type { ProjectLineage } from './project-lineage.ts';

/**
 * One warning per generic test whose `column_name` names a column its model
 * (attached node) does not produce, for models whose lineage is complete.
 * Points at the test's entry in its properties file (file and line). A
 * column also documented under the model is left to `column-not-produced`.
 */
export function testColumnsNotProduced(manifest: Manifest, lineage: ProjectLineage): TsdbtError[] {
  const out: TsdbtError[] = [];
  for (const n of Object.values(manifest.nodes)) {
    if (n.resource_type !== 'test' || !n.test_metadata) continue;
    const raw = n.column_name ?? (n.test_metadata.kwargs as Record<string, unknown> | undefined)?.column_name;
    if (typeof raw !== 'string') continue;
    const name = identifier(raw);
    if (name === null) continue;
    const model = n.attached_node ?? n.depends_on.nodes.find((d) => d.startsWith('model.'));
    const parent = model ? manifest.nodes[model] : undefined;
    const l = model ? lineage.get(model) : undefined;
    if (!parent || parent.resource_type !== 'model' || !l?.complete) continue;
    const produced = Object.keys(l.columns);
    if (produced.some((c) => c === name || c.toLowerCase() === name.toLowerCase())) continue;
    // Documented under the model too: the `column-not-produced` warning names it and its tests (index.ts).
    if (Object.keys(parent.columns).some((c) => c === raw || c.toLowerCase() === name.toLowerCase())) continue;
    out.push(
      new TsdbtError(
        'test-column-not-produced',
        `data test '${n.name}' checks column '${raw}' of model '${parent.name}', but the model's SQL does not produce it (it produces ${produced.join(', ') || 'no columns'}); the test will fail when it runs (column "${name}" does not exist)`,
        {
          file: n.original_file_path,
          line: (n as ManifestNode & { line?: number }).line ?? n.refs[0]?.line,
          hint: `fix the column name under model '${parent.name}' in ${n.original_file_path}, or add the column to ${parent.original_file_path}`,
        },
      ),
    );
  }
  return out;
}

/** The column a `column_name` names when it is one identifier (unquoted: as written; `"X"`: X), else null. */
function identifier(s: string): string | null {
  const t = s.trim();
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(t)) return t;
  const q = /^"((?:[^"]|"")+)"$/.exec(t);
  return q ? q[1].replace(/""/g, '"') : null;
}

/** Names of the generic tests on `model`'s column `col` (case-insensitive), for messages. */
export function testsOnColumn(manifest: Manifest, model: string, col: string): string[] {
  const out: string[] = [];
  for (const n of Object.values(manifest.nodes)) {
    if (n.resource_type !== 'test' || !n.test_metadata || (n.attached_node ?? n.depends_on.nodes[0]) !== model) continue;
    const raw = n.column_name ?? (n.test_metadata.kwargs as Record<string, unknown> | undefined)?.column_name;
    if (typeof raw === 'string' && raw.toLowerCase() === col.toLowerCase()) out.push(n.name);
  }
  return out;
}
