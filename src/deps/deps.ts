/**
 * `tsdbt deps`: dbt-core's `DepsTask.run` (core/dbt/task/deps.py).
 *
 * 1. `--add-package` edits packages.yml first.
 * 2. package-lock.yml is (re)written when it is missing, when `--upgrade` is
 *    given, or when its `sha1_hash` differs from the hash of the current specs
 *    (packages.yml changed). Otherwise it is the source of truth.
 * 3. `--lock` stops here. Else every package the lock pins is installed into
 *    packages-install-path; packages already installed from the same lock
 *    entry are kept as they are (no network call).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { loadProjectConfig } from '../config/index.ts';
import { DBT_COMPAT_VERSION } from '../artifacts/run-results.ts';
import { addPackage, type AddSource } from './add-package.ts';
import { HubClient } from './hub.ts';
import { installPackages, type DepsOutput, type InstallSummary } from './install.ts';
import { readLockFile, renderLockEntries, writeLockFile } from './lock-file.ts';
import { packagesSha1 } from './lock-hash.ts';
import { FetchCache } from './package-source.ts';
import { LOCK_FILE, readPackageSpecs } from './package-spec.ts';
import { resolvePackages, type LockEntry } from './resolve.ts';

/** Options for {@link runDeps}; the CLI flags of `tsdbt deps`. */
export interface DepsOptions {
  readonly projectDir: string;
  /** `--vars`, visible to `var()` in packages.yml. */
  readonly cliVars?: Record<string, unknown>;
  /** Environment (env_var(), DBT_PACKAGE_HUB_URL, DBT_VERSION_CHECK); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** `--upgrade`: resolve again even when the lock matches packages.yml. */
  readonly upgrade?: boolean;
  /** `--lock`: write package-lock.yml, install nothing. */
  readonly lockOnly?: boolean;
  /** `--add-package name@version`. */
  readonly addPackage?: string;
  /** `--source` for --add-package (default hub). */
  readonly source?: AddSource;
}

/** What {@link runDeps} did, for tests and the summary line. */
export interface DepsResult {
  /** True when package-lock.yml was (re)written. */
  readonly locked: boolean;
  readonly lockEntries: readonly LockEntry[];
  readonly install?: InstallSummary;
}

/**
 * Runs `tsdbt deps` in `opts.projectDir`, printing progress to `out`.
 * Needs dbt_project.yml but no profile (as dbt). Errors: TsdbtError (see
 * resolvePackages, installPackages, readPackageSpecs); network and git
 * failures are `kind: 'runtime'` (exit 1), spec problems exit 2.
 */
export async function runDeps(opts: DepsOptions, out: DepsOutput): Promise<DepsResult> {
  const env = opts.env ?? process.env;
  const cliVars = opts.cliVars ?? {};
  const project = loadProjectConfig(resolve(opts.projectDir), { vars: cliVars, env });
  const root = project.root;
  const ctx = { env, cliVars };

  if (opts.addPackage) {
    const added = addPackage(root, opts.addPackage, opts.source ?? 'hub');
    if (added.created) out.info(`Created ${added.fileName}`);
    for (const r of added.removed) out.info(`Removed ${r} from ${added.fileName}: --add-package replaces it`);
    out.info(`Added ${opts.addPackage} to ${added.fileName}`);
  }

  const specsFile = readPackageSpecs(root, ctx);
  const hash = packagesSha1(specsFile.specs);
  const installDir = resolve(root, project.packagesInstallPath ?? 'dbt_packages');
  // dbt empties packages-install-path wherever it points; tsdbt removes what the lock does not list, so it
  // refuses a path outside the project (an absolute path or ../) rather than delete someone's folder.
  if (!installDir.startsWith(root + sep)) {
    throw new TsdbtError('project-invalid', `packages-install-path '${project.packagesInstallPath}' must be a folder inside the project: tsdbt deps removes from it every folder package-lock.yml does not list`, {
      file: 'dbt_project.yml', hint: 'use the default dbt_packages, or another sub-folder of the project',
    });
  }

  const scratch = mkdtempSync(join(tmpdir(), 'tsdbt-deps-'));
  const hub = new HubClient(env, (t) => out.warn(t));
  const cache = new FetchCache(scratch, hub, ctx);
  try {
    let lock = readLockFile(root);
    let locked = false;
    if (!lock || opts.upgrade || lock.sha1Hash !== hash) {
      if (!specsFile.specs.length) {
        out.info(`No packages were found in ${specsFile.fileName}`);
        // A lock left from packages that were all removed would keep asking for them: empty it.
        if (lock?.packages.length) writeLockFile(root, [], hash);
        lock = { packages: [], sha1Hash: hash };
      } else {
        const why = !lock ? 'no package-lock.yml yet' : opts.upgrade ? '--upgrade' : `${specsFile.fileName} changed since the lock was written`;
        out.info(`Resolving ${specsFile.specs.length} package(s) from ${specsFile.fileName} (${why})`);
        const versionCheck = !/^(0|false|no)$/i.test(env.DBT_VERSION_CHECK ?? '');
        const pins = await resolvePackages(specsFile.specs, {
          root, rootName: project.name, cache, dbtVersion: DBT_COMPAT_VERSION, versionCheck, warn: (t) => out.warn(t),
        });
        const entries = pins.map((p) => p.lockEntry);
        const path = writeLockFile(root, entries, hash);
        out.info(`Updating lock file in file path: ${path}`);
        lock = { packages: entries, sha1Hash: hash };
        locked = true;
      }
    }
    if (opts.lockOnly) return { locked, lockEntries: lock.packages };
    const rendered = renderLockEntries(lock.packages, ctx);
    const install = await installPackages(rendered, lock.packages, { root, installDir, cache, out });
    const rel = installDir.startsWith(root + sep) ? installDir.slice(root.length + 1) : installDir;
    if (!lock.packages.length) {
      out.info(`No packages to install (${LOCK_FILE} lists none)`);
    } else if (!install.installed.length) {
      out.info(`All ${install.upToDate.length} package(s) in ${rel}/ match ${LOCK_FILE}: nothing to install`);
    } else {
      out.info(`Installed ${install.installed.length} package(s) into ${rel}/${install.upToDate.length ? ` (${install.upToDate.length} already up to date)` : ''}`);
    }
    return { locked, lockEntries: lock.packages, install };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
