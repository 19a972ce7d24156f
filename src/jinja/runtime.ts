/**
 * The runtime object tsdbt's compiled templates run against: nunjucks'
 * runtime with Python/Jinja semantics swapped in (printing, truthiness,
 * member lookup with Python methods, `+`/`%`/`*` on strings and lists, `in`,
 * `==`), plus the hooks for dbt's `return()` and for error locations.
 *
 * It is passed to each compiled root function; nunjucks' own module is not
 * modified, so other users of nunjucks are unaffected.
 */
import nunjucks from 'nunjucks';
import { distance } from 'fastest-levenshtein';
import { TsdbtError } from '../errors.ts';
import {
  DICT_METHODS,
  LIST_METHODS,
  STRING_METHODS,
  asStr,
  isPlainObject,
  isSafeString,
  percentFormat,
  pyCompare,
  pyEq,
  pySlice,
  pyStr,
  toList,
  truthy,
  tsTuple,
} from './python.ts';

const base = nunjucks.runtime as unknown as Record<string, unknown>;
const hasOwn = Object.prototype.hasOwnProperty;

/** Thrown by `return(value)`; the enclosing macro call evaluates to `value`. */
export class MacroReturn {
  constructor(readonly value: unknown) {}
}

/** What a template context must offer the runtime for error messages. */
export interface SuggestingContext {
  /** Names known at this point (macros, context values, globals) for "did you mean" hints. */
  knownNames?(): Iterable<string>;
}

/** Errors already given a file/line (by the innermost macro or template that saw them). */
const located = new WeakSet<object>();

/** An error caught at a template's top level, waiting for the renderer to add the file name. */
export class PendingError {
  constructor(
    readonly error: unknown,
    readonly lineno: number,
    readonly colno: number,
  ) {}
}

/** True if `e` already carries the location where it happened. */
export function isLocated(e: unknown): e is TsdbtError {
  return typeof e === 'object' && e !== null && located.has(e);
}

