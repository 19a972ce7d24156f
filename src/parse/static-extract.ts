/**
 * A fast path for simple models, as dbt's static parser: when a file's only
 * Jinja is `{{ ref(...) }}`, `{{ source(...) }}`, `{{ config(...) }}` with
 * literal arguments and `{{ this }}`, its refs, sources and config are read
 * without running nunjucks, and compiling it is a string substitution.
 *
 * Anything else (`{%`, `{#`, other expressions, non-literal arguments) makes
 * {@link staticExtract} return null and the caller renders with nunjucks.
 */
import type { RefCall } from './manifest.ts';

/** One Jinja expression in the file, with its character span. */
export type StaticCall =
  | { kind: 'ref'; start: number; end: number; ref: RefCall }
  | { kind: 'source'; start: number; end: number; source: [string, string] }
  | { kind: 'config'; start: number; end: number; config: Record<string, unknown> }
  | { kind: 'this'; start: number; end: number };

/** What a simple file declares; `calls` are in file order. */
export interface StaticExtraction {
  readonly calls: readonly StaticCall[];
  readonly refs: readonly RefCall[];
  readonly sources: readonly [string, string][];
  readonly config: Readonly<Record<string, unknown>>;
}

const EXPR = /\{\{([\s\S]*?)\}\}/g;

/**
 * Extracts ref/source/config/this from `source`, or returns null when the
 * file needs a full render. Line numbers of refs are 1-based.
 */
export function staticExtract(source: string): StaticExtraction | null {
  if (source.includes('{%') || source.includes('{#')) return null;
  const calls: StaticCall[] = [];
  const refs: RefCall[] = [];
  const sources: [string, string][] = [];
  let config: Record<string, unknown> = {};
  EXPR.lastIndex = 0;
  let m: RegExpExecArray | null;
  let line = 1;
  let scanned = 0;
  while ((m = EXPR.exec(source))) {
    const inner = m[1];
    if (inner.startsWith('-') || inner.endsWith('-')) return null;
    for (let i = scanned; i < m.index; i++) if (source.charCodeAt(i) === 10) line++;
    scanned = m.index;
    const start = m.index;
    const end = m.index + m[0].length;
    const expr = inner.trim();
    if (expr === 'this') {
      calls.push({ kind: 'this', start, end });
      continue;
    }
    const call = /^(ref|source|config)\s*\(([\s\S]*)\)$/.exec(expr);
    if (!call) return null;
    const args = parseArgs(call[2]);
    if (!args) return null;
    if (call[1] === 'ref') {
      if (Object.keys(args.kwargs).some((k) => k !== 'version' && k !== 'v')) return null;
      const pos = args.positional;
      if (pos.length < 1 || pos.length > 2 || !pos.every((p) => typeof p === 'string')) return null;
      const version = (args.kwargs.version ?? args.kwargs.v ?? null) as string | number | null;
      const ref: RefCall =
        pos.length === 1
          ? { name: pos[0] as string, package: null, version, line }
          : { name: pos[1] as string, package: pos[0] as string, version, line };
      refs.push(ref);
      calls.push({ kind: 'ref', start, end, ref });
    } else if (call[1] === 'source') {
      const pos = args.positional;
      if (Object.keys(args.kwargs).length || pos.length !== 2 || !pos.every((p) => typeof p === 'string')) return null;
      const src: [string, string] = [pos[0] as string, pos[1] as string];
      sources.push(src);
      calls.push({ kind: 'source', start, end, source: src });
    } else {
      if (args.positional.length) return null;
      config = { ...config, ...args.kwargs };
      calls.push({ kind: 'config', start, end, config: args.kwargs });
    }
  }
  return { calls, refs, sources, config };
}

