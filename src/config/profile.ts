/**
 * `profiles.yml` → {@link TargetConfig}, as dbt-core 1.x reads it, plus
 * tsdbt's zero-setup embedded target (PGlite).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { TsdbtError } from '../errors.ts';
import { renderDeep, renderValue } from './render.ts';
import type { RenderContext } from './render.ts';
import type { ProjectConfig, TargetConfig } from './types.ts';
import { isPlainObject, lineOf, readYamlFile } from './yaml-file.ts';
import type { YamlFile } from './yaml-file.ts';

export const PROFILES_FILE = 'profiles.yml';

/** Options for {@link loadProfile}. */
export interface LoadProfileOptions {
  /** `--profiles-dir`: the directory holding profiles.yml. */
  readonly profilesDir?: string;
  /** `--target`: overrides the profile's `target:`. */
  readonly target?: string;
  /** `--profile`: overrides `profile:` of dbt_project.yml. */
  readonly profile?: string;
  /**
   * Set when the profile was named by `--profile` / `DBT_PROFILE`: a profile
   * missing from ~/.dbt/profiles.yml is then an error, not the embedded database.
   */
  readonly explicitProfile?: boolean;
  /** Environment for `env_var()`, `DBT_PROFILES_DIR` and `HOME`; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** `--vars` (visible to `{{ var() }}` in profiles.yml, as in dbt). */
  readonly vars?: Record<string, unknown>;
}

/** What {@link loadProfile} returns. */
export interface LoadedProfile {
  readonly target: TargetConfig;
  /** Things worth printing that do not stop the run (unknown keys, ignored settings). */
  readonly warnings: string[];
  /** Set when the embedded default target is used: one line saying so and why. */
  readonly notice?: string;
  /** Absolute path of the profiles.yml used, if any. */
  readonly profilesFile?: string;
}

/** What {@link loadProfile} needs of the project: a full ProjectConfig will do. */
export type ProfileProject = Pick<ProjectConfig, 'root' | 'name' | 'profile' | 'file'>;

/** Name, type and schema of the embedded default target. */
export const EMBEDDED_TARGET_NAME = 'dev';
export const EMBEDDED_SCHEMA = 'public';

const COMMON_KEYS = ['type', 'threads', 'schema'];
const POSTGRES_KEYS = [
  ...COMMON_KEYS, 'host', 'port', 'user', 'password', 'pass', 'dbname', 'database', 'sslmode', 'sslcert', 'sslkey',
  'sslrootcert', 'connect_timeout', 'search_path', 'keepalives_idle', 'retries', 'role', 'application_name',
];
const PGLITE_KEYS = [...COMMON_KEYS, 'path', 'data_dir'];
const OTHER_ADAPTERS = new Set(['snowflake', 'bigquery', 'redshift', 'databricks', 'spark', 'duckdb', 'trino', 'athena', 'sqlserver', 'fabric', 'synapse', 'clickhouse', 'mysql', 'oracle', 'sqlite', 'materialize', 'vertica', 'teradata', 'exasol', 'dremio', 'glue', 'firebolt', 'postgresql']);

/** Absolute default data directory of the embedded database for a target. */
export function defaultPgliteDir(project: ProfileProject, targetName: string): string {
  return join(project.root, '.tsdbt', 'pglite', targetName);
}

/**
 * The embedded default target: PGlite, schema `public` (PGlite's own default
 * schema; nothing to create), one thread, data kept in
 * `<project>/.tsdbt/pglite/<name>`.
 */
export function embeddedTarget(project: ProfileProject, name = EMBEDDED_TARGET_NAME, profileName = project.profile ?? project.name): TargetConfig {
  return {
    name,
    profileName,
    type: 'pglite',
    schema: EMBEDDED_SCHEMA,
    threads: 1,
    dataDir: defaultPgliteDir(project, name),
    extra: {},
    source: 'embedded default',
  };
}

function displayPath(abs: string, project: ProfileProject, home: string): string {
  const rel = relative(project.root, abs);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return rel;
  if (home && abs.startsWith(home + '/')) return '~' + abs.slice(home.length);
  return abs;
}

interface Candidate {
  readonly abs: string;
  /** Chosen by the user (flag, env var, project dir) rather than the ~/.dbt fallback. */
  readonly explicit: boolean;
}

