/**
 * Installed packages (`tsdbt deps` → `<packages-install-path>/<name>/`), as
 * dbt loads them: each folder holding a dbt_project.yml is a package named by
 * that file's `name:`. Folders whose names start with `.` or `__` are
 * skipped (dbt skips them too), and so is the install path's own bookkeeping.
 *
 * This slice loads each package's macros (its macro-paths and
 * tests/generic), in package-name order, before the root project's, so the
 * root project's macros win for bare names and every package's macros are
 * reachable as `<package>.<macro>` and through `adapter.dispatch`. A
 * package's models, seeds, snapshots, analyses and singular tests are not
 * loaded yet: each package that has any gets one `[unsupported]` warning
 * naming its files (never a silent skip).
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { loadProjectConfig } from '../config/index.ts';
import type { ProjectConfig } from '../config/types.ts';
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
export function installedPackages(project: ProjectConfig, env: NodeJS.ProcessEnv = process.env): InstalledPackage[] {
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
      pkgProject = loadProjectConfig(real, { env });
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

/** The `[unsupported]` warning for a package's resources other than macros, or null when it has none. */
export function unloadedResourcesWarning(p: InstalledPackage): TsdbtError | null {
  const f = p.files;
  const kinds: [string, number][] = [
    ['models', f.models.length],
    ['seeds', f.seeds.length],
    ['snapshots', f.snapshots.length],
    ['analyses', f.analyses.length],
    ['singular tests', f.singularTests.length],
  ];
  const present = kinds.filter(([, n]) => n > 0);
  if (!present.length) return null;
  const first = [...f.models, ...f.seeds, ...f.snapshots, ...f.analyses, ...f.singularTests][0];
  return new TsdbtError(
    'unsupported',
    `[unsupported] package '${p.name}' has ${present.map(([k, n]) => `${n} ${k}`).join(', ')}; tsdbt loads only a package's macros and generic tests yet, so these are not built`,
    { file: `${p.dir}/${first.originalFilePath}`, hint: 'use the package for its macros, or build those models in your own project' },
  );
}