/** Marks a TsdbtError as located (its file/line are final). */
export function markLocated<T extends object>(e: T): T {
  located.add(e);
  return e;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Gives `e` the location `file:line:column` (1-based) unless it has one:
 * a TsdbtError keeps its code and hint; anything else becomes `jinja-error`.
 * `where` names the macro ("in macro 'x'") when the error happened in one.
 */
export function locateError(e: unknown, file: string, line: number, column: number, where?: string): TsdbtError {
  if (isLocated(e)) return e;
  if (e instanceof MacroReturn) {
    return markLocated(
      new TsdbtError('jinja-error', 'return() was called outside of a macro', {
        file,
        line,
        column,
        hint: 'Use return(value) only inside {% macro %} blocks; in a model, output the value with {{ value }}.',
      }),
    );
  }
  const suffix = where ? ` (${where})` : '';
  if (e instanceof TsdbtError) {
    // An error raised for this same file without a line gets the line of the call; one that points elsewhere keeps its place.
    if (e.file && (e.line !== undefined || e.file !== file)) return markLocated(e);
    // An error that knows its own line (raised by the runtime) keeps it.
    const at = e.line !== undefined ? { line: e.line, column: e.column } : { line, column };
    return markLocated(new TsdbtError(e.code, e.message + suffix, { file, ...at, hint: e.hint, kind: e.kind, cause: e }));
  }
  return markLocated(
    new TsdbtError('jinja-error', messageOf(e) + suffix, {
      file,
      line,
      column,
      hint: 'Check the Jinja expression on this line.',
      cause: e,
    }),
  );
}

/**
 * `fn` bound to `self`, for `obj.method()` calls. A function that carries its
 * own attributes (a namespace-like callable such as `modules.datetime.datetime`)
 * keeps them reachable through the bound copy.
 */
function bindTo(fn: (...a: unknown[]) => unknown, self: unknown): (...a: unknown[]) => unknown {
  const bound = fn.bind(self);
  for (const _ in fn) {
    Object.setPrototypeOf(bound, fn);
    break;
  }
  return bound;
}

function bindMethod(fn: (...a: never[]) => unknown, self: unknown): (...a: unknown[]) => unknown {
  return (...a: unknown[]) => (fn as (s: unknown, ...a: unknown[]) => unknown)(self, ...a);
}

let lenientUndefined = false;

/**
 * With `true`, `x.y` on an undefined `x` gives undefined instead of an error
 * (for a lenient first pass over a project, as dbt's parse phase is).
 * Returns the previous setting. @internal set by JinjaEnv around a render.
 */
export function setLenientUndefined(on: boolean): boolean {
  const prev = lenientUndefined;
  lenientUndefined = on;
  return prev;
}

/**
 * `obj.key` / `obj[key]` with Python methods on str, list and dict, and
 * negative indexes. `name` is the target's source text: reading an attribute
 * of an undefined value is an error naming it, as in dbt (Jinja's Undefined);
 * of None it gives undefined.
 */
function memberLookup(obj: unknown, key: unknown, name?: string, lineno?: number, colno?: number): unknown {
  if (obj === undefined) {
    if (lenientUndefined || name === undefined) return undefined;
    const pretty = prettyName(name);
    throw new TsdbtError('jinja-error', `'${pretty}' is undefined (reading '${pyStr(key)}')`, {
      line: lineno === undefined ? undefined : lineno + 1,
      column: colno === undefined ? undefined : colno + 1,
      hint: /^[A-Za-z_]\w*$/.test(pretty)
        ? `Nothing named '${pretty}' exists here: check the spelling, or guard with {% if ${pretty} is defined %}.`
        : `Check each name in '${pretty}'; guard with {% if ${pretty} is defined %} if it can be missing.`,
    });
  }
  if (obj === null) return undefined;
  if (typeof obj === 'object') {
    if (Array.isArray(obj)) {
      if (typeof key === 'number') return key < 0 ? obj[obj.length + key] : obj[key];
      if (typeof key === 'string' && hasOwn.call(LIST_METHODS, key)) return bindMethod(LIST_METHODS[key], obj);
      return (obj as unknown as Record<string, unknown>)[key as string];
    }
    if (isSafeString(obj)) return memberLookup(obj.val, key);
    const rec = obj as Record<string, unknown>;
    const v = rec[key as string];
    if (v !== undefined) {
      if (typeof v !== 'function') return v;
      if (hasOwn.call(rec, key as string) || !isPlainObject(obj)) return bindTo(v as (...a: unknown[]) => unknown, obj);
    }
    if (typeof key === 'string' && hasOwn.call(DICT_METHODS, key) && isPlainObject(obj)) {
      return bindMethod(DICT_METHODS[key], obj);
    }
    return typeof v === 'function' ? bindTo(v as (...a: unknown[]) => unknown, obj) : v;
  }
  if (typeof obj === 'string') {
    if (typeof key === 'number') return key < 0 ? obj[obj.length + key] : obj[key];
    if (typeof key === 'string' && hasOwn.call(STRING_METHODS, key)) return bindMethod(STRING_METHODS[key], obj);
    return undefined;
  }
  if (typeof obj === 'function') {
    const info = (obj as { __jinja?: Record<string, unknown> }).__jinja;
    if (info !== undefined) return hasOwn.call(info, key as string) ? info[key as string] : undefined;
    if (key === 'arguments' || key === 'caller') return undefined;
    const v = (obj as unknown as Record<string, unknown>)[key as string];
    return typeof v === 'function' ? bindTo(v as (...a: unknown[]) => unknown, obj) : v;
  }
  return undefined;
}

function contextOrFrameLookup(context: { lookup(name: string): unknown }, frame: { lookup(name: string): unknown }, name: string): unknown {
  let v = frame.lookup(name);
  if (v !== undefined) return v;
  v = context.lookup(name);
  if (v !== undefined) return v;
  switch (name) {
    case 'True':
      return true;
    case 'False':
      return false;
    case 'None':
      return null;
    default:
      return undefined;
  }
}

function prettyName(name: string): string {
  return name.replace(/\["([^"]*)"\]/g, '.$1');
}

function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'string' || isSafeString(v)) return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'dict';
  return typeof v;
}