/** Finds profiles.yml: --profiles-dir, TSDBT_PROFILES_DIR, DBT_PROFILES_DIR, the project dir, ~/.dbt. */
function findProfilesFile(project: ProfileProject, opts: LoadProfileOptions, env: NodeJS.ProcessEnv, home: string, warnings: string[]): Candidate | undefined {
  if (opts.profilesDir !== undefined) {
    const abs = resolve(opts.profilesDir, PROFILES_FILE);
    if (!existsSync(abs)) {
      throw new TsdbtError('profiles-not-found', `no profiles.yml in ${resolve(opts.profilesDir)} (given with --profiles-dir)`, {
        hint: 'point --profiles-dir at the directory that holds profiles.yml, or leave it out to use the embedded database',
      });
    }
    return { abs, explicit: true };
  }
  for (const name of ['TSDBT_PROFILES_DIR', 'DBT_PROFILES_DIR']) {
    const dir = env[name];
    if (!dir) continue;
    const abs = resolve(dir, PROFILES_FILE);
    if (existsSync(abs)) return { abs, explicit: true };
    warnings.push(`${name} is set to ${dir}, but there is no profiles.yml there; looking elsewhere`);
  }
  const inProject = join(project.root, PROFILES_FILE);
  if (existsSync(inProject)) return { abs: inProject, explicit: true };
  if (home) {
    const inHome = join(home, '.dbt', PROFILES_FILE);
    if (existsSync(inHome)) return { abs: inHome, explicit: false };
  }
  return undefined;
}

