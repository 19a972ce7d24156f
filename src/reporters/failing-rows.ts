/**
 * A small aligned text table of a test's failing rows for the console.
 */

const MAX_CELL = 40;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * A Date as the database would print it. pg builds `date` and `timestamp`
 * values in the machine's time zone, so their local fields are the stored
 * wall-clock value: `2018-01-01`, or `2018-01-01 10:00:00` (never a UTC shift).
 */
function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return 'Invalid Date';
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const ms = d.getMilliseconds();
  if (!d.getHours() && !d.getMinutes() && !d.getSeconds() && !ms) return day;
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${ms ? '.' + pad(ms, 3) : ''}`;
}

function cell(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = 'null';
  else if (v instanceof Date) s = dateText(v);
  else if (typeof v === 'object') s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  else s = String(v);
  s = s.replace(/\r\n|\r|\n/g, '\\n').replace(/\t/g, '\\t');
  const chars = Array.from(s);
  return chars.length > MAX_CELL ? chars.slice(0, MAX_CELL - 1).join('') + '…' : s;
}

const width = (s: string): number => Array.from(s).length;
const numeric = (v: unknown): boolean =>
  typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v));

/**
 * Formats up to `max` rows as a table: a header of column names (every key seen in
 * those rows, first-seen order), a `-` rule, one line per row; all-numeric columns
 * (numbers, or numeric strings as pg returns bigint/numeric) right-aligned,
 * null shown as `null`, newlines as `\n`, cells cut at 40 characters with `…`.
 * When rows were left out, a last line says how many: `… 7 more rows`.
 * No rows → `(no rows)`.
 *
 * @example
 * formatFailingRows([{ unique_field: 2, n_records: 2 }])
 * // unique_field | n_records
 * // ------------ | ---------
 * //            2 |         2
 */
export function formatFailingRows(rows: readonly Record<string, unknown>[], max = 5): string {
  if (rows.length === 0) return '(no rows)';
  const shown = rows.slice(0, Math.max(0, max));
  const columns: string[] = [];
  for (const r of shown) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  if (columns.length === 0) return `(${rows.length} row${rows.length === 1 ? '' : 's'} without columns)`;
  const body = shown.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(width(cell(c)), ...body.map((b) => width(b[i]))));
  const pad = (s: string, i: number, right: boolean) => {
    const fill = ' '.repeat(widths[i] - width(s));
    return right ? fill + s : s + fill;
  };
  // A column is right-aligned when every value in it is a number (drivers return bigint/numeric as strings).
  const rightAlign = columns.map((c) => {
    const vals = shown.map((r) => r[c]).filter((v) => v !== null && v !== undefined);
    return vals.length > 0 && vals.every(numeric);
  });
  const line = (cells: string[], rightAlign: boolean[]) =>
    cells.map((s, i) => pad(s, i, rightAlign[i])).join(' | ').replace(/\s+$/, '');
  const out = [
    line(columns.map(cell), columns.map(() => false)),
    widths.map((w) => '-'.repeat(w)).join(' | '),
    ...body.map((b) => line(b, rightAlign)),
  ];
  const rest = rows.length - shown.length;
  if (rest > 0) out.push(`… ${rest} more row${rest === 1 ? '' : 's'}`);
  return out.join('\n');
}
