/**
 * `packages.yml` / `dependencies.yml` → {@link PackageSpec}s, as dbt-core 1.x
 * reads them (`package_and_project_data_from_root`, `PackageConfig.validate`).
 *
 * - Only one file may hold `packages:`; `dependencies.yml` wins when it has
 *   them, and only `dependencies.yml` may hold `projects:` (dbt Mesh).
 * - Values are rendered as dbt's PackageRenderer renders them: `env_var()`
 *   (including `DBT_ENV_SECRET_*`, allowed here and in profiles.yml only, as
 *   dbt; messages show URLs as written, so no output shows their values) and `var()` from `--vars`. The entry as written is
 *   kept too (`unrendered`): it goes into the lock file and its hash, so a
 *   token never lands in package-lock.yml.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TsdbtError } from '../errors.ts';
import { renderDeep } from '../config/render.ts';
import { isPlainObject, lineOf, parseYaml, readYamlFile, type YamlFile } from '../config/yaml-file.ts';

export const PACKAGES_FILE = 'packages.yml';
export const DEPENDENCIES_FILE = 'dependencies.yml';
export const LOCK_FILE = 'package-lock.yml';

/** Fields every kind shares: where it was written and its entry as written (dbt's `unrendered`). */
interface SpecBase {
  /** Project-relative file (or a description such as `dbt-labs/x@1.0.0 on the hub`) for messages. */
  readonly file: string;
  readonly line?: number;
  /** Who asked for it, for conflict messages: `packages.yml` of the root, or a package name. */
  readonly requiredBy: string;
  /** The entry after rendering (env_var, var), with its keys as written. */
  readonly rendered: Readonly<Record<string, unknown>>;
  /** The entry as written, before rendering (dbt's `unrendered`). */
  readonly unrendered: Readonly<Record<string, unknown>>;
}

/** `local: path` — a directory, relative to the ROOT project (dbt resolves every local path from the root). */
export interface LocalSpec extends SpecBase {
  readonly kind: 'local';
  readonly local: string;
}

/** `git: url` with optional `revision` (tag, branch or sha), `subdirectory`, `warn-unpinned`. */
export interface GitSpec extends SpecBase {
  readonly kind: 'git';
  readonly git: string;
  /** The URL as written (may hold `{{ env_var(...) }}`): what the lock file records. */
  readonly gitUnrendered: string;
  readonly revision?: string;
  readonly subdirectory?: string;
  readonly warnUnpinned: boolean;
}

/** `package: org/name` with `version:` (a pin, a range string, or a list of them) on the dbt Hub. */
export interface HubSpec extends SpecBase {
  readonly kind: 'hub';
  readonly package: string;
  /** Version specifiers as dbt reads them (`1.0.0`, `>=1.0.0`, `<2.0.0`). */
  readonly versions: readonly string[];
  readonly installPrerelease: boolean;
}

/** `tarball: url` + `name:` — any .tar.gz holding one top-level folder with a dbt_project.yml. */
export interface TarballSpec extends SpecBase {
  readonly kind: 'tarball';
  readonly tarball: string;
  readonly tarballUnrendered: string;
  readonly name: string;
}

export type PackageSpec = LocalSpec | GitSpec | HubSpec | TarballSpec;

/** What {@link readPackageSpecs} returns. */
export interface PackagesFile {
  /** `packages.yml` or `dependencies.yml`: the file that holds (or would hold) `packages:`. */
  readonly fileName: string;
  readonly exists: boolean;
  readonly specs: readonly PackageSpec[];
}

/** What rendering can see (dbt's PackageRenderer: env vars and --vars). */
export interface SpecContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cliVars: Record<string, unknown>;
}

function bad(file: string, line: number | undefined, message: string, hint: string): TsdbtError {
  return new TsdbtError('packages-invalid', message, { file, line, hint });
}

/**
 * Reads the root project's package specs from `root`. `file` names in
 * messages are relative to `root`.
 *
 * Errors (TsdbtError `packages-invalid`, exit 2): `packages:` in both files;
 * `projects:` in packages.yml; an entry of no known kind; a hub package
 * without `version:` or without a namespace; a tarball without `name:`.
 * `private:` is `[unsupported]` (dbt Cloud's git-provider integration).
 */
export function readPackageSpecs(root: string, ctx: SpecContext): PackagesFile {
  return readSpecsFrom(root, ctx, { prefix: '', requiredBy: 'the root project' });
}

/**
 * Reads a dependency's own packages.yml / dependencies.yml (its transitive
 * dependencies). `prefix` is prepended to file names in messages.
 */
