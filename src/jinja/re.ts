/**
 * `modules.re` for templates: Python's `re` functions on JavaScript regexes.
 * Supported: match, search, fullmatch, sub, subn, findall, split, compile,
 * escape, and flags I/IGNORECASE, M/MULTILINE, S/DOTALL (combine with `+`).
 * Python-only syntax translated: `(?P<name>…)`, `(?P=name)`, `\A`, `\Z`,
 * leading inline flags `(?i)`/`(?m)`/`(?s)`; replacement strings accept
 * `\1` and `\g<name>`. Match objects offer group(), groups(), groupdict(),
 * start(), end(), span() and `.string`.
 */
import { splitArgs } from './args.ts';
import { pyStr } from './python.ts';

const I = 2;
const M = 8;
const S = 16;

function translate(pattern: string, flags: number): { source: string; flags: string } {
  let src = pattern;
  let f = flags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    if (inline[1].includes('i')) f |= I;
    if (inline[1].includes('m')) f |= M;
    if (inline[1].includes('s')) f |= S;
    src = src.slice(inline[0].length);
  }
  src = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return { source: src, flags: (f & I ? 'i' : '') + (f & M ? 'm' : '') + (f & S ? 's' : '') };
}

/** A Python match object. */
class PyMatch {
  constructor(
    private readonly m: RegExpExecArray,
    readonly string: string,
  ) {}
  group(...which: unknown[]): unknown {
    const pick = (w: unknown) => {
      const v = typeof w === 'string' && !/^\d+$/.test(w) ? this.m.groups?.[w] : this.m[Number(w ?? 0)];
      return v === undefined ? null : v;
    };
    if (which.length <= 1) return pick(which[0]);
    return which.map(pick);
  }
  groups(def: unknown = null): unknown[] {
    return this.m.slice(1).map((v) => (v === undefined ? def : v));
  }
  groupdict(def: unknown = null): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.m.groups ?? {})) out[k] = v === undefined ? def : v;
    return out;
  }
  start(): number {
    return this.m.index;
  }
  end(): number {
    return this.m.index + this.m[0].length;
  }
  span(): number[] {
    return [this.start(), this.end()];
  }
  toString(): string {
    return `<re.Match object; span=(${this.start()}, ${this.end()}), match='${this.m[0]}'>`;
  }
}

/** Expands a Python replacement string (`\\1`, `\\g<name>`, `\\n`) for one match. */
function expand(repl: string, groups: readonly (string | undefined)[], named: Record<string, string | undefined> | undefined): string {
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '\\' || i + 1 >= repl.length) {
      out += c;
      continue;
    }
    const rest = repl.slice(i + 1);
    const g = /^g<([^>]+)>/.exec(rest);
    const d = /^\d{1,2}/.exec(rest);
    if (g) {
      out += (/^\d+$/.test(g[1]) ? groups[Number(g[1])] : named?.[g[1]]) ?? '';
      i += g[0].length;
    } else if (d) {
      out += groups[Number(d[0])] ?? '';
      i += d[0].length;
    } else {
      const n = rest[0];
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === '\\' ? '\\' : '\\' + n;
      i++;
    }
  }
  return out;
}

