/**
 * JSON as Python's `json.dumps` writes it (what dbt's `tojson` produces):
 * `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`, optional
 * sorted keys and indentation.
 */
import { asStr, isPlainObject, pyStr } from './python.ts';

export interface PyJsonOptions {
  /** Spaces per level; null → one line. */
  readonly indent?: number | null;
  readonly sortKeys?: boolean;
}

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * Serialises a template value like Python's json.dumps. Values JSON cannot
 * hold (relations, datetimes) are written as their string form.
 */
export function pyJson(value: unknown, opts: PyJsonOptions = {}): string {
  const indent = opts.indent === null || opts.indent === undefined ? null : Number(opts.indent);
  const write = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    const s = asStr(v);
    if (s !== undefined) return quote(s);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    const pad = indent === null ? '' : '\n' + ' '.repeat(indent * (depth + 1));
    const end = indent === null ? '' : '\n' + ' '.repeat(indent * depth);
    const sep = indent === null ? ', ' : ',';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return '[' + v.map((x) => pad + write(x, depth + 1)).join(sep) + end + ']';
    }
    if (isPlainObject(v) || v instanceof Map) {
      let keys = v instanceof Map ? [...v.keys()].map(String) : Object.keys(v).filter((k) => k !== '__keywords');
      if (opts.sortKeys) keys = keys.slice().sort();
      if (keys.length === 0) return '{}';
      const get = (k: string) => (v instanceof Map ? v.get(k) : (v as Record<string, unknown>)[k]);
      return '{' + keys.map((k) => pad + quote(k) + ': ' + write(get(k), depth + 1)).join(sep) + end + '}';
    }
    const toJSON = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === 'function') return write(toJSON.call(v), depth);
    return quote(pyStr(v));
  };
  return write(value, 0);
}
