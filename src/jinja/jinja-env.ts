/**
 * JinjaEnv: dbt's Jinja on nunjucks. Holds the project's macros and renders
 * models, macros and other dbt Jinja text with dbt's semantics.
 *
 * How macros see the caller's context: each macro file is compiled and run
 * once, when registered; its macros close over a small per-file context whose
 * lookups go to the render that is running at the time of the call (renders
 * are synchronous, so "the running render" is well defined). A macro called
 * while rendering model X therefore sees X's `this`, `ref`, `config`, … with
 * no per-render work, however many macros are registered.
 */
import nunjucks from 'nunjucks';
import { TsdbtError } from '../errors.ts';
import { toNunjucksArgs } from './args.ts';
import { findTopLevelBlocks, keepOnlyBlocks, parseMacroSignature, type MacroArgumentSpec, type TopLevelBlock } from './blocks.ts';
import { DISPATCH_MARK, EXTENSIONS, compileTemplate, materializationMacroName, templateCalls, type CompiledTemplate, type RenderedSnapshot } from './compile.ts';
import { FILTERS, TESTS } from './filters.ts';
import { makeGlobals, type JinjaOutput } from './globals.ts';
import { isSafeString } from './python.ts';
import { PendingError, RUNTIME, isLocated, locateError, markLocated, setLenientUndefined } from './runtime.ts';

type AnyFn = (...args: unknown[]) => unknown;


/**
 * Context key of a unit test's macro overrides (name → function): names found
 * there win over every macro, in templates and in the macros they call, as
 * dbt's unit test context replaces the macros in its context dict.
 */
export const MACRO_OVERRIDES = '__tsdbt_macro_overrides__';
/** Options for {@link JinjaEnv}. */
export interface JinjaEnvOptions extends JinjaOutput {
  /**
   * The root project's package name. Used by {@link JinjaEnv.dispatch} (searched
   * first, as dbt does). Without it, dispatch searches only the named namespace and 'dbt'.
   */
  readonly rootPackage?: string;
  /**
   * dbt_project.yml `dispatch:` entries: for `macro_namespace`, search these
   * packages in this order (dbt's `search_order`).
   */
  readonly dispatch?: readonly { readonly macro_namespace: string; readonly search_order: readonly string[] }[];
}

/** Options for one render. */
export interface JinjaRenderOptions {
  /** Project-relative path of the text being rendered, for error locations. */
  readonly file: string;
  /**
   * If given, each `{% snapshot name %}…{% endsnapshot %}` block rendered is
   * appended here with its name and rendered body.
   */
  readonly snapshots?: RenderedSnapshot[];
  /**
   * Reading an attribute of an undefined value (`{{ x.y }}` with no `x`) is an
   * error by default, as when dbt compiles. With true it gives undefined
   * instead — for a first pass that renders models before every context
   * value exists (dbt's parse phase is similarly lenient).
   */
  readonly lenientUndefined?: boolean;
}

/** A macro (or generic test) defined in a macro file. */
export interface MacroDefinition {
  /** Callable name: `test_unique` for `{% test unique(…) %}`. */
  readonly name: string;
  /** 'test' for `{% test %}` / `{% data_test %}` blocks, 'materialization' for `{% materialization %}` (named `materialization_<name>_<adapter>`), else 'macro'. */
  readonly kind: 'macro' | 'test' | 'materialization';
  readonly packageName: string;
  /** dbt's unique_id: `macro.<package>.<name>`. */
  readonly uniqueId: string;
  /** Project-relative path of the file. */
  readonly file: string;
  /** 1-based line of the opening `{% macro %}` tag. */
  readonly line: number;
  /** Arguments as written; `default` is the default's source text. */
  readonly arguments: readonly MacroArgumentSpec[];
  /** The whole block from `{% macro … %}` to `{% endmacro %}` (dbt's macro_sql). */
  readonly sql: string;
  /** Functions the body calls by name (`foo`) or namespace (`dbt_utils.star`); for depends_on.macros. */
  readonly calls: readonly string[];
}

interface MacroEntry {
  readonly fn: AnyFn;
  readonly def: MacroDefinition;
}