/** Closest known name within a small edit distance, for "did you mean" hints. */
export function closestName(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(name.length / 3));
  for (const n of names) {
    if (n === name) continue;
    const d = distance(name, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return bestD <= limit ? best : undefined;
}

function callWrap(fn: unknown, name: string, context: SuggestingContext, args: unknown[]): unknown {
  if (typeof fn === 'function') return (fn as (...a: unknown[]) => unknown).apply(context, args);
  const pretty = prettyName(name);
  // dbt's parse-time Undefined is callable (it returns itself): `run_query(q).columns[0].values()` renders at
  // parse, where run_query gives None. A bare undefined name stays an error (a misspelt macro).
  if (fn === undefined && lenientUndefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pretty)) return undefined;
  if (fn === undefined || fn === null) {
    if (fn === null) {
      throw new TsdbtError('jinja-error', `'${pretty}' is None and cannot be called`, { hint: `Check what sets '${pretty}'.` });
    }
    const simple = /^[A-Za-z_][A-Za-z0-9_]*$/.test(pretty);
    let hint: string;
    if (simple) {
      const near = context.knownNames ? closestName(pretty, context.knownNames()) : undefined;
      hint = near
        ? `Did you mean '${near}'? Otherwise check the macro's spelling and that its file is under macro-paths.`
        : 'Check the spelling, and that the macro is defined in a .sql file under macro-paths (or in an installed package).';
    } else {
      hint = `Check the name after the last dot: '${pretty}' does not exist.`;
    }
    throw new TsdbtError('jinja-error', `'${pretty}' is undefined`, { hint });
  }
  throw new TsdbtError('jinja-error', `'${pretty}' is not callable (it is a ${pyTypeName(fn)})`, {
    hint: `Remove the parentheses after '${pretty}', or check that the name refers to a macro or function.`,
  });
}

function handleError(e: unknown, lineno: number, colno: number): unknown {
  if (e instanceof PendingError) return e;
  return new PendingError(e, lineno, colno);
}

function suppressValue(v: unknown): unknown {
  return typeof v === 'string' ? v : pyStr(v);
}

function inOperator(key: unknown, container: unknown): boolean {
  if (container === undefined || container === null) return false;
  const s = asStr(container);
  if (s !== undefined) return s.includes(pyStr(key));
  if (Array.isArray(container)) {
    for (const x of container) if (pyEq(x, key)) return true;
    return false;
  }
  if (container instanceof Map || container instanceof Set) return container.has(key);
  if (typeof container === 'object') return hasOwn.call(container, asStr(key) ?? String(key));
  throw new TsdbtError('jinja-error', `argument of type '${pyTypeName(container)}' is not iterable`, {
    hint: "The right side of 'in' must be a list, dict or string.",
  });
}

type Dunder = { __add__?: (o: unknown) => unknown; __radd__?: (o: unknown) => unknown; __sub__?: (o: unknown) => unknown };

/** Arithmetic on an undefined value is an error, as with Jinja's Undefined (lenient renders give undefined). */
function undefinedOperand(op: string): unknown {
  if (lenientUndefined) return undefined;
  throw new TsdbtError('jinja-error', `an undefined value was used with '${op}'`, {
    hint: `Check that both sides of '${op}' are defined; give a fallback with | default(…).`,
  });
}

/** A Python number (bools count) for arithmetic `op`, else TypeError as in Python. */
function num(v: unknown, op: string, other?: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new TsdbtError('jinja-error', other === undefined ? `bad operand type for unary ${op}: '${pyTypeName(v)}'` : `unsupported operand type(s) for ${op}: '${pyTypeName(v)}' and '${pyTypeName(other)}'`, {
    hint: `Use numbers with '${op}' (convert with | int or | float), or '~' to join text.`,
  });
}

function binNums(a: unknown, b: unknown, op: string): [number, number] {
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) return [Number(a), Number(b)];
  const bad = typeof a === 'number' || typeof a === 'boolean' ? b : a;
  throw new TsdbtError('jinja-error', `unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`, {
    hint: `Both sides of '${op}' must be numbers; '${pyTypeName(bad)}' is not (convert with | int or | float).`,
  });
}

function zeroDivision(what: string): never {
  throw new TsdbtError('jinja-error', what, { hint: 'Check the right side of the division; guard it with {% if … %}.' });
}

function tsDiv(a: unknown, b: unknown): unknown {
  if (a === undefined || b === undefined) return undefinedOperand('/');
  const [x, y] = binNums(a, b, '/');
  if (y === 0) zeroDivision('division by zero');
  return x / y;
}

function tsFloorDiv(a: unknown, b: unknown): unknown {
  if (a === undefined || b === undefined) return undefinedOperand('//');
  const [x, y] = binNums(a, b, '//');
  if (y === 0) zeroDivision('integer division or modulo by zero');
  return Math.floor(x / y);
}

function tsPow(a: unknown, b: unknown): unknown {
  if (a === undefined || b === undefined) return undefinedOperand('**');
  const [x, y] = binNums(a, b, '**');
  if (x === 0 && y < 0) zeroDivision('0.0 cannot be raised to a negative power');
  return x ** y;
}

