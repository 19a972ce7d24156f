/**
 * Jinja filters and tests with Jinja2's meaning (as dbt uses them), installed
 * on tsdbt's nunjucks Environment over nunjucks' own where they differ.
 *
 * Filters receive the template context as `this` and keyword arguments as a
 * trailing `__keywords` object (see args.ts).
 */
import { readParams, splitArgs } from './args.ts';
import { pyJson } from './json.ts';
import {
  DICT_METHODS,
  STRING_METHODS,
  isTuple,
  pyRepr,
  asStr,
  isPlainObject,
  isSafeString,
  PY_MAPPING,
  percentFormat,
  pyCompare,
  pyEq,
  pyStr,
  toList,
  truthy,
  tsTuple,
} from './python.ts';
import { memberLookup } from './runtime.ts';
import { parseLiteral } from './literal.ts';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** markupsafe's escape(): & < > " ' as entities. */
function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Python's round(x, ndigits): the exact decimal value of the double, ties to
 * even (round(2.5) is 2, round(2.675, 2) is 2.67 because 2.675 is stored as 2.67499…).
 */
function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || !Number.isInteger(ndigits) || ndigits < 0 || ndigits > 50 || Math.abs(x) >= 1e21) {
    const f = 10 ** ndigits;
    return Math.round(x * f) / f;
  }
  const [ip, fp] = Math.abs(x).toFixed(100).split('.');
  let digits = BigInt(ip + fp.slice(0, ndigits));
  const rest = fp.slice(ndigits).replace(/0+$/, '');
  if (rest > '5' || (rest === '5' && digits % 2n === 1n)) digits += 1n;
  const r = Number(digits) / 10 ** ndigits;
  return x < 0 ? -r : r;
}

type Fn = (this: FilterContext, ...args: unknown[]) => unknown;
/** The `this` filters see: the render context, which knows the environment. */
export interface FilterContext {
  env: { getFilter(name: string): Fn; getTest(name: string): Fn };
}

/** Jinja attribute paths: 'a.b', '0' → value (missing → undefined). */
function getAttr(item: unknown, path: unknown): unknown {
  let v = item;
  for (const part of String(path).split('.')) {
    v = memberLookup(v, /^\d+$/.test(part) && Array.isArray(v) ? Number(part) : part);
    if (v === undefined) return undefined;
  }
  return v;
}

function sortKey(v: unknown, caseSensitive: boolean): unknown {
  const s = asStr(v);
  return s !== undefined && !caseSensitive ? s.toLowerCase() : v;
}

function selectOrReject(ctx: FilterContext, items: unknown, args: unknown[], wantTrue: boolean, byAttr: boolean): unknown[] {
  const { positional } = splitArgs(args);
  const list = toList(items);
  let i = 0;
  const attr = byAttr ? positional[i++] : undefined;
  const testName = positional[i++];
  const testArgs = positional.slice(i);
  const value = (x: unknown) => (byAttr ? getAttr(x, attr) : x);
  if (testName === undefined) return list.filter((x) => truthy(value(x)) === wantTrue);
  const test = ctx.env.getTest(String(testName));
  return list.filter((x) => (test.call(ctx, value(x), ...testArgs) === true) === wantTrue);
}