/** The context a template renders against (what nunjucks calls a Context). */
class RenderContext {
  readonly env: unknown;
  readonly vars: Record<string, unknown> = Object.create(null);

  constructor(
    readonly jinja: JinjaEnv,
    readonly base: Record<string, unknown>,
    readonly snapshots?: RenderedSnapshot[],
  ) {
    this.env = jinja.nunjucksEnv;
  }

  lookup(name: string): unknown {
    const v = this.vars[name];
    return v !== undefined ? v : this.jinja.resolve(name, this.base);
  }

  setVariable(name: string, value: unknown): void {
    this.vars[name] = value;
  }

  addExport(): void {}

  getVariables(): Record<string, unknown> {
    return { ...this.base, ...this.vars };
  }

  knownNames(): Iterable<string> {
    return this.jinja.knownNames(this.base, this.vars);
  }
}

/**
 * The context macro files are compiled against. Lookups go to the render
 * running at call time, so macros see the caller's context (not the
 * template's own `{% set %}` variables, as in Jinja).
 */
class MacroFileContext {
  readonly env: unknown;
  readonly defined = new Map<string, AnyFn>();

  constructor(readonly jinja: JinjaEnv) {
    this.env = jinja.nunjucksEnv;
  }

  lookup(name: string): unknown {
    const cur = this.jinja.current;
    return this.jinja.resolve(name, cur ? cur.base : EMPTY);
  }

  setVariable(name: string, value: unknown): void {
    if (typeof value === 'function') this.defined.set(name, value as AnyFn);
  }

  addExport(): void {}

  getVariables(): Record<string, unknown> {
    return { ...(this.jinja.current?.base ?? EMPTY) };
  }

  get snapshots(): RenderedSnapshot[] | undefined {
    return this.jinja.current?.snapshots;
  }

  knownNames(): Iterable<string> {
    return this.jinja.knownNames(this.jinja.current?.base ?? EMPTY, EMPTY);
  }
}

const EMPTY: Record<string, unknown> = Object.freeze(Object.create(null));
const OBJECT_PROTO = Object.prototype as unknown as Record<string, unknown>;
const CACHE_LIMIT = 500;

function unwrap(v: unknown): unknown {
  return isSafeString(v) ? v.val : v;
}

/**
 * dbt's Jinja environment on nunjucks 3.
 *
 * @example
 * const env = new JinjaEnv({ onLog: (m) => console.log(m) });
 * env.addMacroFile(builtinSql, 'macros/builtins.sql', 'dbt');
 * env.addMacroFile(projectSql, 'macros/schema.sql', 'jaffle_shop');
 * const sql = env.render(modelSql, { ref, source, config, this: rel }, { file: 'models/orders.sql' });
 */