export function readSpecsFrom(dir: string, ctx: SpecContext, opts: { prefix: string; requiredBy: string }): PackagesFile {
  const pk = load(dir, PACKAGES_FILE, opts.prefix);
  const dp = load(dir, DEPENDENCIES_FILE, opts.prefix);
  const pkData = pk && isPlainObject(pk.data) ? pk.data : {};
  const dpData = dp && isPlainObject(dp.data) ? dp.data : {};
  if ('packages' in pkData && 'packages' in dpData) {
    throw bad(dp!.file, lineOf(dp!, ['packages']), "the 'packages' key cannot be specified in both packages.yml and dependencies.yml",
      'keep the packages in one of the two files (dbt reads only one)');
  }
  if ('projects' in pkData) {
    throw bad(pk!.file, lineOf(pk!, ['projects']), "the 'projects' key cannot be specified in packages.yml", 'move projects: to dependencies.yml');
  }
  const useDeps = 'packages' in dpData;
  const yf = useDeps ? dp! : pk;
  const fileName = useDeps ? DEPENDENCIES_FILE : PACKAGES_FILE;
  if (!yf) return { fileName: dp && !pk ? DEPENDENCIES_FILE : fileName, exists: false, specs: [] };
  const data = useDeps ? dpData : pkData;
  if (yf.data !== null && !isPlainObject(yf.data)) {
    throw bad(yf.file, 1, `${yf.file} must be a mapping with a packages: list`, 'write packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0');
  }
  for (const k of Object.keys(data)) {
    if (k !== 'packages' && !(useDeps && k === 'projects')) {
      throw bad(yf.file, lineOf(yf, [k]), `unknown key '${k}' in ${yf.file}`, `${fileName} holds packages:${useDeps ? ' and projects:' : ''} only`);
    }
  }
  const list = data.packages;
  if (list === undefined || list === null) return { fileName, exists: true, specs: [] };
  if (!Array.isArray(list)) throw bad(yf.file, lineOf(yf, ['packages']), 'packages: must be a list', 'write each package as a "- " item under packages:');
  const specs = list.map((entry, i) => toSpec(yf, entry, i, ctx, opts.requiredBy));
  return { fileName, exists: true, specs };
}

/**
 * Package specs from data rather than a file (a hub version's `packages`
 * list). `file` names the source in messages.
 */
export function specsFromData(list: readonly unknown[], file: string, ctx: SpecContext, requiredBy: string): PackageSpec[] {
  const yf = parseYaml(stringify({ packages: list }), file);
  return list.map((entry, i) => toSpec(yf, entry, i, ctx, requiredBy));
}

function load(dir: string, name: string, prefix: string): YamlFile | undefined {
  const abs = join(dir, name);
  return existsSync(abs) ? readYamlFile(abs, prefix + name) : undefined;
}

const KINDS = ['local', 'git', 'package', 'tarball', 'private'] as const;
const KNOWN_KEYS: Record<string, readonly string[]> = {
  local: ['local', 'name'],
  git: ['git', 'revision', 'warn-unpinned', 'subdirectory', 'name'],
  package: ['package', 'version', 'install-prerelease', 'install_prerelease', 'name'],
  tarball: ['tarball', 'name'],
};

