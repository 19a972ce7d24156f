/**
 * Python value semantics for templates: how values print (`str()`/`repr()`),
 * truthiness, equality, `%`-formatting, `str.format`, and the methods Jinja
 * templates call on strings, lists and dicts (`'a'.upper()`, `l.append(x)`,
 * `d.items()`).
 *
 * dbt renders with Jinja2 on Python, so `{{ none }}` prints `None`, `[]` is
 * false, `'%s' % x` formats. nunjucks is JavaScript: these helpers are what the
 * tsdbt runtime (runtime.ts) calls so templates behave as dbt's do.
 */
import nunjucks from 'nunjucks';
import { splitArgs } from './args.ts';

const SafeString = nunjucks.runtime.SafeString as unknown as new (s: string) => { val: string; toString(): string };

/** True for nunjucks' SafeString (what macros return). */
export function isSafeString(v: unknown): v is { val: string } {
  return v instanceof SafeString;
}

const TUPLES = new WeakSet<object>();

/** Marks `items` as a Python tuple (it prints as `(a, b)`); returns it. */
export function tsTuple<T extends unknown[]>(items: T): T {
  TUPLES.add(items);
  return items;
}

const SETS = new WeakSet<object>();

/**
 * Marks `items` (already without duplicates) as a Python set: it compares
 * equal to another set with the same members in any order (`set(a) != set(b)`
 * in dbt_utils' equality test) and prints as `{a, b}`; returns it.
 */
export function tsSet<T extends unknown[]>(items: T): T {
  SETS.add(items);
  return items;
}

/** True for an array made by {@link tsSet}. */
export function isSet(v: unknown): boolean {
  return typeof v === 'object' && v !== null && SETS.has(v);
}

/** True for an array made by {@link tsTuple}. */
export function isTuple(v: unknown): boolean {
  return typeof v === 'object' && v !== null && TUPLES.has(v);
}

/** A plain dict: `{}` literal, JSON/YAML object, kwargs — not a class instance. */
/**
 * Marks a class whose instances templates treat as a Python Mapping (`x is
 * mapping`), e.g. dbt's Relation, which is a Mapping in dbt-adapters.
 */
export const PY_MAPPING: unique symbol = Symbol.for('tsdbt.py-mapping') as never;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** String value of a str-like (string or SafeString), else undefined. */
export function asStr(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof SafeString) return (v as { val: string }).val;
  return undefined;
}

/** Python truthiness: '', 0, None, [], {} and empty SafeString are false. */
export function truthy(v: unknown): boolean {
  if (!v) return false;
  if (typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof SafeString) return (v as { val: string }).val.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) {
    for (const k in v) if (k !== '__keywords') return true;
    return false;
  }
  return true;
}

/** Python `==`: strings compare by value (SafeString too), lists and dicts deeply; None == undefined. */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  const sa = asStr(a);
  const sb = asStr(b);
  if (sa !== undefined || sb !== undefined) return sa !== undefined && sb !== undefined && sa === sb;
  if (typeof a !== 'object' || typeof b !== 'object') {
    // eslint-disable-next-line eqeqeq
    return typeof a === typeof b ? a === b : a == b;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    if (SETS.has(a) || SETS.has(b)) {
      if (!(SETS.has(a) && SETS.has(b))) return false; // Python: a set never equals a list
      return a.every((x) => b.some((y) => pyEq(x, y)));
    }
    for (let i = 0; i < a.length; i++) if (!pyEq(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => k !== '__keywords');
    const kb = Object.keys(b).filter((k) => k !== '__keywords');
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !pyEq(a[k], b[k])) return false;
    return true;
  }
  const av = (a as { valueOf(): unknown }).valueOf();
  const bv = (b as { valueOf(): unknown }).valueOf();
  return av !== a && bv !== b ? av === bv : false;
}

function reprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out + q;
}

