/**
 * Functions and modules every dbt template can use without the caller passing
 * them: Jinja's `range`, `dict`, `namespace`, `zip`, and dbt's `return`,
 * `fromjson`/`tojson`, `fromyaml`/`toyaml`, `log`, `print`,
 * `exceptions.*`, `modules.datetime`/`modules.re`, `set`, `local_md5`.
 */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { TsdbtError } from '../errors.ts';
import { readParams, splitArgs } from './args.ts';
import { datetimeModule } from './datetime.ts';
import { pyJson } from './json.ts';
import { pyEq, pyStr, toList, truthy, tsSet, tsTuple } from './python.ts';
import { reModule } from './re.ts';
import { itertoolsModule, pytzModule } from './itertools.ts';
import { MacroReturn } from './runtime.ts';

/** Where `log`, `print` and `exceptions.warn` write. */
export interface JinjaOutput {
  /** `log(msg, info=False)` and `print(msg)`; `info` is true for messages dbt shows on the console. */
  readonly onLog?: (msg: string, info: boolean, kind?: 'print') => void;
  /** `exceptions.warn(msg)`; defaults to onLog. */
  readonly onWarn?: (msg: string) => void;
}

function unique(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of list) if (!out.some((y) => pyEq(x, y))) out.push(x);
  return out;
}

function zipLists(lists: unknown[][], strict: boolean): unknown[][] {
  if (lists.length === 0) return [];
  const lens = lists.map((l) => l.length);
  if (strict && new Set(lens).size > 1) throw new TsdbtError('compiler-error', 'zip_strict(): the arguments have different lengths', { hint: 'Pass lists of equal length.' });
  const n = Math.min(...lens);
  return Array.from({ length: n }, (_, i) => tsTuple(lists.map((l) => l[i])));
}

/** Jinja's cycler(): `next()` returns the current item and moves on; `current` is the item next() returns next. */
class Cycler {
  private pos = 0;
  constructor(private readonly items: unknown[]) {}
  get current(): unknown {
    return this.items[this.pos];
  }
  next(): unknown {
    const v = this.items[this.pos];
    this.pos = (this.pos + 1) % this.items.length;
    return v;
  }
  reset(): string {
    this.pos = 0;
    return '';
  }
}

/** Builds the globals for one JinjaEnv (log/print/warn go to `out`). */
export function makeGlobals(out: JinjaOutput): Record<string, unknown> {
  const log = out.onLog ?? (() => {});
  const warn = out.onWarn ?? ((m: string) => log(m, true));
  return {
    return: (value: unknown) => {
      throw new MacroReturn(value);
    },
    namespace: (...a: unknown[]) => {
      const { positional, kwargs } = splitArgs(a);
      const ns: Record<string, unknown> = {};
      for (const p of positional) if (p && typeof p === 'object') Object.assign(ns, p);
      return Object.assign(ns, kwargs);
    },
    dict: (...a: unknown[]) => {
      const { positional, kwargs } = splitArgs(a);
      const d: Record<string, unknown> = {};
      for (const p of positional) {
        if (Array.isArray(p)) for (const [k, v] of p as [unknown, unknown][]) d[pyStr(k)] = v;
        else if (p && typeof p === 'object') Object.assign(d, p);
      }
      delete d.__keywords;
      return Object.assign(d, kwargs);
    },
    range: (...a: unknown[]) => {
      const [x, y, z] = a.map(Number);
      const [start, stop, step] = a.length === 1 ? [0, x, 1] : [x, y, a.length > 2 ? z : 1];
      if (step === 0) throw new TsdbtError('compiler-error', 'range() arg 3 must not be zero', { hint: 'Use a non-zero step.' });
      const r: number[] = [];
      for (let i = start; step > 0 ? i < stop : i > stop; i += step) r.push(i);
      return r;
    },
    cycler: (...items: unknown[]) => new Cycler(items),
    zip: (...a: unknown[]) => zipLists(a.map(toList), false),
    zip_strict: (...a: unknown[]) => zipLists(a.map(toList), true),
    set: (...a: unknown[]) => {
      const p = readParams(a, ['value', 'default'], { default: null });
      try {
        return tsSet(unique(toList(p.value)));
      } catch {
        return p.default;
      }
    },
    set_strict: (value: unknown) => tsSet(unique(toList(value))),
    fromjson: (...a: unknown[]) => {
      const p = readParams(a, ['string', 'default'], { default: null });
      try {
        return JSON.parse(pyStr(p.string));
      } catch {
        return p.default;
      }
    },
    tojson: (...a: unknown[]) => {
      const p = readParams(a, ['value', 'default', 'sort_keys'], { default: null, sort_keys: false });
      try {
        return pyJson(p.value, { sortKeys: truthy(p.sort_keys) });
      } catch {
        return p.default;
      }
    },
    fromyaml: (...a: unknown[]) => {
      const p = readParams(a, ['value', 'default'], { default: null });
      try {
        return YAML.parse(pyStr(p.value)) ?? null;
      } catch {
        return p.default;
      }
    },
    toyaml: (...a: unknown[]) => {
      const p = readParams(a, ['value', 'default', 'sort_keys'], { default: null, sort_keys: false });
      try {
        return YAML.stringify(p.value, { sortMapEntries: truthy(p.sort_keys) });
      } catch {
        return p.default;
      }
    },
    local_md5: (value: unknown) => createHash('md5').update(pyStr(value)).digest('hex'),
    log: (...a: unknown[]) => {
      const p = readParams(a, ['msg', 'info'], { info: false });
      log(pyStr(p.msg), truthy(p.info));
      return '';
    },
    print: (...a: unknown[]) => {
      const { positional } = splitArgs(a);
      log(positional.map(pyStr).join(' '), true, 'print');
      return '';
    },
    exceptions: {
      raise_compiler_error: (...a: unknown[]) => {
        const p = readParams(a, ['msg', 'node']);
        throw new TsdbtError('compiler-error', pyStr(p.msg), {
          hint: 'This error was raised by the project’s Jinja (exceptions.raise_compiler_error); read its message.',
        });
      },
      raise_not_implemented: (msg: unknown) => {
        throw new TsdbtError('compiler-error', `not implemented: ${pyStr(msg)}`, { hint: 'This feature is not available for this adapter.' });
      },
      warn: (...a: unknown[]) => {
        const p = readParams(a, ['msg', 'node']);
        warn(pyStr(p.msg));
        return '';
      },
    },
    modules: {
      datetime: datetimeModule,
      re: reModule,
      itertools: itertoolsModule,
      pytz: pytzModule,
    },
  };
}
