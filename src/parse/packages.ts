/**
 * Installed packages (`tsdbt deps` → `<packages-install-path>/<name>/`), as
 * dbt loads them: each folder holding a dbt_project.yml is a package named by
 * that file's `name:`. Folders whose names start with `.` or `__` are
 * skipped (dbt skips them too), and so is the install path's own bookkeeping.
 *
 * A package's macros are loaded before the root project's (macros.ts); its
 * models, analyses, seeds, sources, singular and generic tests and docs blocks
 * are parsed like the root project's, with its name as `package_name`
 * (parse-project.ts). Its snapshots are not loaded yet: a package that has any
 * gets one `[unsupported]` warning naming them (never a silent skip).
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { loadProjectConfig } from '../config/index.ts';
import type { ProjectConfig, TargetConfig } from '../config/types.ts';
import { discoverFiles, type ProjectFiles } from './discover.ts';

/** One installed package. */
export interface InstalledPackage {
  /** The package's `name:` (its package_name in the manifest). */
  readonly name: string;
  /** Its folder relative to the root project, e.g. `dbt_packages/dbt_utils` (for messages). */
  readonly dir: string;
  readonly project: ProjectConfig;
  readonly files: ProjectFiles;
}

/**
 * The packages installed for `project`, sorted by name; empty when the
 * install path does not exist.
 * @throws TsdbtError `package-invalid` when a package's dbt_project.yml cannot be read.
 */
export function installedPackages(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv = process.env,
  opts: { readonly vars?: Record<string, unknown>; readonly target?: TargetConfig } = {},
): InstalledPackage[] {
  const base = join(project.root, project.packagesInstallPath ?? 'dbt_packages');
  if (!existsSync(base)) return [];
  const out: InstalledPackage[] = [];
  const seen = new Set<string>();
  for (const entry of readdirSync(base).sort()) {
    if (entry.startsWith('.') || entry.startsWith('__')) continue;
    const dir = join(base, entry);
    let real: string;
    try {
      if (!statSync(dir).isDirectory()) continue;
      real = realpathSync(dir);
    } catch {
      continue;
    }
    if (!existsSync(join(real, 'dbt_project.yml'))) continue;
    let pkgProject: ProjectConfig;
    try {
      // As dbt: a package's dbt_project.yml is rendered with --vars and the target too.
      pkgProject = loadProjectConfig(real, { env, vars: opts.vars, target: opts.target });
    } catch (e) {
      const rel = relative(project.root, dir);
      throw new TsdbtError('package-invalid', `the installed package in ${rel} cannot be read: ${e instanceof Error ? e.message : String(e)}`, {
        file: `${rel}/dbt_project.yml`,
        hint: 'run tsdbt deps again to reinstall it',
      });
    }
    if (pkgProject.name === project.name || seen.has(pkgProject.name)) continue;
    seen.add(pkgProject.name);
    out.push({ name: pkgProject.name, dir: relative(project.root, dir), project: pkgProject, files: discoverFiles(pkgProject) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