/** Python `repr()` of a template value (strings quoted, lists `[...]`, dicts `{'k': v}`). */
export function pyRepr(v: unknown): string {
  const s = asStr(v);
  if (s !== undefined) return reprString(s);
  if (Array.isArray(v)) {
    if (TUPLES.has(v)) return v.length === 1 ? `(${pyRepr(v[0])},)` : '(' + v.map(pyRepr).join(', ') + ')';
    if (SETS.has(v)) return v.length === 0 ? 'set()' : '{' + v.map(pyRepr).join(', ') + '}';
    return '[' + v.map(pyRepr).join(', ') + ']';
  }
  if (isPlainObject(v)) {
    const parts: string[] = [];
    for (const k of Object.keys(v)) if (k !== '__keywords') parts.push(`${reprString(k)}: ${pyRepr(v[k])}`);
    return '{' + parts.join(', ') + '}';
  }
  return pyStr(v);
}

/**
 * Python `str()` of a template value, as `{{ value }}` prints it:
 * None → 'None', true → 'True', lists and dicts as their repr, undefined → ''.
 * Objects with their own `toString` (relations, datetimes) print through it.
 */
export function pyStr(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'undefined':
      return '';
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
    case 'object':
      if (v === null) return 'None';
      if (v instanceof SafeString) return (v as { val: string }).val;
      if (Array.isArray(v) || isPlainObject(v)) return pyRepr(v);
      return String(v);
    default:
      return String(v);
  }
}

/** Python `%` on strings: `'%s and %d' % (a, b)`, `'%(name)s' % d`, `%r`, `%.2f`, `%05d`, `%%`. */
export function percentFormat(fmt: string, values: unknown): string {
  const list = Array.isArray(values) ? values : [values];
  let i = 0;
  const re = /%(\([^)]*\))?([-+ 0#]*)(\d+|\*)?(?:\.(\d+))?([sdirfFeEgGxXoc%])/g;
  const out = fmt.replace(re, (_m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    let v: unknown;
    if (key) v = (values as Record<string, unknown>)?.[key.slice(1, -1)];
    else {
      if (i >= list.length) throw new Error('not enough arguments for format string');
      v = list[i++];
    }
    let s: string;
    switch (conv) {
      case 's':
        s = pyStr(v);
        break;
      case 'r':
        s = pyRepr(v);
        break;
      case 'd':
      case 'i':
        s = String(Math.trunc(Number(v)));
        break;
      case 'f':
      case 'F':
        s = Number(v).toFixed(prec === undefined ? 6 : Number(prec));
        break;
      case 'e':
      case 'E':
        s = Number(v).toExponential(prec === undefined ? 6 : Number(prec));
        if (conv === 'E') s = s.toUpperCase();
        break;
      case 'g':
      case 'G':
        s = String(Number(prec === undefined ? Number(v).toPrecision(6) : Number(v).toPrecision(Number(prec) || 1)));
        break;
      case 'x':
        s = Math.trunc(Number(v)).toString(16);
        break;
      case 'X':
        s = Math.trunc(Number(v)).toString(16).toUpperCase();
        break;
      case 'o':
        s = Math.trunc(Number(v)).toString(8);
        break;
      case 'c':
        s = typeof v === 'number' ? String.fromCharCode(v) : pyStr(v);
        break;
      default:
        s = pyStr(v);
    }
    if (flags.includes('+') && /[difeEgG]/.test(conv) && Number(v) >= 0) s = '+' + s;
    const w = width === undefined || width === '*' ? 0 : Number(width);
    if (s.length < w) {
      if (flags.includes('-')) s = s.padEnd(w);
      else if (flags.includes('0') && conv !== 's' && conv !== 'r') {
        const neg = s.startsWith('-') || s.startsWith('+');
        s = neg ? s[0] + s.slice(1).padStart(w - 1, '0') : s.padStart(w, '0');
      } else s = s.padStart(w);
    }
    return s;
  });
  if (!isPlainObject(values) && i < list.length) throw new Error('not all arguments converted during string formatting');
  return out;
}

/** Python `str.format`: `{}`, `{0}`, `{name}`, `{x.attr}`, `{:>10}`/`{:.2f}` (common specs), `{{`/`}}`. */
export function strFormat(fmt: string, args: unknown[]): string {
  const { positional, kwargs } = splitArgs(args);
  const state = { auto: 0 };
  const field = (inner: string): string => {
    const m = /^([^.[!:]*)((?:\.[^.[!:]+|\[[^\]]*\])*)(?:!([rsa]))?(?::([\s\S]*))?$/.exec(inner);
    if (!m) throw new Error(`invalid format field {${inner}}`);
    const [, head, access, conv, rawSpec] = m;
    let v: unknown = head === '' ? positional[state.auto++] : /^\d+$/.test(head) ? positional[Number(head)] : kwargs[head];
    for (const part of access.match(/\.[^.[]+|\[[^\]]*\]/g) ?? []) {
      const key = part.startsWith('.') ? part.slice(1) : part.slice(1, -1);
      v = Array.isArray(v) && /^\d+$/.test(key) ? v[Number(key)] : (v as Record<string, unknown>)?.[key];
    }
    const spec = rawSpec ? walk(rawSpec) : '';
    if (conv === 'r' || conv === 'a') v = pyRepr(v);
    return spec ? formatSpec(v, spec) : pyStr(v);
  };
  // `{field:spec}` with `{…}` fields nested in the spec (`{:{width}}`), `{{`/`}}` escapes.
  function walk(text: string): string {
    let out = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '{') {
        if (text[i + 1] === '{') {
          out += '{';
          i += 2;
          continue;
        }
        let depth = 1;
        let j = i + 1;
        for (; j < text.length && depth > 0; j++) {
          if (text[j] === '{') depth++;
          else if (text[j] === '}') depth--;
        }
        if (depth > 0) throw new Error("expected '}' before end of string");
        out += field(text.slice(i + 1, j - 1));
        i = j;
      } else if (c === '}') {
        if (text[i + 1] !== '}') throw new Error("single '}' encountered in format string");
        out += '}';
        i += 2;
      } else {
        out += c;
        i++;
      }
    }
    return out;
  }
  return walk(fmt);
}