function tsNeg(a: unknown): unknown {
  if (a === undefined) return undefinedOperand('-');
  return -num(a, '-');
}

function tsAdd(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === undefined || b === undefined) return undefinedOperand('+');
  if (Array.isArray(a) && Array.isArray(b)) return a.concat(b);
  const sa = asStr(a);
  const sb = asStr(b);
  if (sa !== undefined && sb !== undefined) return sa + sb;
  if (a && typeof (a as Dunder).__add__ === 'function') return (a as Dunder).__add__!(b);
  if (b && typeof (b as Dunder).__radd__ === 'function') return (b as Dunder).__radd__!(a);
  if (sa !== undefined || sb !== undefined) {
    throw new TsdbtError('jinja-error', `cannot add ${pyTypeName(a)} and ${pyTypeName(b)} with '+'`, {
      hint: "Join strings with '~' (it converts both sides to text), e.g. {{ 'n_' ~ 3 }}.",
    });
  }
  return (a as number) + (b as number);
}

function tsSub(a: unknown, b: unknown): unknown {
  if (a === undefined || b === undefined) return undefinedOperand('-');
  if (a && typeof (a as Dunder).__sub__ === 'function') return (a as Dunder).__sub__!(b);
  const [x, y] = binNums(a, b, '-');
  return x - y;
}

function tsMul(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === undefined || b === undefined) return undefinedOperand('*');
  const sa = asStr(a);
  if (sa !== undefined && typeof b === 'number') return sa.repeat(Math.max(0, b));
  const sb = asStr(b);
  if (sb !== undefined && typeof a === 'number') return sb.repeat(Math.max(0, a));
  if (Array.isArray(a) && typeof b === 'number') return Array.from({ length: Math.max(0, b) }, () => a).flat(1);
  const [x, y] = binNums(a, b, '*');
  return x * y;
}

function tsMod(a: unknown, b: unknown): unknown {
  const sa = asStr(a);
  if (sa !== undefined) return percentFormat(sa, b);
  if (a === undefined || b === undefined) return undefinedOperand('%');
  const [x, y] = binNums(a, b, '%');
  if (y === 0) zeroDivision('integer division or modulo by zero');
  return ((x % y) + y) % y;
}

const CMP_NAMES: Record<string, string> = { '<': 'lt', '>': 'gt', '<=': 'le', '>=': 'ge' };

/** Python ordering for `<`, `>`, `<=`, `>=`: numbers with numbers, strings with strings, lists by item; else TypeError. */
function tsCmp(op: string, a: unknown, b: unknown): boolean {
  let c: number;
  const ta = typeof a;
  if ((ta === 'number' || ta === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) {
    const x = Number(a);
    const y = Number(b);
    c = x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
  } else {
    const sa = asStr(a);
    const sb = asStr(b);
    if (sa !== undefined && sb !== undefined) c = sa < sb ? -1 : sa > sb ? 1 : 0;
    else if (Array.isArray(a) && Array.isArray(b)) c = pyCompare(a, b);
    else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && typeof (a as { valueOf(): unknown }).valueOf() === 'number') {
      // Objects of one class with a numeric value (datetime, date, timedelta) order by it.
      const x = (a as { valueOf(): number }).valueOf();
      const y = (b as { valueOf(): number }).valueOf();
      c = x < y ? -1 : x > y ? 1 : 0;
    } else {
      const what = a === undefined || b === undefined ? `'${a === undefined ? 'undefined' : pyTypeName(a)}' and '${b === undefined ? 'undefined' : pyTypeName(b)}'` : `'${pyTypeName(a)}' and '${pyTypeName(b)}'`;
      throw new TsdbtError('jinja-error', `'${op}' not supported between instances of ${what}`, {
        hint: `Compare values of the same kind; convert with | int or | string first (Python's __${CMP_NAMES[op]}__).`,
      });
    }
  }
  switch (op) {
    case '<':
      return c < 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    default:
      return c >= 0;
  }
}

function tsConcat(a: unknown, b: unknown): string {
  return pyStr(a) + pyStr(b);
}

function tsSetAttr(obj: unknown, key: unknown, value: unknown): void {
  if (obj === null || obj === undefined || typeof obj !== 'object') {
    throw new TsdbtError('jinja-error', `cannot set attribute '${pyStr(key)}' on ${pyTypeName(obj)}`, {
      hint: 'Create the object first, e.g. {% set ns = namespace(found=false) %}, then {% set ns.found = true %}.',
    });
  }
  (obj as Record<string, unknown>)[pyStr(key)] = value;
}