/** Filters tsdbt installs (names as in Jinja2; dbt's as_bool/as_native/as_number/as_text too). */
export const FILTERS: Record<string, Fn> = {
  abs: (v) => Math.abs(Number(v)),
  // Jinja's attr() reads an attribute, never a dict key.
  attr: (obj, name) => (isPlainObject(obj) && !Object.prototype.hasOwnProperty.call(DICT_METHODS, pyStr(name)) ? undefined : memberLookup(obj, pyStr(name))),
  batch(items, ...a) {
    const p = readParams(a, ['linecount', 'fill_with'], { fill_with: null });
    const n = Number(p.linecount);
    const list = toList(items);
    const out: unknown[][] = [];
    for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
    const last = out[out.length - 1];
    if (last && p.fill_with !== null && p.fill_with !== undefined) while (last.length < n) last.push(p.fill_with);
    return out;
  },
  capitalize: (v) => STRING_METHODS.capitalize(pyStr(v) as never),
  count: (v) => FILTERS.length.call(undefined as never, v),
  d: (v, ...a) => FILTERS.default.call(undefined as never, v, ...a),
  default(v, ...a) {
    const p = readParams(a, ['default_value', 'boolean'], { default_value: '', boolean: false });
    if (v === undefined || (truthy(p.boolean) && !truthy(v))) return p.default_value;
    return v;
  },
  dictsort(v, ...a) {
    const p = readParams(a, ['case_sensitive', 'by', 'reverse'], { case_sensitive: false, by: 'key', reverse: false });
    const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => k !== '__keywords');
    const idx = p.by === 'value' ? 1 : 0;
    entries.sort((x, y) => pyCompare(sortKey(x[idx], truthy(p.case_sensitive)), sortKey(y[idx], truthy(p.case_sensitive))));
    if (truthy(p.reverse)) entries.reverse();
    return entries.map(tsTuple);
  },
  e: (v) => FILTERS.escape.call(undefined as never, v),
  escape: (v) => (isSafeString(v) ? v : htmlEscape(pyStr(v))),
  first: (v) => toList(v)[0],
  float(v, ...a) {
    const p = readParams(a, ['default'], { default: 0 });
    const n = typeof v === 'boolean' ? Number(v) : parseFloat(pyStr(v));
    return Number.isNaN(n) ? p.default : n;
  },
  format: (v, ...a) => {
    const { positional, kwargs } = splitArgs(a);
    return percentFormat(pyStr(v), Object.keys(kwargs).length ? kwargs : positional);
  },
  groupby(items, ...a) {
    const p = readParams(a, ['attribute', 'default'], {});
    const groups = new Map<string, { key: unknown; list: unknown[] }>();
    for (const x of toList(items)) {
      let k = getAttr(x, p.attribute);
      if (k === undefined) k = p.default;
      const id = JSON.stringify(k) ?? 'undefined';
      if (!groups.has(id)) groups.set(id, { key: k, list: [] });
      groups.get(id)!.list.push(x);
    }
    return [...groups.values()]
      .sort((x, y) => pyCompare(x.key, y.key))
      .map((g) => Object.assign([g.key, g.list], { grouper: g.key, list: g.list }));
  },
  int(v, ...a) {
    const p = readParams(a, ['default', 'base'], { default: 0, base: 10 });
    if (typeof v === 'boolean') return Number(v);
    if (typeof v === 'number') return Math.trunc(v);
    const s = pyStr(v).trim();
    let n = Number(p.base) === 10 ? parseInt(s, 10) : parseInt(s.replace(/^0[xob]/i, ''), Number(p.base));
    if (Number.isNaN(n) || (Number(p.base) === 10 && !/^[-+]?\d+$/.test(s))) {
      const f = parseFloat(s);
      n = Number.isNaN(f) ? NaN : Math.trunc(f);
    }
    return Number.isNaN(n) ? p.default : n;
  },
  items: (v) => (v == null ? [] : Object.entries(v as object).filter(([k]) => k !== '__keywords').map(tsTuple)),
  join(v, ...a) {
    const p = readParams(a, ['d', 'attribute'], { d: '' });
    let list = toList(v);
    if (p.attribute !== undefined) list = list.map((x) => getAttr(x, p.attribute));
    return list.map(pyStr).join(pyStr(p.d));
  },
  last: (v) => {
    const l = toList(v);
    return l[l.length - 1];
  },
  length: (v) => {
    if (v === undefined || v === null) return 0;
    const s = asStr(v);
    if (s !== undefined) return s.length;
    if (Array.isArray(v)) return v.length;
    if (v instanceof Map || v instanceof Set) return v.size;
    if (typeof v === 'object') return Object.keys(v).filter((k) => k !== '__keywords').length;
    return 0;
  },
  list: (v) => (Array.isArray(v) ? v.slice() : toList(v)),
  lower: (v) => pyStr(v).toLowerCase(),
  map(items, ...a) {
    const { positional, kwargs } = splitArgs(a);
    const list = toList(items);
    if (kwargs.attribute !== undefined) {
      return list.map((x) => {
        const v = getAttr(x, kwargs.attribute);
        return v === undefined && 'default' in kwargs ? kwargs.default : v;
      });
    }
    if (positional.length === 0) return list;
    const f = this.env.getFilter(String(positional[0]));
    const rest = positional.slice(1);
    if (Object.keys(kwargs).length) rest.push({ ...kwargs, __keywords: true });
    return list.map((x) => f.call(this, x, ...rest));
  },
  max(v, ...a) {
    const p = readParams(a, ['case_sensitive', 'attribute'], { case_sensitive: false });
    const list = toList(v);
    if (list.length === 0) return undefined;
    const key = (x: unknown) => sortKey(p.attribute !== undefined ? getAttr(x, p.attribute) : x, truthy(p.case_sensitive));
    return list.reduce((m, x) => (pyCompare(key(x), key(m)) > 0 ? x : m));
  },
  min(v, ...a) {
    const p = readParams(a, ['case_sensitive', 'attribute'], { case_sensitive: false });
    const list = toList(v);
    if (list.length === 0) return undefined;
    const key = (x: unknown) => sortKey(p.attribute !== undefined ? getAttr(x, p.attribute) : x, truthy(p.case_sensitive));
    return list.reduce((m, x) => (pyCompare(key(x), key(m)) < 0 ? x : m));
  },
  pprint: (v) => pyRepr(v),
  reject(v, ...a) {
    return selectOrReject(this, v, a, false, false);
  },
  rejectattr(v, ...a) {
    return selectOrReject(this, v, a, false, true);
  },
  replace: (v, old, neu, count) => STRING_METHODS.replace(pyStr(v) as never, old, neu, count),
  reverse: (v) => {
    const s = asStr(v);
    if (s !== undefined) return [...s].reverse().join('');
    return toList(v).slice().reverse();
  },
  round(v, ...a) {
    const p = readParams(a, ['precision', 'method'], { precision: 0, method: 'common' });
    const prec = Number(p.precision);
    const x = Number(v);
    if (p.method === 'common') return pyRound(x, prec);
    const f = 10 ** prec;
    return (p.method === 'ceil' ? Math.ceil(x * f) : Math.floor(x * f)) / f;
  },
  select(v, ...a) {
    return selectOrReject(this, v, a, true, false);
  },
  selectattr(v, ...a) {
    return selectOrReject(this, v, a, true, true);
  },
  sort(v, ...a) {
    const p = readParams(a, ['reverse', 'case_sensitive', 'attribute'], { reverse: false, case_sensitive: false });
    const cs = truthy(p.case_sensitive);
    // attribute='a,b' sorts by a, then b (Jinja's make_multi_attrgetter).
    const attrs = typeof p.attribute === 'string' && p.attribute.includes(',') ? p.attribute.split(',') : undefined;
    const key = attrs
      ? (x: unknown) => attrs.map((at) => sortKey(getAttr(x, at), cs))
      : (x: unknown) => sortKey(p.attribute !== undefined ? getAttr(x, p.attribute) : x, cs);
    const out = toList(v).slice().sort((x, y) => pyCompare(key(x), key(y)));
    return truthy(p.reverse) ? out.reverse() : out;
  },
  string: (v) => pyStr(v),
  sum(v, ...a) {
    const p = readParams(a, ['attribute', 'start'], { start: 0 });
    let list = toList(v);
    if (p.attribute !== undefined) list = list.map((x) => getAttr(x, p.attribute));
    return list.reduce((s: number, x) => s + Number(x), Number(p.start));
  },
  title: (v) => STRING_METHODS.title(pyStr(v) as never),
  tojson(v, ...a) {
    if (v === undefined) throw new Error('Object of type Undefined is not JSON serializable');
    const p = readParams(a, ['indent', 'sort_keys'], { indent: null, sort_keys: true });
    // Jinja's tojson filter is HTML-safe: <, >, & and ' are written as \u escapes.
    return pyJson(v, { indent: p.indent as number | null, sortKeys: truthy(p.sort_keys) }).replace(/[<>&']/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  },
  trim: (v, chars) => STRING_METHODS.strip(pyStr(v) as never, chars),
  unique(v, ...a) {
    const p = readParams(a, ['case_sensitive', 'attribute'], { case_sensitive: false });
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const x of toList(v)) {
      const k = sortKey(p.attribute !== undefined ? getAttr(x, p.attribute) : x, truthy(p.case_sensitive));
      if (seen.some((s) => pyEq(s, k))) continue;
      seen.push(k);
      out.push(x);
    }
    return out;
  },
  upper: (v) => pyStr(v).toUpperCase(),
  wordcount: (v) => (pyStr(v).match(/\w+/g) ?? []).length,
  // dbt's own filters (used when rendering yaml and in macros).
  as_bool: (v) => {
    const x = typeof v === 'string' ? parseLiteral(v) : v;
    return typeof x === 'boolean' ? x : v;
  },
  as_native: (v) => (typeof v === 'string' ? parseLiteral(v) : v),
  as_number: (v) => {
    const x = typeof v === 'string' ? parseLiteral(v) : v;
    return typeof x === 'number' ? x : v;
  },
  as_text: (v) => (v === null || v === undefined ? '' : pyStr(v)),
  is_list: (v) => Array.isArray(v) && !isTuple(v),
};

function isMapping(v: unknown): boolean {
  return isPlainObject(v) || v instanceof Map || (typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[PY_MAPPING] === true);
}

/** Tests for `x is …` (Jinja2's, with undefined treated as none). */
export const TESTS: Record<string, Fn> = {
  none: (v) => v === null || v === undefined,
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  string: (v) => typeof v === 'string' || isSafeString(v),
  number: (v) => typeof v === 'number',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  mapping: (v) => isMapping(v),
  // Jinja's Undefined iterates as empty.
  iterable: (v) =>
    v === undefined ||
    typeof v === 'string' || isSafeString(v) || Array.isArray(v) || isMapping(v) || (typeof v === 'object' && v !== null && Symbol.iterator in v),
  sequence: (v) => typeof v === 'string' || isSafeString(v) || Array.isArray(v) || isMapping(v),
  callable: (v) => typeof v === 'function',
  equalto: (a, b) => pyEq(a, b),
  eq: (a, b) => pyEq(a, b),
  '==': (a, b) => pyEq(a, b),
  ne: (a, b) => !pyEq(a, b),
  '!=': (a, b) => !pyEq(a, b),
  sameas: (a, b) => a === b,
  lt: (a, b) => pyCompare(a, b) < 0,
  '<': (a, b) => pyCompare(a, b) < 0,
  lessthan: (a, b) => pyCompare(a, b) < 0,
  le: (a, b) => pyCompare(a, b) <= 0,
  '<=': (a, b) => pyCompare(a, b) <= 0,
  gt: (a, b) => pyCompare(a, b) > 0,
  '>': (a, b) => pyCompare(a, b) > 0,
  greaterthan: (a, b) => pyCompare(a, b) > 0,
  ge: (a, b) => pyCompare(a, b) >= 0,
  '>=': (a, b) => pyCompare(a, b) >= 0,
  in: (a, b) => {
    const s = asStr(b);
    if (s !== undefined) return s.includes(pyStr(a));
    if (Array.isArray(b)) return b.some((x) => pyEq(x, a));
    return typeof b === 'object' && b !== null && Object.prototype.hasOwnProperty.call(b, pyStr(a));
  },
  divisibleby: (a, b) => Number(a) % Number(b) === 0,
  filter(name) {
    try {
      return typeof this.env.getFilter(pyStr(name)) === 'function';
    } catch {
      return false;
    }
  },
  test(name) {
    try {
      return typeof this.env.getTest(pyStr(name)) === 'function';
    } catch {
      return false;
    }
  },
  even: (v) => Number(v) % 2 === 0,
  odd: (v) => Math.abs(Number(v) % 2) === 1,
  lower: (v) => pyStr(v) === pyStr(v).toLowerCase(),
  upper: (v) => pyStr(v) === pyStr(v).toUpperCase(),
};