function toSpec(yf: YamlFile, entry: unknown, i: number, ctx: SpecContext, requiredBy: string): PackageSpec {
  const line = lineOf(yf, ['packages', i]);
  const file = yf.file;
  if (!isPlainObject(entry)) {
    throw bad(file, line, `package entry ${i + 1} in ${file} is not a mapping`, 'write e.g. "- package: dbt-labs/dbt_utils" with "version: 1.3.0" under it');
  }
  const kinds = KINDS.filter((k) => k in entry);
  if (kinds.length !== 1) {
    throw bad(file, line, kinds.length
      ? `package entry ${i + 1} in ${file} has more than one source (${kinds.join(', ')})`
      : `package entry ${i + 1} in ${file} names no source: expected one of local:, git:, package:, tarball:`,
      'each entry has exactly one of local:, git:, package: (dbt Hub) or tarball:');
  }
  const kind = kinds[0];
  if (kind === 'private') {
    throw new TsdbtError('unsupported', `private: packages (dbt Cloud's git-provider integration) are not supported by tsdbt (${file}, entry ${i + 1})`, {
      file, line, hint: 'use a git: URL instead, e.g. git: "https://{{ env_var(\'DBT_ENV_SECRET_GIT_TOKEN\') }}@github.com/org/repo.git"',
    });
  }
  for (const k of Object.keys(entry)) {
    if (!KNOWN_KEYS[kind].includes(k)) {
      throw bad(file, lineOf(yf, ['packages', i, k]) ?? line, `unknown key '${k}' in the ${kind === 'package' ? 'hub' : kind} package entry ${i + 1} of ${file}`,
        `a ${kind === 'package' ? 'hub' : kind} package takes ${KNOWN_KEYS[kind].join(', ')}`);
    }
  }
  const lineFor = (path: readonly (string | number)[]) => lineOf(yf, ['packages', i, ...path]);
  // As dbt, a secret env var may be read in packages.yml (not in dependencies.yml, which dbt does not render for secrets).
  const rendered = renderDeep(entry, { env: ctx.env, cliVars: ctx.cliVars, file, fileKind: yf.file, secretsAllowed: /(^|\/)packages\.yml$/.test(yf.file) }, () => false, lineFor) as Record<string, unknown>;
  const base = { file, line, requiredBy, rendered, unrendered: entry };
  const str = (k: string, required: boolean): string | undefined => {
    const v = rendered[k];
    if (v === undefined || v === null) {
      if (required) throw bad(file, line, `the ${kind} package entry ${i + 1} in ${file} is missing ${k}:`, `add ${k}: to the entry`);
      return undefined;
    }
    if (typeof v === 'object') throw bad(file, lineFor([k]) ?? line, `${k}: in package entry ${i + 1} of ${file} must be a single value`, `write ${k}: as text`);
    const s = String(v);
    if (required && s === '') throw bad(file, lineFor([k]) ?? line, `a ${kind} package is missing the value of ${k}: (entry ${i + 1} of ${file})`, 'it is a required property; if it comes from env_var(), set the variable');
    return s;
  };
  switch (kind) {
    case 'local':
      return { ...base, kind, local: str('local', true)! };
    case 'tarball': {
      const name = str('name', false);
      if (!name) throw bad(file, line, `the tarball package entry ${i + 1} in ${file} needs name: (the package's project name)`, 'add e.g. name: dbt_utils');
      return { ...base, kind, tarball: str('tarball', true)!, tarballUnrendered: String(entry.tarball), name };
    }
    case 'git': {
      const wu = rendered['warn-unpinned'];
      return {
        ...base, kind, git: str('git', true)!, gitUnrendered: String(entry.git), revision: str('revision', false),
        subdirectory: str('subdirectory', false), warnUnpinned: wu !== false && wu !== 'false',
      };
    }
    default: {
      const pkg = str('package', true)!;
      const v = rendered.version;
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
        throw bad(file, line, `${pkg} is missing the version. When installing from the Hub package index, version is a required property`,
          'add e.g. version: [">=1.0.0", "<2.0.0"] (see the package on hub.getdbt.com)');
      }
      if (!pkg.includes('/')) {
        throw bad(file, lineFor(['package']) ?? line, `${pkg} was not found in the package index. Packages on the index require a namespace, e.g dbt-labs/dbt_utils`,
          `write the hub name with its namespace, e.g. package: dbt-labs/${pkg}`);
      }
      const ip = rendered['install-prerelease'] ?? rendered.install_prerelease;
      const versions = (Array.isArray(v) ? v : [v]).map((x) => String(x));
      return { ...base, kind: 'hub', package: pkg, versions, installPrerelease: ip === true || ip === 'true' };
    }
  }
}

/**
 * The key dbt files a package under when merging requirements
 * (`PackageListing._pick_key`): the local path, the git URL (+ `/subdirectory`),
 * the hub name, the tarball URL. {@link altKeys} lists the other spellings
 * dbt treats as the same package (a git URL with and without `.git`).
 */
export function specKey(s: PackageSpec): string {
  switch (s.kind) {
    case 'local':
      return `local:${s.local}`;
    case 'git':
      return `git:${s.subdirectory ? `${s.git}/${s.subdirectory}` : s.git}`;
    case 'hub':
      return `hub:${s.package}`;
    case 'tarball':
      return `tarball:${s.tarball}`;
  }
}

/** Every key under which dbt would find this package (`all_names()`). */
export function altKeys(s: PackageSpec): string[] {
  if (s.kind !== 'git') return [specKey(s)];
  const other = s.git.endsWith('.git') ? s.git.slice(0, -4) : `${s.git}.git`;
  return [specKey(s), `git:${s.subdirectory ? `${other}/${s.subdirectory}` : other}`];
}

/** How a spec is named in progress lines and messages: URLs as written (a rendered one may hold a DBT_ENV_SECRET_ value). */
export function describeSpec(s: PackageSpec): string {
  switch (s.kind) {
    case 'local':
      return s.local;
    case 'git':
      return s.subdirectory ? `${s.gitUnrendered} (subdirectory ${s.subdirectory})` : s.gitUnrendered;
    case 'hub':
      return s.package;
    case 'tarball':
      return s.tarballUnrendered;
  }
}