/** `{% set a, b = value %}`: value as a list of exactly `count` items. */
function tsUnpack(value: unknown, count: number): unknown[] {
  const list = Array.isArray(value) ? value : isPlainObject(value) || typeof value === 'string' || isSafeString(value) ? toList(value) : undefined;
  if (!list) throw new TsdbtError('jinja-error', `cannot unpack ${pyTypeName(value)} into ${count} names`, { hint: 'The right side must be a list or tuple.' });
  if (list.length !== count) {
    throw new TsdbtError('jinja-error', `${list.length < count ? 'not enough' : 'too many'} values to unpack (expected ${count}, got ${list.length})`, {
      hint: 'Use as many names on the left as there are values on the right.',
    });
  }
  return list;
}

function isKeywords(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as { __keywords?: unknown }).__keywords === true;
}

/**
 * A compiled macro with Jinja's argument binding (jinja2.runtime.Macro):
 * positional then keyword arguments fill the parameters in order; missing
 * ones are undefined (or their default); extra positional arguments go to
 * `varargs` and unknown keyword arguments to `kwargs` when the body uses
 * them, else the call fails, as in Jinja. `flags`: 1 uses varargs, 2 uses
 * kwargs, 4 uses caller. `func` gets the positional parameters, then an
 * object with the given defaulted parameters, `caller`, `__varargs`, `__kwargs`.
 */
function tsMakeMacro(name: string, flags: number, argNames: string[], kwargNames: string[], func: (...a: unknown[]) => unknown) {
  const params = argNames.concat(kwargNames);
  const n = params.length;
  const na = argNames.length;
  const macro = function macro(this: unknown, ...all: unknown[]): unknown {
    let np = all.length;
    const kw = np > 0 && isKeywords(all[np - 1]) ? (all[--np] as Record<string, unknown>) : undefined;
    const args: unknown[] = new Array(na + 1);
    const rest: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const p = params[i];
      if (i < np) {
        if (i < na) args[i] = all[i];
        else rest[p] = all[i];
      } else if (kw !== undefined && hasOwn.call(kw, p)) {
        if (i < na) args[i] = kw[p];
        else rest[p] = kw[p];
      }
    }
    let extra: Record<string, unknown> | undefined;
    if (kw !== undefined) {
      for (const k in kw) {
        if (k === '__keywords') continue;
        const at = params.indexOf(k);
        if (at >= np) continue;
        if (k === 'caller' && flags & 4) rest.caller = kw[k];
        else (extra ??= {})[k] = kw[k];
      }
    }
    if (flags & 2) rest.__kwargs = extra ?? {};
    else if (extra !== undefined) {
      const first = Object.keys(extra)[0];
      throw new TsdbtError(
        'jinja-error',
        first === 'caller' ? `macro '${name}' was invoked with two values for the special caller argument` : `macro '${name}' takes no keyword argument '${first}'`,
        { hint: first === 'caller' ? `Use caller() inside macro '${name}', or call it with {{ ${name}(...) }} instead of {% call %}.` : `Check the arguments of macro '${name}'.` },
      );
    }
    if (flags & 1) rest.__varargs = tsTuple(np > n ? all.slice(n, np) : []);
    else if (np > n) {
      throw new TsdbtError('jinja-error', `macro '${name}' takes not more than ${n} argument(s)`, { hint: `Check the arguments of macro '${name}'.` });
    }
    args[na] = rest;
    return func.apply(this, args);
  };
  macro.__jinja = {
    name,
    arguments: tsTuple(params.slice()),
    catch_varargs: (flags & 1) !== 0,
    catch_kwargs: (flags & 2) !== 0,
    caller: (flags & 4) !== 0,
  } as Record<string, unknown>;
  return macro;
}

/** `f(*a, **k)`: the argument list with `a` spread and `k` merged into the keyword arguments. */
function tsCallArgs(pos: unknown[], star: unknown, kw: Record<string, unknown> | null, dstar: unknown): unknown[] {
  const out = star === null || star === undefined ? pos : pos.concat(toList(star));
  let k = kw;
  if (dstar !== null && dstar !== undefined) {
    if (!isPlainObject(dstar)) throw new TsdbtError('jinja-error', `argument after ** must be a mapping, not ${pyTypeName(dstar)}`, { hint: 'Pass a dict after **.' });
    k = Object.assign(k ?? { __keywords: true }, dstar);
  }
  if (k) {
    let any = false;
    for (const key in k) if (key !== '__keywords') any = true;
    if (any) out.push(k);
  }
  return out;
}