function formatSpec(v: unknown, spec: string): string {
  const m = /^(?:(.)?([<>^=]))?([+\- ])?(0)?(\d+)?(,)?(?:\.(\d+))?([sdfeEgG%])?$/.exec(spec);
  if (!m) return pyStr(v);
  const [, fill = ' ', align, , zero, width, comma, prec, type] = m;
  let s: string;
  if (type === 'f' || (prec !== undefined && typeof v === 'number' && type !== 's')) s = Number(v).toFixed(Number(prec ?? 6));
  else if (type === '%') s = (Number(v) * 100).toFixed(Number(prec ?? 6)) + '%';
  else if (type === 'e' || type === 'E') s = Number(v).toExponential(Number(prec ?? 6));
  else if (type === 'd') s = String(Math.trunc(Number(v)));
  else s = prec !== undefined ? pyStr(v).slice(0, Number(prec)) : pyStr(v);
  if (comma) s = s.replace(/^(-?\d+)/, (d) => d.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
  const w = Number(width ?? 0);
  if (s.length >= w) return s;
  const a = align ?? (zero ? '=' : typeof v === 'number' ? '>' : '<');
  const f = zero && !align ? '0' : fill;
  if (a === '<') return s.padEnd(w, f);
  if (a === '^') {
    const left = Math.floor((w - s.length) / 2);
    return f.repeat(left) + s + f.repeat(w - s.length - left);
  }
  return s.padStart(w, f);
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars == null) {
    if (left && right) return s.trim();
    return left ? s.trimStart() : s.trimEnd();
  }
  const set = String(chars);
  let a = 0;
  let b = s.length;
  if (left) while (a < b && set.includes(s[a])) a++;
  if (right) while (b > a && set.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

function pySplit(s: string, sep: unknown, maxsplit: unknown, fromRight: boolean): string[] {
  const max = maxsplit == null ? -1 : Number(maxsplit);
  if (sep == null) {
    const t = s.trim();
    if (t === '') return [];
    if (max < 0) return t.split(/\s+/);
    if (fromRight) {
      let head = t;
      const tail: string[] = [];
      for (let k = 0; k < max; k++) {
        const mm = /\s+(\S+)$/.exec(head);
        if (!mm) break;
        tail.unshift(mm[1]);
        head = head.slice(0, mm.index);
      }
      return [head, ...tail];
    }
    const out: string[] = [];
    let rest = t;
    for (let k = 0; k < max; k++) {
      const mm = /\s+/.exec(rest);
      if (!mm) break;
      out.push(rest.slice(0, mm.index));
      rest = rest.slice(mm.index + mm[0].length);
    }
    out.push(rest);
    return out;
  }
  const d = pyStr(sep);
  if (d === '') throw new Error('empty separator');
  const parts = s.split(d);
  if (max >= 0 && parts.length > max + 1) {
    if (fromRight) return [parts.slice(0, parts.length - max).join(d), ...parts.slice(parts.length - max)];
    return [...parts.slice(0, max), parts.slice(max).join(d)];
  }
  return parts;
}

function prefixMatch(s: string, p: unknown, end: boolean): boolean {
  const list = Array.isArray(p) ? p : [p];
  return list.some((x) => (end ? s.endsWith(pyStr(x)) : s.startsWith(pyStr(x))));
}

type Method = (self: never, ...args: unknown[]) => unknown;

/** Python str methods callable on template strings: `'{{ name.upper() }}'`. */
export const STRING_METHODS: Record<string, Method> = {
  upper: (s: string) => s.toUpperCase(),
  lower: (s: string) => s.toLowerCase(),
  strip: (s: string, chars?: unknown) => stripChars(s, chars, true, true),
  lstrip: (s: string, chars?: unknown) => stripChars(s, chars, true, false),
  rstrip: (s: string, chars?: unknown) => stripChars(s, chars, false, true),
  split: (s: string, ...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return pySplit(s, positional[0] ?? kwargs.sep, positional[1] ?? kwargs.maxsplit, false);
  },
  rsplit: (s: string, ...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return pySplit(s, positional[0] ?? kwargs.sep, positional[1] ?? kwargs.maxsplit, true);
  },
  splitlines: (s: string) => (s === '' ? [] : s.replace(/\r?\n$/, '').split(/\r?\n|\r/)),
  startswith: (s: string, p: unknown) => prefixMatch(s, p, false),
  endswith: (s: string, p: unknown) => prefixMatch(s, p, true),
  replace: (s: string, old: unknown, neu: unknown, count?: unknown) => {
    const o = pyStr(old);
    const n = pyStr(neu);
    if (count == null || Number(count) < 0) return s.split(o).join(n);
    let out = s;
    let from = 0;
    for (let k = 0; k < Number(count); k++) {
      const at = out.indexOf(o, from);
      if (at < 0) break;
      out = out.slice(0, at) + n + out.slice(at + o.length);
      from = at + n.length;
    }
    return out;
  },
  format: (s: string, ...a: unknown[]) => strFormat(s, a),
  join: (s: string, items: unknown) =>
    toList(items)
      .map((x, i) => {
        const t = asStr(x);
        if (t === undefined) throw new Error(`sequence item ${i}: expected str instance, ${x === null ? 'NoneType' : typeof x === 'number' ? (Number.isInteger(x) ? 'int' : 'float') : Array.isArray(x) ? 'list' : typeof x} found`);
        return t;
      })
      .join(s),
  title: (s: string) => s.toLowerCase().replace(/(^|[^a-zA-Z'])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase()),
  capitalize: (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  swapcase: (s: string) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  find: (s: string, sub: unknown, start?: unknown) => s.indexOf(pyStr(sub), start == null ? 0 : Number(start)),
  rfind: (s: string, sub: unknown) => s.lastIndexOf(pyStr(sub)),
  index: (s: string, sub: unknown) => {
    const i = s.indexOf(pyStr(sub));
    if (i < 0) throw new Error('substring not found');
    return i;
  },
  count: (s: string, sub: unknown) => {
    const t = pyStr(sub);
    if (t === '') return s.length + 1;
    return s.split(t).length - 1;
  },
  isdigit: (s: string) => /^[0-9]+$/.test(s),
  isnumeric: (s: string) => /^[0-9]+$/.test(s),
  isdecimal: (s: string) => /^[0-9]+$/.test(s),
  isalpha: (s: string) => /^[A-Za-z]+$/.test(s),
  isalnum: (s: string) => /^[A-Za-z0-9]+$/.test(s),
  isspace: (s: string) => /^\s+$/.test(s),
  islower: (s: string) => /[a-z]/.test(s) && s === s.toLowerCase(),
  isupper: (s: string) => /[A-Z]/.test(s) && s === s.toUpperCase(),
  zfill: (s: string, w: unknown) => (s.startsWith('-') ? '-' + s.slice(1).padStart(Number(w) - 1, '0') : s.padStart(Number(w), '0')),
  ljust: (s: string, w: unknown, f?: unknown) => s.padEnd(Number(w), f == null ? ' ' : String(f)),
  rjust: (s: string, w: unknown, f?: unknown) => s.padStart(Number(w), f == null ? ' ' : String(f)),
  center: (s: string, w: unknown, f?: unknown) => {
    const fill = f == null ? ' ' : String(f);
    const total = Number(w) - s.length;
    if (total <= 0) return s;
    // CPython: left = total / 2 + (total & width & 1)
    const left = Math.floor(total / 2) + (total & Number(w) & 1);
    return fill.repeat(left) + s + fill.repeat(total - left);
  },
  partition: (s: string, sep: unknown) => {
    const d = pyStr(sep);
    const i = s.indexOf(d);
    return tsTuple(i < 0 ? [s, '', ''] : [s.slice(0, i), d, s.slice(i + d.length)]);
  },
  rpartition: (s: string, sep: unknown) => {
    const d = pyStr(sep);
    const i = s.lastIndexOf(d);
    return tsTuple(i < 0 ? ['', '', s] : [s.slice(0, i), d, s.slice(i + d.length)]);
  },
  removeprefix: (s: string, p: unknown) => (s.startsWith(pyStr(p)) ? s.slice(pyStr(p).length) : s),
  removesuffix: (s: string, p: unknown) => (pyStr(p) && s.endsWith(pyStr(p)) ? s.slice(0, -pyStr(p).length) : s),
  encode: (s: string) => s,
  decode: (s: string) => s,
};

/** Any iterable template value as a list (dict → keys, string → chars). */
export function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v == null) return [];
  const s = asStr(v);
  if (s !== undefined) return [...s];
  if (v instanceof Map) return [...v.keys()];
  if (typeof v === 'object' && Symbol.iterator in (v as object)) return [...(v as Iterable<unknown>)];
  if (typeof v === 'object') return Object.keys(v as object).filter((k) => k !== '__keywords');
  throw new Error(`'${typeof v}' object is not iterable`);
}

/** Python list methods on template lists: `l.append(x)` (returns None, as Python does). */
export const LIST_METHODS: Record<string, Method> = {
  append: (l: unknown[], x: unknown) => {
    l.push(x);
    return null;
  },
  extend: (l: unknown[], xs: unknown) => {
    for (const x of toList(xs)) l.push(x);
    return null;
  },
  insert: (l: unknown[], i: unknown, x: unknown) => {
    l.splice(Number(i) < 0 ? Math.max(0, l.length + Number(i)) : Number(i), 0, x);
    return null;
  },
  pop: (l: unknown[], i?: unknown) => {
    if (l.length === 0) throw new Error('pop from empty list');
    if (i == null) return l.pop();
    const k = Number(i) < 0 ? l.length + Number(i) : Number(i);
    if (k < 0 || k >= l.length) throw new Error('pop index out of range');
    return l.splice(k, 1)[0];
  },
  remove: (l: unknown[], x: unknown) => {
    const k = l.findIndex((y) => pyEq(y, x));
    if (k < 0) throw new Error('list.remove(x): x not in list');
    l.splice(k, 1);
    return null;
  },
  index: (l: unknown[], x: unknown) => {
    const k = l.findIndex((y) => pyEq(y, x));
    if (k < 0) throw new Error(`${pyRepr(x)} is not in list`);
    return k;
  },
  count: (l: unknown[], x: unknown) => l.filter((y) => pyEq(y, x)).length,
  reverse: (l: unknown[]) => {
    l.reverse();
    return null;
  },
  sort: (l: unknown[], ...a: unknown[]) => {
    const { kwargs } = splitArgs(a);
    l.sort(pyCompare);
    if (truthy(kwargs.reverse)) l.reverse();
    return null;
  },
  copy: (l: unknown[]) => l.slice(),
  clear: (l: unknown[]) => {
    l.length = 0;
    return null;
  },
};

/** Python ordering for sort(): numbers numerically, strings by code point, None first. */
export function pyCompare(a: unknown, b: unknown): number {
  if (a == null || b == null) return a == null ? (b == null ? 0 : -1) : 1;
  const sa = asStr(a);
  const sb = asStr(b);
  if (sa !== undefined && sb !== undefined) return sa < sb ? -1 : sa > sb ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  const x = a as number;
  const y = b as number;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Python dict methods on template dicts: `d.items()`, `d.get(k, default)` (None when missing). */
export const DICT_METHODS: Record<string, Method> = {
  items: (d: Record<string, unknown>) => Object.keys(d).filter((k) => k !== '__keywords').map((k) => tsTuple([k, d[k]])),
  keys: (d: Record<string, unknown>) => Object.keys(d).filter((k) => k !== '__keywords'),
  values: (d: Record<string, unknown>) => Object.keys(d).filter((k) => k !== '__keywords').map((k) => d[k]),
  get: (d: Record<string, unknown>, k: unknown, def: unknown = null) => {
    const key = pyStr(k);
    return Object.prototype.hasOwnProperty.call(d, key) && d[key] !== undefined ? d[key] : def;
  },
  has_key: (d: Record<string, unknown>, k: unknown) => Object.prototype.hasOwnProperty.call(d, pyStr(k)),
  update: (d: Record<string, unknown>, ...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    for (const src of positional) {
      if (Array.isArray(src)) for (const [k, v] of src as [string, unknown][]) d[k] = v;
      else if (src && typeof src === 'object') Object.assign(d, src);
    }
    Object.assign(d, kwargs);
    delete d.__keywords;
    return null;
  },
  pop: (d: Record<string, unknown>, k: unknown, ...rest: unknown[]) => {
    const key = pyStr(k);
    if (Object.prototype.hasOwnProperty.call(d, key)) {
      const v = d[key];
      delete d[key];
      return v;
    }
    if (rest.length) return rest[0];
    throw new Error(`KeyError: ${pyRepr(k)}`);
  },
  setdefault: (d: Record<string, unknown>, k: unknown, def: unknown = null) => {
    const key = pyStr(k);
    if (!Object.prototype.hasOwnProperty.call(d, key)) d[key] = def;
    return d[key];
  },
  copy: (d: Record<string, unknown>) => ({ ...d }),
  clear: (d: Record<string, unknown>) => {
    for (const k of Object.keys(d)) delete d[k];
    return null;
  },
};
DICT_METHODS.iteritems = DICT_METHODS.items;
DICT_METHODS.iterkeys = DICT_METHODS.keys;
DICT_METHODS.itervalues = DICT_METHODS.values;

/** Python slice `seq[start:stop:step]` on a list or string. */
export function pySlice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  const s = asStr(obj);
  const seq: unknown[] = s !== undefined ? [...s] : Array.isArray(obj) ? obj : toList(obj);
  const len = seq.length;
  const st = step == null ? 1 : Number(step);
  if (st === 0) throw new Error('slice step cannot be zero');
  const norm = (v: unknown, def: number, lo: number, hi: number): number => {
    if (v == null) return def;
    let n = Number(v);
    if (n < 0) n += len;
    return Math.min(Math.max(n, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const a = norm(start, 0, 0, len);
    const b = norm(stop, len, 0, len);
    for (let i = a; i < b; i += st) out.push(seq[i]);
  } else {
    const a = norm(start, len - 1, -1, len - 1);
    const b = norm(stop, -1, -1, len - 1);
    for (let i = a; i > b; i += st) out.push(seq[i]);
  }
  return s !== undefined ? out.join('') : out;
}
