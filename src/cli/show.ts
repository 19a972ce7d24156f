/**
 * `tsdbt show` and the printing half of `tsdbt compile`, as dbt's ShowTask
 * and CompileTask (dbt ≥ 1.5): the rows of one node's compiled SQL (or of
 * `--inline` SQL, rendered with the run-time context) limited by `--limit`
 * (default 5; a negative limit shows every row), as a text table or as
 * dbt's JSON (`{"node": name, "show": [rows]}`; `{"show": [rows]}` for
 * inline SQL, as dbt's ShowNode event); compiled SQL likewise
 * (`{"node": name, "compiled": sql}` / `{"compiled": sql}`).
 */
import { TsdbtError } from '../errors.ts';
import { createAdapter } from '../adapters/index.ts';
import type { Console } from './console.ts';
import { openSession, parseSession, select, compileSession, relationState, type CommonFlags } from './pipeline.ts';
import { compileInline } from './inline.ts';

/** A parsed `--limit`: a number of rows, or null for every row (dbt: any negative number). */
export function parseLimit(value: unknown): number | null {
  const n = Number(value ?? 5);
  if (!Number.isInteger(n)) throw new TsdbtError('bad-flag', `--limit must be a whole number, got '${value}'`, { hint: 'e.g. --limit 20, or --limit -1 for every row (as dbt)' });
  return n < 0 ? null : n;
}

/** `tsdbt show`: runs the node's (or the inline) SQL and prints the first rows. Exit 0, or throws. */
export async function showCommand(flags: CommonFlags & Record<string, unknown>, out: Console): Promise<number> {
  const limit = parseLimit(flags.limit);
  const json = flags.output === 'json';
  const s = openSession(flags, out);
  const inline = typeof flags.inline === 'string' ? flags.inline : undefined;
  if (inline === undefined && !flags.select?.length) {
    throw new TsdbtError('bad-flag', 'show needs --select or --inline', { hint: "e.g. tsdbt show --select my_model, or tsdbt show --inline \"select * from {{ ref('my_model') }}\"" });
  }
  const p = parseSession(s, out);
  const adapter = await createAdapter(s.target);
  try {
    const relations = await relationState(adapter, p.parsed);
    let sql: string;
    let nodeName: string | null = null;
    if (inline !== undefined) {
      sql = await compileInline(s, p, inline, relations, adapter);
    } else {
      const ids = select(s, p, ['model', 'seed', 'analysis', 'snapshot']);
      if (ids.length !== 1) {
        throw new TsdbtError('bad-selector', `show needs exactly one node; --select matched ${ids.length}`, { hint: 'e.g. tsdbt show --select my_model' });
      }
      const node = p.parsed.manifest.nodes[ids[0]];
      nodeName = node.name;
      if (node.resource_type === 'seed') sql = `select * from ${node.relation_name}`;
      else sql = (await compileSession(s, p, ids, relations, { adapter, out })).get(ids[0])!.compiledCode;
    }
    // As dbt's get_show_sql: the SQL as a subquery with a limit (none when --limit is negative).
    const r = await adapter.query(`select * from (\n${sql.replace(/;\s*$/, '')}\n) as model_limit_subq${limit === null ? '' : ` limit ${limit}`}`);
    const rows = r.rows.map((row) => jsonRow(row as Record<string, unknown>, r.fields));
    if (json) {
      out.out(JSON.stringify(nodeName === null ? { show: rows } : { node: nodeName, show: rows }, null, 2));
    } else {
      out.info(nodeName === null ? 'Previewing inline node:' : `Previewing node '${nodeName}':`);
      out.out(formatTable(r.fields.map((f) => f.name), rows, terminalWidth()));
    }
    return 0;
  } finally {
    await adapter.close();
  }
}

