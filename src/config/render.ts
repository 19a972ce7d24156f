/**
 * The small Jinja dbt applies to `dbt_project.yml` and `profiles.yml` values:
 * `{{ env_var('NAME', 'default') }}`, `{{ var('name', default) }}` (only
 * `--vars` are visible there, as in dbt), `target` (dbt_project.yml, once the
 * profile is known) and the filters `as_bool`, `as_number`, `as_native`,
 * `as_text`.
 *
 * Mirrors dbt's "native" rendering: a value stays a string unless the whole
 * value is one `{{ … | as_bool }}` / `as_number` / `as_native` expression.
 * Rendered by the same Jinja as models and macros (src/jinja's JinjaEnv, one
 * instance, no macros), so values print as Jinja2 prints them (`True`,
 * `None`, `['a', 'b']`).
 */
import { JinjaEnv, splitArgs } from '../jinja/index.ts';
import { parse as parseYamlValue } from 'yaml';
import { TsdbtError } from '../errors.ts';
import { envVar } from './env-var.ts';

/** What a rendered value can see. */
export interface RenderContext {
  /** Environment used by `env_var()` (default `process.env`). */
  readonly env: NodeJS.ProcessEnv;
  /** `--vars` given on the command line; the only vars visible here. */
  readonly cliVars: Record<string, unknown>;
  /** The `target` variable (dbt_project.yml only, once a profile is known). */
  readonly target?: Record<string, unknown>;
  /** Where the value is, for messages. */
  readonly file: string;
  /** Which file kind, for hints: 'dbt_project.yml' or 'profiles.yml'. */
  readonly fileKind: string;
  /** True in profiles.yml and packages.yml, the only files where dbt lets `env_var('DBT_ENV_SECRET_…')` be read. */
  readonly secretsAllowed?: boolean;
}

/** The Jinja environment for yml values: created on first use, shared by every call. */
let jinjaEnv: JinjaEnv | undefined;

const NATIVE_RE = /^\s*\{\{\s*([\s\S]*?)\s*\|\s*as_(bool|number|native|text)\s*\}\}\s*$/;

/** True when a string holds Jinja and needs rendering. */
export function hasJinja(s: string): boolean {
  return s.includes('{{') || s.includes('{%');
}

/**
 * Renders one value found at `line` of `ctx.file`. Non-strings and strings
 * without `{{`/`{%` are returned unchanged.
 *
 * Errors (TsdbtError, kind 'project'): `env-var-missing` (an env_var() with no
 * default names an unset variable), `var-missing` (var() of a name not in
 * --vars, with no default), `jinja-error` (syntax or evaluation error, or a
 * value an `as_*` filter cannot convert).
 */
export function renderValue(value: unknown, ctx: RenderContext, line?: number): unknown {
  if (typeof value !== 'string' || !hasJinja(value)) return value;
  let thrown: TsdbtError | undefined;
  const loc = { file: ctx.file, line, secretsAllowed: ctx.secretsAllowed === true };
  const context = {
    env_var: (...args: unknown[]) => {
      const { positional, kwargs } = splitArgs(args);
      try {
        return envVar(ctx.env, String(positional[0]), positional.length > 1 ? positional[1] : kwargs.default, loc);
      } catch (e) {
        if (e instanceof TsdbtError) thrown = e;
        throw e;
      }
    },
    var: (...args: unknown[]) => {
      const { positional, kwargs } = splitArgs(args);
      const name = String(positional[0]);
      if (Object.prototype.hasOwnProperty.call(ctx.cliVars, name)) return ctx.cliVars[name];
      if (positional.length > 1) return positional[1];
      if ('default' in kwargs) return kwargs.default;
      thrown = new TsdbtError('var-missing', `required var '${name}' not found: only --vars are visible in ${ctx.fileKind}`, {
        file: loc.file,
        line: loc.line,
        hint: `pass it with --vars '{${name}: ...}', or give a default: var('${name}', 'value')`,
      });
      throw thrown;
    },
    target: ctx.target,
  };
  const native = NATIVE_RE.exec(value);
  const source = native ? `{{ ${native[1]} }}` : value;
  let out: string;
  try {
    out = (jinjaEnv ??= new JinjaEnv()).render(source, context, { file: ctx.file, lenientUndefined: true });
  } catch (e) {
    if (thrown) throw thrown;
    const text = e instanceof Error ? e.message.replace(` in ${ctx.file}:`, ':') : String(e);
    const msg = text.split('\n').map((s) => s.trim().replace(/^Error: /, '')).filter(Boolean).join(' ');
    throw new TsdbtError('jinja-error', `could not render ${JSON.stringify(value)} in ${ctx.file}: ${msg}`, {
      file: loc.file,
      line: loc.line,
      hint: `only env_var(), var() and target are available in ${ctx.fileKind}`,
    });
  }
  if (!native) return out;
  const kind = native[2];
  if (kind === 'text') return out;
  if (kind === 'bool') {
    const t = out.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    throw new TsdbtError('jinja-error', `as_bool: '${out}' is not a boolean (in ${ctx.file})`, { ...loc, hint: 'the value must render to true or false' });
  }
  if (kind === 'number') {
    const n = Number(out.trim());
    if (out.trim() === '' || Number.isNaN(n)) {
      throw new TsdbtError('jinja-error', `as_number: '${out}' is not a number (in ${ctx.file})`, { ...loc, hint: 'the value must render to a number' });
    }
    return n;
  }
  // as_native: read the text as a literal (dbt uses Python's literal_eval; YAML flow syntax is close).
  try {
    return parseYamlValue(out) ?? null;
  } catch {
    return out;
  }
}

/**
 * Renders every string in `data` (deeply). `skip(path)` returns true for
 * paths left as written (dbt does not render `vars:`, run hooks or model
 * hooks at load time). `lineFor(path)` gives the line for messages.
 */
export function renderDeep(
  data: unknown,
  ctx: RenderContext,
  skip: (path: readonly (string | number)[]) => boolean,
  lineFor: (path: readonly (string | number)[]) => number | undefined,
  path: (string | number)[] = [],
): unknown {
  if (skip(path)) return data;
  if (typeof data === 'string') return hasJinja(data) ? renderValue(data, ctx, lineFor(path)) : data;
  if (Array.isArray(data)) return data.map((v, i) => renderDeep(v, ctx, skip, lineFor, [...path, i]));
  if (typeof data === 'object' && data !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) out[k] = renderDeep(v, ctx, skip, lineFor, [...path, k]);
    return out;
  }
  return data;
}

/**
 * The `target` variable as dbt's Jinja sees it (dbt's `target` context:
 * `name`, `profile_name`, `type`, `schema`, `threads`, connection fields;
 * never the password). `database` is set from `dbname` as dbt-postgres does.
 */
export function targetForJinja(target: {
  name: string;
  profileName: string;
  type: string;
  schema: string;
  threads: number;
  host?: string;
  port?: number;
  user?: string;
  dbname?: string;
}): Record<string, unknown> {
  return {
    name: target.name,
    target_name: target.name,
    profile_name: target.profileName,
    type: target.type,
    schema: target.schema,
    threads: target.threads,
    host: target.host ?? null,
    port: target.port ?? null,
    user: target.user ?? null,
    dbname: target.dbname ?? null,
    database: target.dbname ?? null,
  };
}