/** A dict literal's computed key: Python's str of it (JavaScript object keys are strings). */
function tsKey(k: unknown): string {
  return typeof k === 'string' ? k : pyStr(k);
}

/** The items a `{% for %}` iterates: dict keys, string characters; undefined is empty, None and numbers fail. */
function tsForItems(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === undefined) return [];
  if (typeof v === 'string') return Array.from(v);
  if (isSafeString(v)) return Array.from(v.val);
  if (isPlainObject(v)) return Object.keys(v).filter((k) => k !== '__keywords');
  if (v instanceof Map) return [...v.keys()];
  if (v !== null && typeof v === 'object' && Symbol.iterator in v) return Array.from(v as Iterable<unknown>);
  throw new TsdbtError('jinja-error', `'${pyTypeName(v)}' object is not iterable`, { hint: 'Loop over a list, dict or string; guard a value that can be none with {% if x %}.' });
}

const NO_ITEM = Symbol('no item');

/** Jinja's `loop` inside `{% for %}` (one object per loop, moved on each iteration). */
class TsLoop {
  index0 = 0;
  private lastChanged: unknown = NO_ITEM;
  readonly depth = 1;
  readonly depth0 = 0;

  constructor(private readonly items: unknown[]) {}

  get index(): number {
    return this.index0 + 1;
  }
  get length(): number {
    return this.items.length;
  }
  get revindex(): number {
    return this.items.length - this.index0;
  }
  get revindex0(): number {
    return this.items.length - this.index0 - 1;
  }
  get first(): boolean {
    return this.index0 === 0;
  }
  get last(): boolean {
    return this.index0 === this.items.length - 1;
  }
  get previtem(): unknown {
    return this.index0 > 0 ? this.items[this.index0 - 1] : undefined;
  }
  get nextitem(): unknown {
    return this.index0 + 1 < this.items.length ? this.items[this.index0 + 1] : undefined;
  }
  /** `loop.cycle(a, b, …)`: the argument at index0 modulo their count. */
  cycle(...args: unknown[]): unknown {
    if (args.length === 0) throw new TsdbtError('jinja-error', 'no items for cycling given', { hint: 'Pass the values to cycle through: loop.cycle("odd", "even").' });
    return args[this.index0 % args.length];
  }
  /** `loop.changed(x)`: true on the first call and whenever the value differs from the previous call's. */
  changed(...args: unknown[]): boolean {
    const v = tsTuple(args);
    if (this.lastChanged !== NO_ITEM && pyEq(this.lastChanged, v)) return false;
    this.lastChanged = v;
    return true;
  }
  toString(): string {
    return `<LoopContext ${this.index}/${this.length}>`;
  }
}

/**
 * Called from the catch block tsdbt adds to every compiled macro: `return()`
 * ends the macro with its value; other errors get the macro file's location.
 * For `{% call %}` bodies (isCaller) a return() passes on to the macro around it.
 */
function tsMacroCatch(e: unknown, lineno: number, colno: number, file: string, macro: string, isCaller: boolean): unknown {
  if (e instanceof MacroReturn) {
    if (isCaller) throw e;
    return e.value;
  }
  throw locateError(e, file, lineno + 1, colno + 1, isCaller ? undefined : `in macro '${macro}'`);
}

/**
 * The runtime handed to compiled templates. Same shape as nunjucks' runtime;
 * `ts*` members are used by the code tsdbt's compiler emits.
 */
export const RUNTIME: Record<string, unknown> = {
  ...base,
  memberLookup,
  contextOrFrameLookup,
  callWrap,
  handleError,
  suppressValue,
  inOperator,
  tsTruthy: truthy,
  tsTmp: undefined,
  tsEq: pyEq,
  tsAdd,
  tsSub,
  tsMul,
  tsMod,
  tsDiv,
  tsFloorDiv,
  tsPow,
  tsNeg,
  tsConcat,
  tsCmp,
  tsSlice: pySlice,
  tsSetAttr,
  tsUnpack,
  tsMakeMacro,
  tsCallArgs,
  tsKey,
  tsTuple,
  tsForItems,
  TsLoop,
  tsMacroCatch,
};

export { memberLookup };
