/**
 * Installing what package-lock.yml pins into packages-install-path, as dbt's
 * `DepsTask.run` does (local packages are symlinked, falling back to a copy;
 * git, hub and tarball packages are copied in under their project name).
 *
 * Unlike dbt, which empties the install path and downloads everything on every
 * run, tsdbt records what it installed in `<install-path>/.tsdbt-installed.json`
 * and skips a package whose lock entry is unchanged and whose folder is there:
 * when the lock matches what is installed, `tsdbt deps` makes no network call.
 * Folders that the lock does not list are removed (dbt removes them too).
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { readPackageMetadata, type FetchCache } from './package-source.ts';
import type { LockEntry } from './resolve.ts';
import { installable } from './versions.ts';

/** The install record kept in the install path. */
export const INSTALLED_FILE = '.tsdbt-installed.json';

/** What {@link installPackages} did. */
export interface InstallSummary {
  readonly installed: string[];
  readonly upToDate: string[];
  readonly removed: string[];
}

/** Progress output (the CLI's Console). */
export interface DepsOutput {
  info(text: string): void;
  warn(text: string): void;
}

interface InstalledRecord {
  readonly packages: Record<string, string>;
}

/**
 * Lock files written by dbt 1.7.0–1.7.2 have no `name:`; as dbt
 * (`get_project_name`), the name is then read from the package itself.
 */
async function withName(e: LockEntry, root: string, cache: FetchCache, asWritten: LockEntry): Promise<LockEntry> {
  if (e.name) return e;
  let dir: string | undefined;
  if (e.local !== undefined) dir = resolve(root, e.local);
  else if (e.git !== undefined) dir = (await cache.git(e.git, e.revision, e.subdirectory, asWritten.git)).dir;
  else if (e.package !== undefined) return { ...e, name: (await cache.hubVersion(e.package, e.version)).name };
  if (!dir) return e;
  return { ...e, name: readPackageMetadata(dir, e.local ?? asWritten.git ?? '', cache.ctx).name };
}

/** The identity of a lock entry: its fields, sorted. */
function entryId(e: LockEntry): string {
  return JSON.stringify(Object.keys(e).sort().map((k) => [k, e[k]]));
}

function readRecord(installDir: string): InstalledRecord {
  try {
    const r = JSON.parse(readFileSync(join(installDir, INSTALLED_FILE), 'utf8')) as InstalledRecord;
    return r && typeof r.packages === 'object' ? r : { packages: {} };
  } catch {
    return { packages: {} };
  }
}

function removePath(p: string): void {
  try {
    const st = lstatSync(p);
    if (st.isSymbolicLink() || !st.isDirectory()) rmSync(p, { force: true });
    else rmSync(p, { recursive: true, force: true });
  } catch {
    /* not there */
  }
}

function copyPackage(from: string, to: string): void {
  removePath(to);
  cpSync(from, to, { recursive: true, filter: (src) => basename(src) !== '.git' });
}

/**
 * Installs `entries` (rendered lock entries, each with `name`) into
 * `installDir`. `root` is the root project (local paths are relative to it).
 * `unrendered` are the same entries as written in the lock, used as the
 * install record's keys so no secret is stored. Errors: the fetch errors, and
 * `lock-invalid` for a lock entry without a usable name or of no known kind.
 */
export async function installPackages(
  entries: readonly LockEntry[],
  unrendered: readonly LockEntry[],
  opts: { root: string; installDir: string; cache: FetchCache; out: DepsOutput },
): Promise<InstallSummary> {
  const { installDir, cache, out } = opts;
  const record = readRecord(installDir);
  const nameById = new Map(Object.entries(record.packages).map(([n, id]) => [id, n]));
  entries = await Promise.all(entries.map((e, i) => {
    const known = nameById.get(entryId(unrendered[i]));
    return !e.name && known && existsSync(join(installDir, known)) ? { ...e, name: known } : withName(e, opts.root, cache, unrendered[i]);
  }));
  mkdirSync(installDir, { recursive: true });
  const next: Record<string, string> = {};
  const summary: InstallSummary = { installed: [], upToDate: [], removed: [] };
  const names = new Set(entries.map((e) => e.name));

  for (const n of readdirSync(installDir)) {
    if (n === INSTALLED_FILE || names.has(n)) continue;
    removePath(join(installDir, n));
    summary.removed.push(n);
  }

  const updates: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const name = e.name;
    if (!name || name.includes('/') || name.includes(sep) || name.startsWith('.')) {
      throw new TsdbtError('lock-invalid', `an entry of package-lock.yml has no usable name: ${JSON.stringify(unrendered[i])}`, {
        file: 'package-lock.yml', hint: 'delete package-lock.yml and run tsdbt deps to write it again',
      });
    }
    const dest = join(installDir, name);
    const id = entryId(unrendered[i]);
    if (e.local === undefined && record.packages[name] === id && existsSync(dest)) {
      next[name] = id;
      summary.upToDate.push(name);
      continue;
    }
    if (e.local !== undefined) {
      out.info(`Installing ${e.local}`);
      const src = resolve(opts.root, e.local);
      removePath(dest);
      try {
        symlinkSync(src, dest, 'dir');
      } catch {
        cpSync(src, dest, { recursive: true });
      }
      out.info(`  Installed from <local @ ${e.local}>`);
    } else if (e.git !== undefined) {
      // The URL as written in the lock: the rendered one may hold a DBT_ENV_SECRET_ value.
      const shown = unrendered[i].git ?? e.git;
      out.info(`Installing ${shown}${e.subdirectory ? ` (subdirectory ${e.subdirectory})` : ''}`);
      const f = await cache.git(e.git, e.revision, e.subdirectory, shown);
      copyPackage(f.dir, dest);
      out.info(`  Installed from revision ${e.revision ?? 'HEAD'}`);
    } else if (e.package !== undefined) {
      out.info(`Installing ${e.package}`);
      const hv = await cache.hubVersion(e.package, e.version);
      const f = await cache.tarball(hv.tarball, `${e.package}@${e.version}`);
      copyPackage(f.dir, dest);
      out.info(`  Installed from version ${e.version}`);
      const latest = installable(Object.keys(await cache.hub.versions(e.package)), false).at(-1);
      if (latest && latest !== e.version) {
        out.info(`  Updated version available: ${latest}`);
        updates.push(e.package);
      } else out.info('  Up to date!');
    } else if (e.tarball !== undefined) {
      out.info(`Installing ${name}`);
      const shown = unrendered[i].tarball ?? e.tarball;
      const f = await cache.tarball(e.tarball, `package ${name}`, shown);
      copyPackage(f.dir, dest);
      out.info(`  Installed from tarball (url: ${shown})`);
    } else {
      throw new TsdbtError('lock-invalid', `package-lock.yml entry ${name} has none of package:, git:, local:, tarball:`, {
        file: 'package-lock.yml', hint: 'delete package-lock.yml and run tsdbt deps to write it again',
      });
    }
    next[name] = id;
    summary.installed.push(name);
  }
  writeFileSync(join(installDir, INSTALLED_FILE), JSON.stringify({ packages: next }, null, 2) + '\n');
  if (updates.length) out.info(`\nUpdates available for packages: ${updates.join(', ')}\nUpdate your versions in packages.yml, then run tsdbt deps`);
  return summary;
}
