/**
 * The check every command that reads the project makes before parsing, as
 * dbt's `RuntimeConfig.load_dependencies` (UninstalledPackagesFoundError):
 * the packages named in package-lock.yml (or, without a lock, as many packages
 * as packages.yml lists) must be folders in packages-install-path.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { readLockFile } from './lock-file.ts';
import { readPackageSpecs, describeSpec } from './package-spec.ts';

/** The package folders in `installDir` (directories and links to them; names starting with `__` or `.` skipped, as dbt). */
export function installedPackageNames(installDir: string): Set<string> {
  const out = new Set<string>();
  if (!existsSync(installDir)) return out;
  for (const n of readdirSync(installDir)) {
    if (n.startsWith('__') || n.startsWith('.')) continue;
    try {
      if (statSync(join(installDir, n)).isDirectory()) out.add(n);
    } catch {
      /* a dangling link: not installed */
    }
  }
  return out;
}

/**
 * Throws TsdbtError `packages-not-installed` (exit 2) naming the missing
 * packages and saying to run `tsdbt deps`, when packages are specified but not
 * installed. `root` is the project directory; `installPath` its
 * packages-install-path. Does nothing for a project without packages. Reads
 * only files (packages.yml is not rendered beyond what reading it needs).
 */
export function checkPackagesInstalled(root: string, installPath: string, env: NodeJS.ProcessEnv = process.env, cliVars: Record<string, unknown> = {}): void {
  const rootAbs = resolve(root);
  const lock = readLockFile(rootAbs);
  // With a lock, packages.yml is not read (so an env_var() only deps needs, e.g. a git token, need not be set).
  const useLock = !!lock?.packages.length;
  const file = useLock ? undefined : readPackageSpecs(rootAbs, { env, cliVars });
  const installed = installedPackageNames(resolve(rootAbs, installPath));
  const specified = useLock ? lock!.packages.length : file!.specs.length;
  if (specified === 0) return;
  const named = useLock ? lock!.packages.map((p) => p.name).filter((n): n is string => !!n) : [];
  const missing = named.filter((n) => !installed.has(n));
  if (installed.size === specified && missing.length === 0) return;
  const list = missing.length ? missing : file ? file.specs.map(describeSpec) : [];
  const extra = useLock ? [...installed].filter((n) => !named.includes(n)) : [];
  const source = file ? file.fileName : 'package-lock.yml';
  throw new TsdbtError(
    'packages-not-installed',
    `the project expects ${specified} package(s) based on ${source}, but found ${installed.size} installed in ${installPath}/` +
      (list.length ? `. Not installed: ${list.join(', ')}` : '') + (extra.length ? `. Installed but not in package-lock.yml: ${extra.join(', ')}` : ''),
    { file: source, hint: 'run tsdbt deps to install package dependencies' },
  );
}