/** Replaces each call with the text `render` gives it (compile's fast path). */
export function substituteCalls(source: string, calls: readonly StaticCall[], render: (c: StaticCall) => string): string {
  // The text between calls goes through what Jinja's lexer does to template text (as JinjaEnv.render):
  // \r\n and \r become \n, and one trailing newline is dropped (keep_trailing_newline=False, as dbt),
  // so the result is exactly the full render's (static-fast-path.test.ts).
  const text = (s: string) => (s.indexOf('\r') === -1 ? s : s.replace(/\r\n?/g, '\n'));
  let out = '';
  let at = 0;
  for (const c of calls) {
    out += text(source.slice(at, c.start)) + render(c);
    at = c.end;
  }
  let tail = text(source.slice(at));
  if (tail.charCodeAt(tail.length - 1) === 10) tail = tail.slice(0, -1);
  return out + tail;
}

// ---- a tiny literal-argument parser: strings, numbers, booleans, none, lists, dicts ----

interface Args {
  positional: unknown[];
  kwargs: Record<string, unknown>;
}

function parseArgs(text: string): Args | null {
  const p = new LiteralParser(text);
  const out: Args = { positional: [], kwargs: {} };
  p.ws();
  if (p.done()) return out;
  for (;;) {
    p.ws();
    const kw = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/.exec(p.rest());
    if (kw) {
      p.i += kw[0].length;
      const v = p.value();
      if (v === FAIL) return null;
      out.kwargs[kw[1]] = v;
    } else {
      if (Object.keys(out.kwargs).length) return null;
      const v = p.value();
      if (v === FAIL) return null;
      out.positional.push(v);
    }
    p.ws();
    if (p.done()) return out;
    if (!p.eat(',')) return null;
    p.ws();
    if (p.done()) return out; // trailing comma
  }
}

const FAIL = Symbol('fail');

class LiteralParser {
  i = 0;
  constructor(readonly s: string) {}
  rest(): string {
    return this.s.slice(this.i);
  }
  done(): boolean {
    return this.i >= this.s.length;
  }
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }
  eat(ch: string): boolean {
    if (this.s[this.i] === ch) {
      this.i++;
      return true;
    }
    return false;
  }
  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === "'" || c === '"') {
      let j = this.i + 1;
      let v = '';
      while (j < this.s.length && this.s[j] !== c) {
        if (this.s[j] === '\\') return FAIL;
        v += this.s[j++];
      }
      if (j >= this.s.length) return FAIL;
      this.i = j + 1;
      return v;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      this.i++;
      const list: unknown[] = [];
      for (;;) {
        this.ws();
        if (this.eat(close)) return list;
        const v = this.value();
        if (v === FAIL) return FAIL;
        list.push(v);
        this.ws();
        if (this.eat(close)) return list;
        if (!this.eat(',')) return FAIL;
      }
    }
    if (c === '{') {
      this.i++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        this.ws();
        if (this.eat('}')) return obj;
        const k = this.value();
        if (typeof k !== 'string') return FAIL;
        this.ws();
        if (!this.eat(':')) return FAIL;
        const v = this.value();
        if (v === FAIL) return FAIL;
        obj[k] = v;
        this.ws();
        if (this.eat('}')) return obj;
        if (!this.eat(',')) return FAIL;
      }
    }
    const word = /^(-?\d+(\.\d+)?|true|false|True|False|none|None)(?![A-Za-z0-9_])/.exec(this.rest());
    if (!word) return FAIL;
    this.i += word[0].length;
    const w = word[1];
    if (w === 'true' || w === 'True') return true;
    if (w === 'false' || w === 'False') return false;
    if (w === 'none' || w === 'None') return null;
    return Number(w);
  }
}

/** Rebuilds a {@link StaticExtraction} from its calls (e.g. read back from the partial-parse cache). */
export function extractionFromCalls(calls: readonly StaticCall[]): StaticExtraction {
  const refs: RefCall[] = [];
  const sources: [string, string][] = [];
  let config: Record<string, unknown> = {};
  for (const c of calls) {
    if (c.kind === 'ref') refs.push(c.ref);
    else if (c.kind === 'source') sources.push(c.source);
    else if (c.kind === 'config') config = { ...config, ...c.config };
  }
  return { calls, refs, sources, config };
}