/** Python's compiled pattern. */
class PyPattern {
  private readonly source: string;
  private readonly jsFlags: string;
  constructor(
    readonly pattern: string,
    readonly flags = 0,
  ) {
    const t = translate(pattern, flags);
    this.source = t.source;
    this.jsFlags = t.flags;
  }
  private re(extra = ''): RegExp {
    return new RegExp(this.source, this.jsFlags + extra);
  }
  match(s: unknown): PyMatch | null {
    const str = pyStr(s);
    const re = this.re('y');
    const m = re.exec(str);
    return m ? new PyMatch(m, str) : null;
  }
  search(s: unknown): PyMatch | null {
    const str = pyStr(s);
    const m = this.re().exec(str);
    return m ? new PyMatch(m, str) : null;
  }
  fullmatch(s: unknown): PyMatch | null {
    const str = pyStr(s);
    const m = new RegExp(`(?:${this.source})$`, this.jsFlags + 'y').exec(str);
    return m ? new PyMatch(m, str) : null;
  }
  findall(s: unknown): unknown[] {
    const str = pyStr(s);
    const out: unknown[] = [];
    for (const m of str.matchAll(this.re('g'))) {
      if (m.length === 1) out.push(m[0]);
      else if (m.length === 2) out.push(m[1] ?? '');
      else out.push(m.slice(1).map((v) => v ?? ''));
    }
    return out;
  }
  sub(repl: unknown, s: unknown, ...rest: unknown[]): string {
    return this.subn(repl, s, ...rest)[0] as string;
  }
  subn(repl: unknown, s: unknown, ...rest: unknown[]): unknown[] {
    const { positional, kwargs } = splitArgs(rest);
    const count = Number(positional[0] ?? kwargs.count ?? 0);
    const str = pyStr(s);
    let n = 0;
    const out = str.replace(this.re('g'), (...args: unknown[]) => {
      const whole = args[0] as string;
      if (count > 0 && n >= count) return whole;
      n++;
      const hasNamed = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== null;
      const tail = hasNamed ? 3 : 2;
      const groups = args.slice(0, args.length - tail) as (string | undefined)[];
      const named = hasNamed ? (args[args.length - 1] as Record<string, string | undefined>) : undefined;
      if (typeof repl === 'function') {
        const m = Object.assign(groups.slice(), { index: args[args.length - tail] as number, input: str, groups: named }) as unknown as RegExpExecArray;
        return pyStr(repl(new PyMatch(m, str)));
      }
      return expand(pyStr(repl), groups, named);
    });
    return [out, n];
  }
  split(s: unknown, ...rest: unknown[]): string[] {
    const { positional, kwargs } = splitArgs(rest);
    const max = Number(positional[0] ?? kwargs.maxsplit ?? 0);
    const str = pyStr(s);
    if (max <= 0) return str.split(this.re());
    const out: string[] = [];
    let last = 0;
    let n = 0;
    for (const m of str.matchAll(this.re('g'))) {
      if (n >= max) break;
      out.push(str.slice(last, m.index), ...m.slice(1).map((v) => v ?? ''));
      last = m.index! + m[0].length;
      n++;
    }
    out.push(str.slice(last));
    return out;
  }
  toString(): string {
    return `re.compile('${this.pattern}')`;
  }
}

function pat(p: unknown, flags: unknown): PyPattern {
  if (p instanceof PyPattern) return p;
  return new PyPattern(pyStr(p), Number(flags ?? 0));
}

/** Reads a trailing `flags` argument: positional at `index` or `flags=`. */
function flagsOf(args: unknown[], index: number): { positional: unknown[]; flags: unknown } {
  const { positional, kwargs } = splitArgs(args);
  return { positional, flags: kwargs.flags ?? positional[index] };
}

/** The object templates see as `modules.re`. */
export const reModule = {
  I,
  IGNORECASE: I,
  M,
  MULTILINE: M,
  S,
  DOTALL: S,
  compile: (...a: unknown[]) => {
    const { positional, flags } = flagsOf(a, 1);
    return pat(positional[0], flags);
  },
  match: (...a: unknown[]) => {
    const { positional, flags } = flagsOf(a, 2);
    return pat(positional[0], flags).match(positional[1]);
  },
  search: (...a: unknown[]) => {
    const { positional, flags } = flagsOf(a, 2);
    return pat(positional[0], flags).search(positional[1]);
  },
  fullmatch: (...a: unknown[]) => {
    const { positional, flags } = flagsOf(a, 2);
    return pat(positional[0], flags).fullmatch(positional[1]);
  },
  findall: (...a: unknown[]) => {
    const { positional, flags } = flagsOf(a, 2);
    return pat(positional[0], flags).findall(positional[1]);
  },
  sub: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return pat(positional[0], kwargs.flags ?? positional[4]).sub(positional[1], positional[2], positional[3] ?? kwargs.count ?? 0);
  },
  subn: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return pat(positional[0], kwargs.flags ?? positional[4]).subn(positional[1], positional[2], positional[3] ?? kwargs.count ?? 0);
  },
  split: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return pat(positional[0], kwargs.flags ?? positional[3]).split(positional[1], positional[2] ?? kwargs.maxsplit ?? 0);
  },
  escape: (s: unknown) => pyStr(s).replace(/[.*+?^${}()|[\]\\\-/#&~\s]/g, '\\$&'),
};