function suggestion(name: string, options: string[]): string {
  if (options.length === 0) return '';
  const best = closest(name, options);
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? ` Did you mean '${best}'?` : '';
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/**
 * Finds and reads the profile and target to run against, as dbt does.
 *
 * profiles.yml is looked for in: `opts.profilesDir` (--profiles-dir), then
 * `$TSDBT_PROFILES_DIR`, `$DBT_PROFILES_DIR`, the project directory, then
 * `~/.dbt/`. The profile is `opts.profile ?? project.profile`; the target is
 * `opts.target ?? <profile>.target ?? 'default'` (dbt's fallback). Only the
 * profile's `target:` and the chosen output are rendered
 * (`{{ env_var('NAME', 'default') }}`, `{{ var('x') }}` from --vars), as in
 * dbt, so env vars used only by other targets need not be set.
 *
 * Embedded default (tsdbt, not dbt): when no profiles.yml exists anywhere —
 * or the only one is ~/.dbt/profiles.yml and it has no such profile — the
 * target is PGlite named `dev` (or `--target`), schema `public`, threads 1,
 * data in `<project>/.tsdbt/pglite/<target>`, and `notice` says so. A
 * profiles.yml chosen explicitly (flag, env var, project dir) that lacks the
 * profile is an error, as in dbt.
 *
 * Targets: `postgres` (host, port default 5432, user, password|pass,
 * dbname|database, schema; threads 1, connect_timeout 10, retries 1 by
 * default; password optional so trust/.pgpass auth works — dbt-postgres
 * requires it) and `pglite` (`path`|`data_dir`, relative to the project,
 * default as above; schema default `public`; threads forced to 1). The
 * password goes to the driver only (never the Jinja `target`, see
 * targetForJinja); profiles.yml may read `DBT_ENV_SECRET_*` variables.
 *
 * @throws TsdbtError `profiles-not-found` (--profiles-dir without the file),
 *   `yaml-syntax`, `profile-not-found` (lists the profiles), `target-not-found`
 *   (lists outputs, suggests the closest), `unsupported-adapter`,
 *   `profile-invalid` (missing type/host/user/dbname/schema, bad numbers),
 *   `env-var-missing`, `var-missing`, `jinja-error`.
 */
export function loadProfile(project: ProfileProject, opts: LoadProfileOptions = {}): LoadedProfile {
  const env = opts.env ?? process.env;
  const home = env.HOME ?? homedir();
  const warnings: string[] = [];
  const profileName = opts.profile ?? project.profile;
  const embeddedName = opts.target ?? EMBEDDED_TARGET_NAME;
  const embedded = (why: string): LoadedProfile => {
    if (opts.target !== undefined && opts.target !== EMBEDDED_TARGET_NAME) {
      // A mistyped --target must not quietly create a second embedded database.
      throw new TsdbtError('target-not-found', `there is no target named '${opts.target}': ${why[0].toLowerCase()}${why.slice(1)}, and the embedded database (PGlite) has one target, '${EMBEDDED_TARGET_NAME}'`, {
        file: project.file,
        hint: `leave out --target (and DBT_TARGET) to use the embedded database, or write a profiles.yml with a '${opts.target}' output (see profiles.example.yml)`,
      });
    }
    const target = embeddedTarget(project, embeddedName, profileName ?? project.name);
    const where = relative(project.root, target.dataDir!) || target.dataDir!;
    return { target, warnings, notice: `${why}; using the embedded database (PGlite) at ${where}` };
  };

  const found = findProfilesFile(project, opts, env, home, warnings);
  if (!found) return embedded('No profiles.yml found');
  const file = displayPath(found.abs, project, home);
  const yf = readYamlFile(found.abs, file);
  const data = isPlainObject(yf.data) ? yf.data : {};
  const profiles = Object.keys(data).filter((k) => k !== 'config');

  if (!profileName) {
    if (!found.explicit) return embedded(`dbt_project.yml names no profile (${file} not used)`);
    throw new TsdbtError('profile-not-found', `dbt_project.yml names no profile, so none of ${file} can be chosen`, {
      file: project.file,
      hint: `add \`profile: <name>\` to dbt_project.yml (profiles in ${file}: ${profiles.join(', ') || 'none'})`,
    });
  }
  const raw = data[profileName];
  if (raw === undefined) {
    if (!found.explicit && !opts.explicitProfile) {
      return embedded(`Profile '${profileName}' is not in ${file} (it has: ${profiles.join(', ') || 'none'})`);
    }
    throw new TsdbtError('profile-not-found', `profile '${profileName}' not found in ${file}.${suggestion(profileName, profiles)}`, {
      file,
      hint: profiles.length
        ? `available profiles: ${profiles.join(', ')}; set \`profile:\` in dbt_project.yml to one of them, or add '${profileName}' to ${file}`
        : `add a profile named '${profileName}' to ${file}`,
    });
  }
  if (!isPlainObject(raw) || !isPlainObject(raw.outputs)) {
    throw new TsdbtError('profile-invalid', `profile '${profileName}' in ${file} has no outputs`, {
      file,
      line: lineOf(yf, [profileName]),
      hint: `write ${profileName}: { target: dev, outputs: { dev: { type: postgres, host: …, … } } }`,
    });
  }

  const ctx: RenderContext = { env, cliVars: opts.vars ?? {}, file, fileKind: 'profiles.yml', secretsAllowed: true };
  const targetName = opts.target ?? (raw.target === undefined || raw.target === null ? 'default' : String(renderValue(raw.target, ctx, lineOf(yf, [profileName, 'target']))));
  const outputs = Object.keys(raw.outputs);
  if (!Object.prototype.hasOwnProperty.call(raw.outputs, targetName)) {
    throw new TsdbtError('target-not-found', `profile '${profileName}' has no target named '${targetName}'.${suggestion(targetName, outputs)}`, {
      file,
      line: lineOf(yf, [profileName, 'outputs']),
      hint: `valid targets for '${profileName}': ${outputs.join(', ') || 'none'}; pass one with --target${raw.target === undefined && opts.target === undefined ? ', or set `target:` in the profile' : ''}`,
    });
  }
  const outPath = [profileName, 'outputs', targetName];
  const rawOutput = raw.outputs[targetName];
  if (!isPlainObject(rawOutput)) {
    throw new TsdbtError('profile-invalid', `target '${targetName}' of profile '${profileName}' must be a mapping`, {
      file, line: lineOf(yf, outPath), hint: 'write its settings as key: value lines under it',
    });
  }
  const out = renderDeep(rawOutput, ctx, () => false, (p) => lineOf(yf, [...outPath, ...p])) as Record<string, unknown>;
  return { ...buildTarget(out, { project, yf, file, profileName, targetName, outPath, warnings, home }), warnings, profilesFile: found.abs };
}

interface BuildCtx {
  readonly project: ProfileProject;
  readonly yf: YamlFile;
  readonly file: string;
  readonly profileName: string;
  readonly targetName: string;
  readonly outPath: string[];
  readonly warnings: string[];
  readonly home: string;
}

function buildTarget(out: Record<string, unknown>, b: BuildCtx): { target: TargetConfig } {
  const { file, profileName, targetName, outPath, yf } = b;
  const at = (key?: string) => lineOf(yf, key ? [...outPath, key] : outPath);
  const where = `target '${targetName}' of profile '${profileName}'`;
  const bad = (message: string, key: string | undefined, hint: string) =>
    new TsdbtError('profile-invalid', `${where} ${message}`, { file, line: at(key), hint });

  const type = out.type;
  if (type === undefined || type === null || type === '') {
    throw bad('has no `type`', undefined, 'add `type: postgres` (or `type: pglite` for the embedded database)');
  }
  if (type !== 'postgres' && type !== 'pglite') {
    const known = OTHER_ADAPTERS.has(String(type));
    throw new TsdbtError('unsupported-adapter', `${where} has type '${String(type)}', which tsdbt does not support`, {
      file,
      line: at('type'),
      hint: `tsdbt runs on PostgreSQL (type: postgres) and its embedded PGlite (type: pglite)${known ? '' : suggestion(String(type), ['postgres', 'pglite'])}`,
    });
  }

  let threads = 1;
  if (out.threads !== undefined && out.threads !== null) {
    const t = toInt(out.threads);
    if (t === undefined || t < 1) throw bad(`has threads: ${JSON.stringify(out.threads)}; it must be a whole number of at least 1`, 'threads', 'e.g. threads: 4');
    threads = t;
  }

  const knownKeys = type === 'postgres' ? POSTGRES_KEYS : PGLITE_KEYS;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(out)) {
    if (knownKeys.includes(k)) continue;
    extra[k] = v;
    b.warnings.push(`${file}:${at(k)}: unknown key '${k}' in ${where} (ignored).${suggestion(k, knownKeys)}`);
  }

  const str = (key: string): string | undefined => {
    const v = out[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw bad(`has ${key} of the wrong type (a ${Array.isArray(v) ? 'list' : typeof v})`, key, `write ${key}: "value"`);
  };
  const int = (key: string, dflt?: number): number | undefined => {
    const v = out[key];
    if (v === undefined || v === null) return dflt;
    const n = toInt(v);
    if (n === undefined) throw bad(`has ${key}: ${JSON.stringify(v)}; it must be a whole number`, key, `e.g. ${key}: ${dflt ?? 1}`);
    return n;
  };

  if (type === 'pglite') {
    if (threads > 1) b.warnings.push(`${file}:${at('threads')}: PGlite runs one query at a time; threads: ${threads} in ${where} is treated as 1`);
    const p = str('data_dir') ?? str('path');
    const dataDir = p === undefined ? defaultPgliteDir(b.project, targetName) : resolve(b.project.root, p.replace(/^~(?=\/|$)/, b.home));
    return {
      target: {
        name: targetName,
        profileName,
        type: 'pglite',
        schema: str('schema') ?? EMBEDDED_SCHEMA,
        threads: 1,
        dataDir,
        extra,
        source: yf.abs,
      },
    };
  }

  const password = str('password') ?? str('pass');
  const dbname = str('dbname') ?? str('database');
  const host = str('host');
  const user = str('user');
  const schema = str('schema');
  const missing = [
    ['host', host], ['user', user], ['dbname', dbname], ['schema', schema],
  ].filter(([, v]) => v === undefined || v === '').map(([k]) => k as string);
  if (missing.length) {
    throw bad(`is missing ${missing.map((m) => `'${m}'`).join(', ')}`, undefined,
      `add ${missing.map((m) => `${m}: …`).join(', ')} under outputs.${targetName} in ${file} (dbname may be written database)`);
  }
  const port = int('port', 5432)!;
  if (port < 1 || port > 65535) throw bad(`has port ${port}, outside 1–65535`, 'port', 'e.g. port: 5432');
  return {
    target: {
      name: targetName,
      profileName,
      type: 'postgres',
      schema: schema!,
      threads,
      host,
      port,
      user,
      password,
      dbname,
      sslmode: str('sslmode'),
      connect_timeout: int('connect_timeout', 10),
      search_path: str('search_path'),
      keepalives_idle: int('keepalives_idle'),
      retries: int('retries', 1),
      role: str('role'),
      extra: {
        ...extra,
        ...(out.sslcert !== undefined ? { sslcert: str('sslcert') } : {}),
        ...(out.sslkey !== undefined ? { sslkey: str('sslkey') } : {}),
        ...(out.sslrootcert !== undefined ? { sslrootcert: str('sslrootcert') } : {}),
        ...(out.application_name !== undefined ? { application_name: str('application_name') } : {}),
        // Also typed above; kept here because src/adapters/postgres.ts reads them from `extra`.
        ...(out.role !== undefined ? { role: str('role') } : {}),
        ...(out.keepalives_idle !== undefined ? { keepalives_idle: int('keepalives_idle') } : {}),
      },
      source: yf.abs,
    },
  };
}

