/**
 * `dbt_project.yml` → {@link ProjectConfig}, as dbt-core 1.x reads it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { TsdbtError } from '../errors.ts';
import { setConfigLocation } from './node-config.ts';
import { renderDeep, renderValue, targetForJinja } from './render.ts';
import type { RenderContext } from './render.ts';
import type { ConfigTree, ProjectConfig, TargetConfig } from './types.ts';
import { isPlainObject, keyLines, lineOf, readYamlFile } from './yaml-file.ts';
import type { YamlFile } from './yaml-file.ts';

export const PROJECT_FILE = 'dbt_project.yml';

/** Options for {@link loadProjectConfig}. */
export interface LoadProjectOptions {
  /** `--vars` (the only vars `{{ var() }}` sees inside dbt_project.yml, as in dbt). */
  readonly vars?: Record<string, unknown>;
  /** The target, once known: makes `{{ target.name }}` etc. available (dbt renders the project with it). */
  readonly target?: TargetConfig;
  /** Environment for `env_var()`; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Top-level keys dbt 1.x accepts in dbt_project.yml. */
const PROJECT_KEYS = [
  'name', 'version', 'config-version', 'profile', 'model-paths', 'seed-paths', 'test-paths', 'analysis-paths',
  'macro-paths', 'snapshot-paths', 'docs-paths', 'asset-paths', 'function-paths', 'target-path', 'log-path',
  'packages-install-path', 'clean-targets', 'query-comment', 'require-dbt-version', 'quoting', 'on-run-start',
  'on-run-end', 'dispatch', 'models', 'seeds', 'snapshots', 'sources', 'tests', 'data_tests', 'unit_tests',
  'metrics', 'semantic-models', 'saved-queries', 'exposures', 'functions', 'vars', 'restrict-access', 'flags',
  'source-paths', 'data-paths', 'dbt-cloud',
];

const TREE_KEYS = new Set(['models', 'seeds', 'snapshots', 'tests', 'data_tests', 'sources', 'unit_tests']);
const LATE_HOOKS = new Set(['pre-hook', 'post-hook', 'pre_hook', 'post_hook']);

/**
 * Which values dbt leaves unrendered when it loads the project: `vars:`, run
 * hooks and `query-comment` (rendered at run time), and model hooks inside the
 * config trees (rendered per node with the full context).
 */
function skipRender(path: readonly (string | number)[]): boolean {
  if (path.length === 0) return false;
  const first = path[0];
  if (first === 'vars' || first === 'on-run-start' || first === 'on-run-end' || first === 'query-comment') return true;
  if (typeof first === 'string' && TREE_KEYS.has(first)) {
    for (const k of path) if (typeof k === 'string' && LATE_HOOKS.has(k.replace(/^[+\s]+/, ''))) return true;
  }
  return false;
}

/** Records the file/line of every mapping in a config tree (for unknown-config-key warnings). */
function registerTree(yf: YamlFile, value: unknown, yamlPath: (string | number)[], dotted: string): void {
  if (!isPlainObject(value)) return;
  setConfigLocation(value, { file: yf.file, path: dotted, keyLines: keyLines(yf, yamlPath), line: lineOf(yf, yamlPath) });
  for (const [k, v] of Object.entries(value)) {
    if (isPlainObject(v)) registerTree(yf, v, [...yamlPath, k], `${dotted}.${k.replace(/^\+/, '')}`);
  }
}

/** Parses dbt_project.yml of `projectDir` without rendering. Throws `no-project`, `yaml-syntax`. */
export function readProjectFile(projectDir: string): YamlFile {
  const root = resolve(projectDir);
  const abs = join(root, PROJECT_FILE);
  if (!existsSync(abs)) {
    throw new TsdbtError('no-project', `no dbt_project.yml in ${root}`, {
      hint: 'run tsdbt from the project directory (where dbt_project.yml is), or pass --project-dir <dir>',
    });
  }
  return readYamlFile(abs, PROJECT_FILE);
}

function invalid(yf: YamlFile, message: string, path: (string | number)[], hint: string): TsdbtError {
  return new TsdbtError('project-invalid', message, { file: yf.file, line: lineOf(yf, path), hint });
}

function pathList(yf: YamlFile, data: Record<string, unknown>, key: string, dflt: readonly string[]): string[] {
  const v = data[key];
  if (v === undefined || v === null) return [...dflt];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.map((x) => x.replace(/\/+$/, ''));
  throw invalid(yf, `${key} must be a list of paths`, [key], `write ${key}: ["${dflt[0] ?? 'path'}"]`);
}

function str(yf: YamlFile, data: Record<string, unknown>, key: string): string | undefined {
  const v = data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw invalid(yf, `${key} must be a string`, [key], `write ${key}: "value"`);
  return v;
}

function tree(yf: YamlFile, data: Record<string, unknown>, key: string): ConfigTree {
  const v = data[key];
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw invalid(yf, `${key}: must be a mapping of configs and folders`, [key], `e.g. ${key}: { ${data.name ?? 'my_project'}: { +enabled: true } }`);
  registerTree(yf, v, [key], key);
  return v;
}

function hooks(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]) as string[];
}

