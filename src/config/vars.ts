/**
 * dbt's project variables: `--vars` on the command line and `vars:` in
 * dbt_project.yml, resolved with dbt's `var()` precedence.
 */
import { TsdbtError } from '../errors.ts';
import type { ProjectConfig } from './types.ts';
import { isPlainObject, parseYaml } from './yaml-file.ts';

/**
 * Parses the `--vars` argument: a YAML or JSON mapping (`'{key: value}'`,
 * `'key: value'`, `'{"key": 1}'`), as dbt reads it with `yaml.safe_load`.
 * An empty string gives `{}`.
 *
 * @throws TsdbtError `bad-vars` when the text is not YAML or is not a mapping.
 */
export function parseVars(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = parseYaml(text, '--vars').data;
  } catch (e) {
    const detail = e instanceof TsdbtError ? e.message.replace(/^invalid YAML in --vars: /, '') : String(e);
    const col = e instanceof TsdbtError && e.column !== undefined ? ` (column ${e.column})` : '';
    throw new TsdbtError('bad-vars', `--vars is not valid YAML or JSON${col}: ${detail}`, {
      hint: `quote the whole argument and write a mapping, e.g. --vars '{start_date: "2024-01-01", limit: 10}'`,
    });
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    const kind = Array.isArray(data) ? 'a list' : `a ${typeof data}`;
    throw new TsdbtError('bad-vars', `--vars must be a mapping of names to values, but was ${kind}`, {
      hint: `write --vars '{name: value}' (a colon and a space between each name and its value)`,
    });
  }
  return data;
}

const has = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Options for {@link resolveVar}. */
export interface ResolveVarOptions {
  /** The default argument of `var('name', default)`. Presence matters: `{ default: null }` is a default of none. */
  readonly default?: unknown;
  /**
   * The package's own ProjectConfig when the node belongs to an installed
   * package (its dbt_project.yml `vars:` are the lowest layer).
   */
  readonly packageProject?: ProjectConfig;
  /** Who asked, for the message: e.g. `model.jaffle_shop.orders`. */
  readonly node?: string;
  readonly file?: string;
  readonly line?: number;
}

/**
 * The value of `{{ var(name) }}` for a node of package `packageName`, with
 * dbt's precedence (highest first):
 *  1. `--vars` (`cliVars`);
 *  2. the root project's package-scoped vars: `vars: { <packageName>: { name: … } }`;
 *  3. the root project's global vars: `vars: { name: … }`;
 *  4. the package's own dbt_project.yml vars, scoped then global (only with
 *     `opts.packageProject`);
 *  5. the default argument (`opts.default`, when the key is present).
 *
 * @throws TsdbtError `var-missing` when no layer has it and no default is given.
 */
export function resolveVar(
  name: string,
  project: ProjectConfig,
  cliVars: Record<string, unknown>,
  packageName: string,
  opts: ResolveVarOptions = {},
): unknown {
  if (has(cliVars, name)) return cliVars[name];
  const layers: Record<string, unknown>[] = [];
  const addProject = (p: ProjectConfig) => {
    const scoped = p.vars[packageName];
    if (isPlainObject(scoped)) layers.push(scoped);
    layers.push(p.vars);
  };
  addProject(project);
  if (opts.packageProject && opts.packageProject !== project) addProject(opts.packageProject);
  for (const layer of layers) if (has(layer, name)) return layer[name];
  if ('default' in opts) return opts.default;
  const who = opts.node ? ` (used by ${opts.node})` : '';
  throw new TsdbtError('var-missing', `required var '${name}' not found in config${who}`, {
    file: opts.file,
    line: opts.line,
    hint: `define it under vars: in dbt_project.yml, pass --vars '{${name}: value}', or give a default: var('${name}', 'value')`,
  });
}

/**
 * Every var visible to nodes of `packageName`, merged with the precedence of
 * {@link resolveVar} (later layers lower). Handy to build a `var()` once per
 * package instead of once per call.
 */
export function varsFor(
  project: ProjectConfig,
  cliVars: Record<string, unknown>,
  packageName: string,
  packageProject?: ProjectConfig,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const layer = (p: ProjectConfig) => {
    Object.assign(out, p.vars);
    const scoped = p.vars[packageName];
    if (isPlainObject(scoped)) Object.assign(out, scoped);
  };
  if (packageProject && packageProject !== project) layer(packageProject);
  layer(project);
  Object.assign(out, cliVars);
  return out;
}