/** The definition of one top-level `{% macro %}` / `{% test %}` block (`test_<name>` for tests), as registered. */
/** The macro name a top-level block defines: `x`, `test_x`, or `materialization_x_<adapter>`. */
function blockMacroName(b: TopLevelBlock): string {
  if (b.tag === 'macro') return b.name;
  if (b.tag === 'materialization') return materializationMacroName(b.name, /\badapter\s*=\s*(['"])([^'"]*)\1/.exec(b.rest)?.[2] ?? 'default');
  return `test_${b.name}`;
}

function macroDefinition(b: TopLevelBlock, source: string, file: string, packageName: string, calls: MacroDefinition['calls']): MacroDefinition {
  const kind = b.tag === 'macro' ? 'macro' : b.tag === 'materialization' ? 'materialization' : 'test';
  const name = blockMacroName(b);
  return {
    name,
    kind,
    packageName,
    uniqueId: `macro.${packageName}.${name}`,
    file,
    line: b.line,
    arguments: parseMacroSignature(b.rest),
    sql: source.slice(b.start, b.end),
    calls,
  };
}

/**
 * The calls in the `{{ … }}` / `{% … %}` tags of `sql` without parsing it
 * (string literals set aside, `adapter.dispatch('x', 'ns')` read from them),
 * in the shape of compile.ts `templateCalls`. For tsdbt's own lazily
 * compiled macro files, where a full parse per macro would cost every parse.
 */
function callsInTags(sql: string): string[] {
  const out = new Set<string>();
  for (const tag of sql.matchAll(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g)) {
    const body = tag[1] ?? tag[2];
    for (const d of body.matchAll(/\badapter\s*\.\s*dispatch\s*\(\s*(?:macro_name\s*=\s*)?(['"])(\w+)\1(?:\s*,\s*(?:macro_namespace\s*=\s*)?(['"])(\w+)\3)?/g)) {
      out.add(`${DISPATCH_MARK}${d[2]}\u0000${d[4] ?? ''}`);
    }
    const code = body.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
    for (const m of code.matchAll(/(?<![\w.]|\|\s*)([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)?)\s*\(/g)) {
      const name = m[1].replace(/\s+/g, '');
      if (name !== 'adapter.dispatch' && !/^(?:macro|call|if|elif|for|set|in|and|or|not|is|filter|materialization|test)$/.test(name)) out.add(name);
    }
  }
  return [...out];
}

export class JinjaEnv {
  /** The nunjucks Environment holding filters, tests and extensions. */
  readonly nunjucksEnv: { globals: Record<string, unknown>; addFilter: AnyFn; addTest: AnyFn; addExtension: AnyFn };
  /** The render in progress (macros resolve names through it); null between renders. */
  current: RenderContext | null = null;

  private readonly globals: Record<string, unknown>;
  private readonly userMacros = new Map<string, AnyFn>();
  private readonly dbtMacros = new Map<string, AnyFn>();
  private readonly namespaces = new Map<string, Record<string, AnyFn>>();
  private readonly entries = new Map<string, MacroEntry>();
  private readonly defsByFn = new Map<AnyFn, MacroDefinition>();
  private readonly cache = new Map<string, CompiledTemplate>();
  /** `file \0 source` → the calls found when it was compiled (kept after the template leaves the cache). */
  private readonly callsBySource = new Map<string, readonly string[]>();
  private readonly dispatchCache = new Map<string, AnyFn>();
  private readonly rootPackage?: string;
  private readonly searchOrder = new Map<string, readonly string[]>();

  constructor(opts: JinjaEnvOptions = {}) {
    const env = new nunjucks.Environment([], { autoescape: false }) as unknown as JinjaEnv['nunjucksEnv'];
    for (const [name, fn] of Object.entries(FILTERS)) env.addFilter(name, fn);
    for (const [name, fn] of Object.entries(TESTS)) env.addTest(name, fn);
    for (const [name, ext] of Object.entries(EXTENSIONS)) env.addExtension(name, ext);
    this.nunjucksEnv = env;
    this.globals = Object.assign(Object.create(null), env.globals, makeGlobals(opts));
    this.rootPackage = opts.rootPackage;
    for (const d of opts.dispatch ?? []) this.searchOrder.set(d.macro_namespace, d.search_order);
  }

  /**
   * Resolves a name a template or macro looks up, in dbt's order:
   * the rendering node's own package's macros (when it is not the root project),
   * project/package macros, then the render's context values, then dbt's
   * built-in macros, then package namespaces (`dbt_utils.…`), then globals.
   * A context's {@link MACRO_OVERRIDES} entry (a unit test's
   * `overrides.macros`) wins over all of them.
   * @internal used by the template contexts.
   */
  resolve(name: string, base: Record<string, unknown>): unknown {
    const overrides = base[MACRO_OVERRIDES] as Record<string, unknown> | undefined;
    if (overrides !== undefined && Object.hasOwn(overrides, name)) return overrides[name];
    // dbt's MacroNamespace search order: the node's own package ("locals") before the root project
    // ("globals"): a bare call in a package's model finds the package's macro even where the root
    // project defines one of the same name (dbt-core context/macros.py, MacroNamespace._search_order).
    const pkg = (base.model as { package_name?: unknown } | undefined)?.package_name;
    let v: unknown = typeof pkg === 'string' && pkg !== this.rootPackage ? this.namespaces.get(pkg)?.[name] : undefined;
    if (v !== undefined) return v;
    v = this.userMacros.get(name);
    if (v !== undefined) return v;
    v = base[name];
    if (v !== undefined && v !== OBJECT_PROTO[name]) return v;
    v = this.dbtMacros.get(name) ?? this.namespaces.get(name);
    if (v !== undefined) return v;
    return this.globals[name];
  }

  /** Every name a template could call here, for "did you mean" hints. @internal */
  *knownNames(base: Record<string, unknown>, vars: Record<string, unknown>): Iterable<string> {
    yield* this.userMacros.keys();
    yield* this.dbtMacros.keys();
    yield* Object.keys(base);
    yield* Object.keys(vars);
    yield* Object.keys(this.globals);
  }

  /**
   * Registers the macros and generic tests of one macro file (a `.sql` file
   * under macro-paths, or under tests/generic). Only the file's top-level
   * `{% macro %}`, `{% test %}` and `{% data_test %}` blocks count, as in dbt.
   *
   * Macros of package 'dbt' are tsdbt's built-ins; any other package's macro
   * of the same name wins for calls by bare name (register the root project
   * last: the last registered non-dbt macro wins). All are also reachable as
   * `<package>.<name>` (e.g. `dbt.current_timestamp()`).
   *
   * With `{ lazy: true }` the file is only split into its blocks now and
   * compiled the first time one of its macros is called (its definitions'
   * `calls` are then empty, and Jinja syntax errors surface at that call):
   * for large libraries of which a project uses a few macros, such as
   * tsdbt's built-in `dbt` package.
   *
   * @returns the definitions found, in file order.
   * `{% materialization name, adapter %}` blocks define `materialization_<name>_<adapter>`
   * (dbt's naming; `default` when no adapter is given).
   *
   * @throws TsdbtError `jinja-syntax` (with file/line/column), or `duplicate-macro` when the same
   *   package already defines the name in another file.
   */
  addMacroFile(source: string, file: string, packageName: string, opts: { readonly lazy?: boolean } = {}): MacroDefinition[] {
    const blocks = findTopLevelBlocks(source, file);
    const kept = blocks.filter((b) => b.tag === 'macro' || b.tag === 'test' || b.tag === 'data_test' || b.tag === 'materialization');
    if (kept.length === 0) return [];
    if (opts.lazy) return this.addLazyMacroFile(source, file, packageName, kept);
    const { compiled, fileCtx } = this.runMacroFile(source, file, kept);

    const defs: MacroDefinition[] = [];
    for (const b of kept) {
      const name = blockMacroName(b);
      const fn = fileCtx.defined.get(name);
      if (!fn) continue;
      const def = macroDefinition(b, source, file, packageName, compiled.macros.find((m) => m.name === name)?.calls ?? []);
      this.register(def, fn, b.column);
      defs.push(def);
    }
    return defs;
  }

  /** Compiles a macro file's kept blocks and runs it once, defining its macros. @throws TsdbtError located in `file` */
  private runMacroFile(source: string, file: string, kept: ReturnType<typeof findTopLevelBlocks>): { compiled: CompiledTemplate; fileCtx: MacroFileContext } {
    const compiled = compileTemplate(keepOnlyBlocks(source, kept), file, this.nunjucksEnv);
    const fileCtx = new MacroFileContext(this);
    const frame = new (nunjucks.runtime as unknown as { Frame: new () => { topLevel: boolean } }).Frame();
    frame.topLevel = true;
    let failure: unknown;
    compiled.root(this.nunjucksEnv, fileCtx, frame, RUNTIME, (err) => {
      failure = err;
    });
    if (failure) throw this.finishError(failure, file);
    return { compiled, fileCtx };
  }

  /** Records one macro under its bare name, its package namespace and its unique_id. */
  private register(def: MacroDefinition, fn: AnyFn, column: number): void {
    this.dispatchCache.clear();
    const prev = this.entries.get(def.uniqueId);
    if (prev && prev.def.file !== def.file) {
      throw new TsdbtError('duplicate-macro', `macro '${def.name}' is defined twice in package '${def.packageName}': ${prev.def.file}:${prev.def.line} and ${def.file}:${def.line}`, {
        file: def.file,
        line: def.line,
        column,
        hint: 'Rename or delete one of the two macros; dbt requires macro names to be unique within a package.',
      });
    }
    this.entries.set(def.uniqueId, { fn, def });
    this.defsByFn.set(fn, def);
    if (def.packageName === 'dbt') this.dbtMacros.set(def.name, fn);
    else this.userMacros.set(def.name, fn);
    let ns = this.namespaces.get(def.packageName);
    if (!ns) this.namespaces.set(def.packageName, (ns = Object.create(null) as Record<string, AnyFn>));
    ns[def.name] = fn;
  }

  /**
   * The lazy form of {@link addMacroFile}: each macro is registered as a stub
   * that compiles and runs the file on its first call, then puts the real
   * functions wherever a stub still stands (so later lookups skip the stub).
   */
  private addLazyMacroFile(source: string, file: string, packageName: string, kept: ReturnType<typeof findTopLevelBlocks>): MacroDefinition[] {
    let real: Map<string, AnyFn> | undefined;
    const stubs = new Map<string, AnyFn>();
    const load = (): Map<string, AnyFn> => {
      if (real) return real;
      real = this.runMacroFile(source, file, kept).fileCtx.defined;
      const bare = packageName === 'dbt' ? this.dbtMacros : this.userMacros;
      const ns = this.namespaces.get(packageName);
      for (const [name, stub] of stubs) {
        const fn = real.get(name);
        if (!fn) continue;
        const uid = `macro.${packageName}.${name}`;
        const entry = this.entries.get(uid);
        if (entry?.fn === stub) {
          this.entries.set(uid, { fn, def: entry.def });
          this.defsByFn.set(fn, entry.def);
        }
        if (bare.get(name) === stub) bare.set(name, fn);
        if (ns?.[name] === stub) ns[name] = fn;
      }
      return real;
    };
    const defs: MacroDefinition[] = [];
    for (const b of kept) {
      const def = macroDefinition(b, source, file, packageName, []);
      const { name } = def;
      const stub = function (this: unknown, ...args: unknown[]): unknown {
        const fn = load().get(name);
        if (!fn) throw new TsdbtError('macro-not-found', `macro '${name}' in ${file} did not compile to a macro`, { file, line: def.line });
        return fn.apply(this, args);
      };
      stubs.set(name, stub);
      this.register(def, stub, b.column);
      defs.push(def);
    }
    return defs;
  }

  /**
   * The functions `source` calls anywhere in its text, as dbt's
   * statically_extract_macro_calls finds them (see compile.ts `templateCalls`).
   * @throws TsdbtError `jinja-syntax`
   */
  templateCalls(source: string, file: string): readonly string[] {
    // The text as render() compiles it: when it was rendered, its calls are known already.
    let text = source.indexOf('\r') !== -1 ? source.replace(/\r\n?/g, '\n') : source;
    if (text.charCodeAt(text.length - 1) === 10) text = text.slice(0, -1);
    return this.callsBySource.get(file + '\u0000' + text) ?? templateCalls(text, file, this.nunjucksEnv);
  }

  /**
   * The unique_ids of the macros the macro `uniqueId` calls (dbt's
   * `resolve_macro_depends_on`): each called name resolved from the macro's
   * own package ({@link resolveMacroCall}), a call of its own name skipped (as
   * dbt's dispatch shortcut). A lazily registered macro file is parsed here
   * (not compiled). Empty for an unknown id or a file that does not parse.
   */
  macroDependencies(uniqueId: string): string[] {
    const entry = this.entries.get(uniqueId);
    if (!entry) return [];
    const { def } = entry;
    // A lazily registered file (dbt's built-ins) was not compiled: its calls are read from the tags' text.
    const calls = def.calls.length === 0 && def.sql.includes('(') ? callsInTags(def.sql) : def.calls;
    const out: string[] = [];
    for (const c of calls) {
      if (c === def.name) continue;
      for (const id of this.resolveMacroCall(c, def.packageName)) if (id !== uniqueId && !out.includes(id)) out.push(id);
    }
    return out;
  }

  /**
   * The macro unique_ids one call (an entry of {@link templateCalls}) made from
   * package `localPackage` reaches, by dbt's MacroResolver.get_macro: `pkg.name`
   * looks in `pkg` first, a bare name in `localPackage` first, then by name
   * (root project, then packages, then dbt's built-ins). An
   * `adapter.dispatch('x', 'ns')` call gives `x` (when a macro of that name
   * exists) and the macro dispatch picks for Postgres. Names that are not
   * macros (context functions such as `var`, `log`) give nothing.
   */
  resolveMacroCall(call: string, localPackage: string): string[] {
    if (call.startsWith(DISPATCH_MARK)) {
      const [name, ns] = call.slice(DISPATCH_MARK.length).split('\u0000');
      const out = this.resolveMacroCall(name, localPackage);
      try {
        const id = this.defsByFn.get(this.dispatch(name, ns || null))?.uniqueId;
        if (id && !out.includes(id)) out.push(id);
      } catch {
        // dispatch finds no macro: nothing to depend on (the render reports it)
      }
      return out;
    }
    let pkg = localPackage;
    let name = call;
    const dot = call.indexOf('.');
    if (dot > 0) {
      pkg = call.slice(0, dot);
      name = call.slice(dot + 1);
    }
    const fn = this.namespaces.get(pkg)?.[name] ?? this.userMacros.get(name) ?? this.dbtMacros.get(name);
    const id = fn ? this.defsByFn.get(fn)?.uniqueId : undefined;
    return id ? [id] : [];
  }

  /** True if a macro of this name (or `package.name`) is registered. */
  hasMacro(name: string): boolean {
    return this.getMacro(name) !== undefined;
  }

  /** Every registered macro definition (all packages), keyed by unique_id. */
  macroDefinitions(): MacroDefinition[] {
    return [...this.entries.values()].map((e) => e.def);
  }

  /**
   * The callable for a macro by bare name (project/package macros win over
   * dbt's), or `package.name`, or with an explicit package. Undefined if none.
   */
  getMacro(name: string, packageName?: string): AnyFn | undefined {
    if (packageName === undefined) {
      const dot = name.indexOf('.');
      if (dot > 0) return this.namespaces.get(name.slice(0, dot))?.[name.slice(dot + 1)];
      return this.userMacros.get(name) ?? this.dbtMacros.get(name);
    }
    return this.namespaces.get(packageName)?.[name];
  }

  /**
   * dbt's `adapter.dispatch(macro_name, macro_namespace)`: finds
   * `<prefix>__<macro_name>` for each prefix (default ['postgres', 'default'])
   * in the search order — the `dispatch:` config for the namespace if given,
   * else the root project then the namespace (or 'dbt' when none) — packages
   * outer, prefixes inner, as dbt does. Returns the macro, callable from a template.
   * @throws TsdbtError `dispatch-macro-not-found` listing what was searched.
   */
  dispatch(macroName: string, macroNamespace?: string | null, prefixes: readonly string[] = ['postgres', 'default']): AnyFn {
    // Resolved once per (name, namespace, prefixes) until a macro is registered (every generic test dispatches).
    const key = `${macroNamespace ?? ''}\u0000${macroName}\u0000${prefixes.join(',')}`;
    const cached = this.dispatchCache.get(key);
    if (cached) return cached;
    const fn = this.resolveDispatch(macroName, macroNamespace, prefixes);
    this.dispatchCache.set(key, fn);
    return fn;
  }

  private resolveDispatch(macroName: string, macroNamespace: string | null | undefined, prefixes: readonly string[]): AnyFn {
    const ns = macroNamespace ?? undefined;
    const order = (ns && this.searchOrder.get(ns)) ?? [...(this.rootPackage ? [this.rootPackage] : []), ns ?? 'dbt'];
    const searched: string[] = [];
    for (const pkg of order) {
      for (const prefix of prefixes) {
        const candidate = `${prefix}__${macroName}`;
        searched.push(`${pkg}.${candidate}`);
        const fn = this.namespaces.get(pkg)?.[candidate];
        if (fn) return fn;
      }
    }
    if (!ns || ns === 'dbt') {
      for (const prefix of prefixes) {
        const fn = this.dbtMacros.get(`${prefix}__${macroName}`);
        if (fn) return fn;
      }
    }
    throw new TsdbtError('dispatch-macro-not-found', `In dispatch: no macro named '${macroName}' found within namespace '${ns ?? this.rootPackage ?? 'dbt'}'. Searched for: ${searched.join(', ')}`, {
      hint: `Define a macro named default__${macroName} (or postgres__${macroName}), or install the package that provides it.`,
    });
  }

  private compile(source: string, file: string): CompiledTemplate {
    const key = file + '\u0000' + source;
    let t = this.cache.get(key);
    if (t) {
      this.cache.delete(key);
      this.cache.set(key, t);
      return t;
    }
    t = compileTemplate(source, file, this.nunjucksEnv);
    this.callsBySource.set(key, t.calls);
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, t);
    return t;
  }

  /**
   * Renders dbt Jinja text (a model, an analysis, a hook, a yaml value…).
   *
   * `context` holds what the caller provides (ref, source, config, var, this,
   * target, is_incremental, adapter, model, …); every registered macro is
   * callable by name and sees this same context. Values print as Python
   * does (`None`, `True`, `['a', 'b']`); undefined prints as ''.
   *
   * @throws TsdbtError `jinja-syntax` / `jinja-error` (or the code of a
   *   TsdbtError raised by a context function, e.g. `compiler-error` from
   *   exceptions.raise_compiler_error) with the 1-based line and column in the
   *   file where it happened — a macro's file when it happened in a macro.
   */
  render(source: string, context: Record<string, unknown>, opts: JinjaRenderOptions): string {
    // Jinja's lexer: newlines are normalised to \n and one trailing newline is dropped (keep_trailing_newline=False).
    if (source.indexOf('\r') !== -1) source = source.replace(/\r\n?/g, '\n');
    if (source.charCodeAt(source.length - 1) === 10) source = source.slice(0, -1);
    if (source.indexOf('{') === -1) return source;
    const tmpl = this.compile(source, opts.file);
    const ctx = new RenderContext(this, context, opts.snapshots);
    const frame = new (nunjucks.runtime as unknown as { Frame: new () => { topLevel: boolean } }).Frame();
    frame.topLevel = true;
    const prev = this.current;
    this.current = ctx;
    const prevLenient = setLenientUndefined(opts.lenientUndefined === true);
    let out = '';
    let failure: unknown;
    try {
      tmpl.root(this.nunjucksEnv, ctx, frame, RUNTIME, (err, res) => {
        failure = err;
        out = res ?? '';
      });
    } finally {
      this.current = prev;
      setLenientUndefined(prevLenient);
    }
    if (failure) throw this.finishError(failure, opts.file);
    return out;
  }

  /**
   * Calls a registered macro from JavaScript (generate_schema_name, generic
   * tests, materialization helpers). `name` may be `package.name`. The macro
   * sees `context` as a template rendered with it would.
   *
   * @returns the macro's output as a string, or the value it passed to `return()`.
   * @throws TsdbtError `macro-not-found`, or any error the macro raises (located in its file).
   */
  callMacro(name: string, args: readonly unknown[], kwargs: Record<string, unknown>, context: Record<string, unknown>): unknown {
    const fn = this.getMacro(name);
    if (!fn) {
      throw new TsdbtError('macro-not-found', `macro '${name}' is not defined`, {
        hint: 'Check the name, and that the file defining it is under macro-paths (or in an installed package).',
      });
    }
    const ctx = new RenderContext(this, context);
    const prev = this.current;
    this.current = ctx;
    try {
      return unwrap(fn.apply(ctx, toNunjucksArgs(args, kwargs)));
    } catch (e) {
      const def = this.defsByFn.get(fn);
      throw isLocated(e) ? e : locateError(e, def?.file ?? name, def?.line ?? 1, 1);
    } finally {
      this.current = prev;
    }
  }

  private finishError(failure: unknown, file: string): TsdbtError {
    if (failure instanceof PendingError) {
      const inner = failure.error;
      if (isLocated(inner)) {
        if (inner.file === file || inner.line === undefined) return inner;
        const from = `called from ${file}:${failure.lineno + 1}`;
        const message = /\(in macro '[^']*'\)$/.test(inner.message) ? `${inner.message.slice(0, -1)}, ${from})` : `${inner.message} (${from})`;
        return markLocated(
          new TsdbtError(inner.code, message, {
            file: inner.file,
            line: inner.line,
            column: inner.column,
            hint: inner.hint,
            kind: inner.kind,
            cause: inner,
          }),
        );
      }
      return locateError(inner, file, failure.lineno + 1, failure.colno + 1);
    }
    return isLocated(failure) ? failure : locateError(failure, file, 1, 1);
  }
}