/**
 * Builds the ProjectConfig from an already-parsed dbt_project.yml. Split from
 * {@link loadProjectConfig} so the runtime loader can parse once and render
 * twice (dbt renders the project again once the target is known).
 */
export function buildProjectConfig(yf: YamlFile, root: string, opts: LoadProjectOptions = {}): ProjectConfig {
  const raw = yf.data;
  if (!isPlainObject(raw)) {
    throw new TsdbtError('project-invalid', 'dbt_project.yml must be a mapping (name: …, profile: …)', {
      file: yf.file,
      line: 1,
      hint: 'start the file with `name: my_project`',
    });
  }
  const ctx: RenderContext = {
    env: opts.env ?? process.env,
    cliVars: opts.vars ?? {},
    target: opts.target ? targetForJinja(opts.target) : undefined,
    file: yf.file,
    fileKind: 'dbt_project.yml',
  };
  const data = renderDeep(raw, ctx, skipRender, (p) => lineOf(yf, p)) as Record<string, unknown>;
  const warnings: TsdbtError[] = [];

  const name = data.name;
  if (name === undefined || name === null || name === '') {
    throw new TsdbtError('project-invalid', 'dbt_project.yml has no `name`', {
      file: yf.file,
      line: 1,
      hint: 'add `name: my_project` (letters, digits and underscores) at the top of dbt_project.yml',
    });
  }
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw invalid(yf, `project name '${String(name)}' is not valid: dbt needs letters, digits and underscores, not starting with a digit`, ['name'],
      `rename it, e.g. name: ${String(name).replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1')}`);
  }
  const cv = data['config-version'];
  if (cv !== undefined && cv !== null && cv !== 2) {
    throw invalid(yf, `config-version: ${String(cv)} is not supported (dbt 1.x reads config-version 2)`, ['config-version'],
      'set config-version: 2 (or remove the key) and move configs under models:/seeds: as dbt 1.x documents');
  }

  for (const key of Object.keys(data)) {
    if (PROJECT_KEYS.includes(key)) continue;
    const best = closest(key, PROJECT_KEYS);
    const near = distance(key, best) <= Math.max(2, Math.floor(key.length / 3));
    warnings.push(new TsdbtError('unknown-project-key', `unknown key '${key}' in dbt_project.yml${near ? `; did you mean '${best}'?` : ''}`, {
      file: yf.file,
      line: lineOf(yf, [key]),
      hint: near ? `rename it to '${best}'` : 'remove it: dbt does not read this key',
    }));
  }

  // Legacy names from dbt < 1.0, still honoured with a deprecation warning.
  const legacy: Record<string, string> = { 'source-paths': 'model-paths', 'data-paths': 'seed-paths' };
  for (const [old, now] of Object.entries(legacy)) {
    if (data[old] !== undefined) {
      warnings.push(new TsdbtError('deprecated-project-key', `'${old}' was renamed '${now}' in dbt 1.0`, {
        file: yf.file,
        line: lineOf(yf, [old]),
        hint: `rename ${old} to ${now}`,
      }));
      if (data[now] === undefined) data[now] = data[old];
    }
  }

  if (data.tests !== undefined && data.data_tests !== undefined) {
    throw invalid(yf, 'dbt_project.yml has both `tests:` and `data_tests:`', ['data_tests'],
      'keep one: `data_tests:` is the dbt 1.8+ name; move the configs under it and remove `tests:`');
  }

  const modelPaths = pathList(yf, data, 'model-paths', ['models']);
  const seedPaths = pathList(yf, data, 'seed-paths', ['seeds']);
  const testPaths = pathList(yf, data, 'test-paths', ['tests']);
  const macroPaths = pathList(yf, data, 'macro-paths', ['macros']);
  const snapshotPaths = pathList(yf, data, 'snapshot-paths', ['snapshots']);
  const analysisPaths = pathList(yf, data, 'analysis-paths', ['analyses']);
  const docsPaths = pathList(yf, data, 'docs-paths', [
    ...new Set([...modelPaths, ...seedPaths, ...snapshotPaths, ...analysisPaths, ...macroPaths, ...testPaths]),
  ]);
  const targetPath = str(yf, data, 'target-path') ?? 'target';
  const cleanTargets = pathList(yf, data, 'clean-targets', [targetPath]);

  const vars = data.vars ?? {};
  if (!isPlainObject(vars)) throw invalid(yf, 'vars: must be a mapping', ['vars'], 'write vars: { name: value }');
  const testsKey = data.data_tests !== undefined ? 'data_tests' : 'tests';

  const profile = data.profile;
  const project: ProjectConfig = {
    root,
    name,
    version: str(yf, data, 'version'),
    configVersion: typeof cv === 'number' ? cv : undefined,
    profile: profile === undefined || profile === null ? undefined : String(profile),
    modelPaths,
    seedPaths,
    testPaths,
    macroPaths,
    snapshotPaths,
    analysisPaths,
    docsPaths,
    targetPath,
    cleanTargets,
    vars,
    models: tree(yf, data, 'models'),
    seeds: tree(yf, data, 'seeds'),
    tests: tree(yf, data, testsKey),
    snapshots: tree(yf, data, 'snapshots'),
    sources: tree(yf, data, 'sources'),
    unitTests: tree(yf, data, 'unit_tests'),
    file: yf.file,
    packagesInstallPath: str(yf, data, 'packages-install-path') ?? 'dbt_packages',
    logPath: str(yf, data, 'log-path') ?? 'logs',
    assetPaths: pathList(yf, data, 'asset-paths', []),
    onRunStart: hooks(data['on-run-start']),
    onRunEnd: hooks(data['on-run-end']),
    requireDbtVersion: data['require-dbt-version'] as string | string[] | undefined,
    requireDbtVersionLine: data['require-dbt-version'] === undefined ? undefined : lineOf(yf, ['require-dbt-version']),
    quoting: isPlainObject(data.quoting) ? data.quoting : undefined,
    dispatch: Array.isArray(data.dispatch) ? (data.dispatch as { macro_namespace: string; search_order: string[] }[]) : undefined,
    queryComment: data['query-comment'] as ProjectConfig['queryComment'],
    flags: isPlainObject(data.flags) ? data.flags : undefined,
    restrictAccess: data['restrict-access'] === true,
    warnings,
  };
  return project;
}

