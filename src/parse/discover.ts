/**
 * Finds a project's files the way dbt does: `.sql` models under model-paths,
 * `.csv` seeds under seed-paths, `.sql` singular tests under test-paths
 * (except `tests/generic/`, which holds generic test macros), `.sql` macros
 * under macro-paths, `.sql` snapshots, `.sql` analyses and `.md` docs.
 *
 * One recursive `readdir` per directory (no glob matching): names starting
 * with `.` are skipped, as dbt's file search and shell globs do; symbolic
 * links are followed (a link loop is visited once).
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, posix } from 'node:path';
import type { ProjectConfig } from '../config/types.ts';

/** A file of the project. Paths use `/`. */
export interface ProjectFile {
  /** Absolute path on disk. */
  readonly absPath: string;
  /** Path relative to the project root, e.g. `models/staging/stg_a.sql`. */
  readonly originalFilePath: string;
  /** Path relative to its resource path, e.g. `staging/stg_a.sql`. */
  readonly path: string;
  /** The resource path it was found under, e.g. `models`. */
  readonly resourcePath: string;
}

export interface ProjectFiles {
  readonly models: ProjectFile[];
  readonly seeds: ProjectFile[];
  readonly singularTests: ProjectFile[];
  readonly macros: ProjectFile[];
  readonly snapshots: ProjectFile[];
  readonly analyses: ProjectFile[];
  /** `.py` files under model-paths: dbt Python models, which tsdbt (and dbt-postgres) cannot run. */
  readonly pythonModels: ProjectFile[];
  readonly docs: ProjectFile[];
}

/**
 * Files under `base` (relative paths with `/`, sorted) whose names end in
 * `ext`; `skipTop` names a top-level folder to leave out, `only` the one
 * top-level folder to look in.
 */
function walk(base: string, ext: string, skipTop: readonly string[] | null, only: string | null): string[] {
  const out: string[] = [];
  const linked = new Set<string>(); // real paths of directories entered through a symbolic link
  const visit = (abs: string, rel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const name = e.name;
      if (name.charCodeAt(0) === 46 /* . */) continue;
      if (!rel && ((skipTop !== null && skipTop.includes(name)) || (only !== null && name !== only))) continue;
      const childAbs = `${abs}/${name}`;
      const childRel = rel ? `${rel}/${name}` : name;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const st = statSync(childAbs);
          isDir = st.isDirectory();
          isFile = st.isFile();
          if (isDir) {
            const real = realpathSync(childAbs);
            if (linked.has(real)) continue; // a link loop
            linked.add(real);
          }
        } catch {
          continue; // a dangling link
        }
      }
      if (isDir) visit(childAbs, childRel);
      else if (isFile && rel !== '' && name.endsWith(ext) && name.length > ext.length) out.push(childRel);
      else if (isFile && rel === '' && only === null && name.endsWith(ext) && name.length > ext.length) out.push(childRel);
    }
  };
  visit(base, '');
  return out.sort();
}

function find(root: string, dirs: readonly string[], ext: string, opts: { skipTop?: readonly string[]; only?: string } = {}): ProjectFile[] {
  const out: ProjectFile[] = [];
  for (const dir of dirs) {
    const base = join(root, dir);
    const prefix = posix.normalize(dir.replace(/\\/g, '/').replace(/\/$/, ''));
    for (const rel of walk(base, ext, opts.skipTop ?? null, opts.only ?? null)) {
      out.push({ absPath: `${base}/${rel}`, originalFilePath: prefix === '.' ? rel : `${prefix}/${rel}`, path: rel, resourcePath: dir });
    }
  }
  return out;
}

/** Lists every file tsdbt reads from `project`, sorted for determinism (by path within each resource path). */
export function discoverFiles(project: ProjectConfig): ProjectFiles {
  const root = project.root;
  return {
    models: find(root, project.modelPaths, '.sql'),
    seeds: find(root, project.seedPaths, '.csv'),
    // As dbt: tests/generic holds generic test macros and tests/fixtures unit test fixtures, not singular tests.
    singularTests: find(root, project.testPaths, '.sql', { skipTop: ['generic', 'fixtures'] }),
    macros: [...find(root, project.macroPaths, '.sql'), ...find(root, project.testPaths, '.sql', { only: 'generic' })],
    snapshots: find(root, project.snapshotPaths, '.sql'),
    analyses: find(root, project.analysisPaths, '.sql'),
    pythonModels: find(root, project.modelPaths, '.py'),
    docs: find(root, project.docsPaths.length ? project.docsPaths : [...project.modelPaths], '.md'),
  };
}