/** `compile` output for one node or inline SQL, as dbt's CompiledNode event (text: the SQL alone on stdout). */
export function printCompiled(out: Console, name: string | null, compiled: string, output: unknown, several: boolean): void {
  if (output === 'json') out.out(JSON.stringify(name === null ? { compiled } : { node: name, compiled }, null, 2));
  else {
    if (several) out.out(`-- Compiled node '${name}' is:`);
    out.out(compiled);
  }
}

/** `tsdbt compile --inline SQL`: the compiled SQL on stdout. The database is opened only when the SQL asks it. */
export async function compileInlineCommand(flags: CommonFlags & Record<string, unknown>, out: Console): Promise<number> {
  const s = openSession(flags, out);
  const p = parseSession(s, out);
  let sql: string;
  try {
    sql = await compileInline(s, p, String(flags.inline), new Map(), null);
  } catch (e) {
    if (!(e instanceof TsdbtError) || e.code !== 'needs-database') throw e;
    const adapter = await createAdapter(s.target);
    try {
      sql = await compileInline(s, p, String(flags.inline), await relationState(adapter, p.parsed), adapter);
    } finally {
      await adapter.close();
    }
  }
  printCompiled(out, null, sql, flags.output, false);
  return 0;
}

/** PostgreSQL type oids whose values node-postgres returns as strings although they are numbers (int8, numeric). */
const NUMERIC_AS_TEXT = new Set([20, 1700]);

/**
 * A row as dbt's agate `to_json` writes it: numbers as JSON numbers (int8 and
 * numeric too, when the number survives the trip), dates as ISO text.
 */
function jsonRow(row: Record<string, unknown>, fields: readonly { name: string; dataTypeID: number }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = row[f.name];
    if (typeof v === 'string' && NUMERIC_AS_TEXT.has(f.dataTypeID) && String(Number(v)) === v) out[f.name] = Number(v);
    else if (v instanceof Date) out[f.name] = Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
    else if (typeof v === 'bigint') out[f.name] = Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    else out[f.name] = v === undefined ? null : v;
  }
  return out;
}

/** The terminal's width (COLUMNS, then the TTY's), or null when stdout is not a terminal and COLUMNS is unset: no limit. */
function terminalWidth(): number | null {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : null;
}

/**
 * Rows as agate's `print_table` lays them out (what dbt's show prints):
 * `| a | b |`, a `| - | - |` rule, numbers right-aligned, null as empty.
 * When `width` is given and the table is wider, the widest columns are cut
 * (ending in `...`, as agate) until it fits; no column goes below 3
 * characters, so a table with very many columns may still overflow.
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[], width: number | null): string {
  const text = (v: unknown): string => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v)).replace(/\r?\n/g, ' ');
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  const numeric = columns.map((c) => rows.some((r) => r[c] !== null && r[c] !== undefined) && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number' || typeof r[c] === 'bigint'));
  const widths = columns.map((c, i) => Math.max(3, [...c].length, ...cells.map((row) => [...row[i]].length)));
  // Each column costs its width plus 3 (`| ` before, ` ` after), and the closing `|`.
  const total = () => widths.reduce((a, w) => a + w + 3, 1);
  if (width !== null) {
    while (total() > width) {
      const widest = widths.indexOf(Math.max(...widths));
      if (widths[widest] <= 3) break;
      widths[widest] -= Math.min(widths[widest] - 3, total() - width);
    }
  }
  const fit = (s: string, w: number): string => {
    const chars = [...s];
    return chars.length <= w ? s : chars.slice(0, Math.max(0, w - 3)).join('') + '...';
  };
  const line = (values: readonly string[], right: readonly boolean[]) =>
    '| ' + values.map((v, i) => {
      const f = fit(v, widths[i]);
      const pad = ' '.repeat(widths[i] - [...f].length);
      return right[i] ? pad + f : f + pad;
    }).join(' | ') + ' |';
  return [
    line(columns, columns.map(() => false)),
    '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |',
    ...cells.map((row) => line(row, numeric)),
  ].join('\n');
}