/**
 * Reads `<projectDir>/dbt_project.yml` as dbt-core 1.x does.
 *
 * Defaults (dbt's): model-paths ['models'], seed-paths ['seeds'], test-paths
 * ['tests'], macro-paths ['macros'], snapshot-paths ['snapshots'],
 * analysis-paths ['analyses'], docs-paths = all of those, target-path
 * 'target', clean-targets [target-path], packages-install-path
 * 'dbt_packages'. String values are rendered with `env_var()`, `var()` (only
 * `--vars`, as in dbt) and, when `opts.target` is given, `target`; `vars:`,
 * `on-run-start`/`on-run-end`, `query-comment` and model hooks are kept as
 * written (rendered later, as dbt does). `data_tests:` is read into `tests`.
 *
 * Unknown top-level keys and the pre-1.0 names `source-paths`/`data-paths`
 * become `warnings`; unknown keys inside the config trees are reported by
 * `resolveNodeConfig`/`checkConfigTree` with their line.
 *
 * @throws TsdbtError `no-project` (no dbt_project.yml), `yaml-syntax` (file,
 *   line, column), `project-invalid` (no `name`, a bad name, wrong types,
 *   config-version other than 2, both tests: and data_tests:),
 *   `env-var-missing`, `var-missing`, `jinja-error`.
 */
export function loadProjectConfig(projectDir: string, opts: LoadProjectOptions = {}): ProjectConfig {
  const yf = readProjectFile(projectDir);
  return buildProjectConfig(yf, resolve(projectDir), opts);
}

/** Renders only the `profile:` key (needed before the target is known). */
export function renderProfileName(yf: YamlFile, opts: LoadProjectOptions = {}): string | undefined {
  if (!isPlainObject(yf.data) || yf.data.profile === undefined || yf.data.profile === null) return undefined;
  const ctx: RenderContext = { env: opts.env ?? process.env, cliVars: opts.vars ?? {}, file: yf.file, fileKind: 'dbt_project.yml' };
  return String(renderValue(yf.data.profile, ctx, lineOf(yf, ['profile'])));
}
