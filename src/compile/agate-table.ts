/**
 * The table `run_query()` and `load_result(...).table` return, shaped like
 * the agate.Table dbt hands templates: `columns` (each with `name` and
 * `values()`), `column_names`, `column_types`, `rows` (each row indexable by
 * position and by column name, iterable as its values, with `keys()`,
 * `values()`, `items()`, `dict()`), `print_table()`, and a length (`|length`).
 *
 * Values are converted from node-postgres's parsing to what agate gives
 * Python: int8 and numeric → numbers (agate: Decimal; a numeric prints without
 * trailing zeros here, e.g. 12.5 for 12.50), date → `PyDate`, timestamp →
 * naive `PyDateTime`, timestamptz → UTC-aware `PyDateTime`; text, boolean,
 * json and arrays as they are.
 */
import { PyDateTime, datetimeFromDate } from '../jinja/index.ts';
import { pyStr, tsTuple } from '../jinja/index.ts';

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/** One result row: a list of values that also answers `row['col']` / `row.col`. */
export type AgateRow = unknown[] & Record<string, unknown>;

/** A column of an {@link AgateTable}. */
export class AgateColumn {
  constructor(
    readonly name: string,
    private readonly table: AgateTable,
    private readonly index: number,
  ) {}
  /** Every value of the column, in row order (agate returns a tuple). */
  values(): unknown[] {
    return this.table.rows.map((r) => r[this.index]);
  }
  /** Distinct values, first occurrence order. */
  values_distinct(): unknown[] {
    const out: unknown[] = [];
    for (const v of this.values()) if (!out.some((x) => x === v || pyStr(x) === pyStr(v))) out.push(v);
    return out;
  }
  values_without_nulls(): unknown[] {
    return this.values().filter((v) => v !== null && v !== undefined);
  }
}

/** A query result as dbt's agate.Table. */
export class AgateTable {
  readonly column_names: string[];
  readonly column_types: string[];
  readonly rows: AgateRow[];
  readonly columns: AgateColumn[] & Record<string, AgateColumn>;

  constructor(fields: readonly { name: string; dataTypeID: number }[], rawRows: readonly Record<string, unknown>[]) {
    this.column_names = fields.map((f) => f.name);
    this.column_types = fields.map((f) => typeName(f.dataTypeID));
    this.rows = rawRows.map((raw) => makeRow(fields, raw));
    const cols = this.column_names.map((n, i) => new AgateColumn(n, this, i)) as AgateColumn[] & Record<string, AgateColumn>;
    for (const c of [...cols]) if (!(c.name in Array.prototype)) Object.defineProperty(cols, c.name, { value: c, enumerable: false });
    // agate's MappedSequence: columns also answer keys(), values(), items(), get() (dbt_utils' get_query_results_as_dict).
    const hidden = (k: string, v: unknown) => Object.defineProperty(cols, k, { value: v, enumerable: false, configurable: true });
    hidden('keys', () => [...this.column_names]);
    hidden('values', () => [...cols]);
    hidden('items', () => cols.map((c) => tsTuple([c.name, c])));
    hidden('get', (k: unknown, d: unknown = null) => cols.find((c) => c.name === String(k)) ?? d);
    this.columns = cols;
  }

  /** `{% for row in table %}` iterates the rows. */
  [Symbol.iterator](): Iterator<AgateRow> {
    return this.rows[Symbol.iterator]();
  }

  /** Number of rows (`table | length`, Python's len()). */
  get length(): number {
    return this.rows.length;
  }

  /** agate's print_table(): a plain-text table, written to the log like dbt's `print`. Returns ''. */
  print_table(..._a: unknown[]): string {
    return '';
  }

  /** The table as text, as print_table() shows it. */
  toText(maxRows = 20): string {
    const head = this.column_names;
    const body = this.rows.slice(0, maxRows).map((r) => r.map((v) => (v === null ? '' : pyStr(v))));
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
    return [line(head), '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |', ...body.map(line)].join('\n');
  }

  /** `data` of load_result: the rows as plain lists. */
  toData(): unknown[][] {
    return this.rows.map((r) => [...r]);
  }
}

function typeName(oid: number): string {
  switch (oid) {
    case 16:
      return 'Boolean';
    case 20:
    case 21:
    case 23:
    case 700:
    case 701:
    case 1700:
      return 'Number';
    case DATE:
      return 'Date';
    case TIMESTAMP:
    case TIMESTAMPTZ:
      return 'DateTime';
    default:
      return 'Text';
  }
}

/** A value as agate would hand it to Jinja (see the file header). */
export function agateValue(v: unknown, oid: number): unknown {
  if (v === null || v === undefined) return null;
  if ((oid === INT8 || oid === NUMERIC) && typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) {
    if (oid === TIMESTAMPTZ) return datetimeFromDate(v, true);
    const local = datetimeFromDate(v, false);
    if (oid === DATE) return local.date();
    return local;
  }
  return v;
}

function makeRow(fields: readonly { name: string; dataTypeID: number }[], raw: Record<string, unknown>): AgateRow {
  const values = fields.map((f) => agateValue(raw[f.name], f.dataTypeID));
  const row = values as AgateRow;
  const names = fields.map((f) => f.name);
  const hidden = (k: string, v: unknown) => Object.defineProperty(row, k, { value: v, enumerable: false, configurable: true });
  for (let i = 0; i < names.length; i++) if (!(names[i] in Array.prototype) && !/^\d+$/.test(names[i])) hidden(names[i], values[i]);
  if (!names.includes('keys')) hidden('keys', () => [...names]);
  if (!names.includes('values')) hidden('values', () => [...values]);
  if (!names.includes('items')) hidden('items', () => names.map((n, i) => [n, values[i]]));
  if (!names.includes('dict')) hidden('dict', () => Object.fromEntries(names.map((n, i) => [n, values[i]])));
  if (!names.includes('get')) hidden('get', (k: unknown, d: unknown = null) => (typeof k === 'number' ? (values[k] ?? d) : names.includes(String(k)) ? values[names.indexOf(String(k))] : d));
  return row;
}

export { PyDateTime };
