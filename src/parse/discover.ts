/**
 * Finds a project's files the way dbt does: `.sql` models under model-paths,
 * `.csv` seeds under seed-paths, `.sql` singular tests under test-paths
 * (except `tests/generic/`, which holds generic test macros), `.sql` macros
 * under macro-paths, `.sql` snapshots, `.sql` analyses and `.md` docs.
 */
import { globSync } from 'tinyglobby';
import { existsSync } from 'node:fs';
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
  readonly docs: ProjectFile[];
}

function find(root: string, dirs: readonly string[], pattern: string, ignore: string[] = []): ProjectFile[] {
  const out: ProjectFile[] = [];
  for (const dir of dirs) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    const rels = globSync(pattern, { cwd: base, ignore, dot: false, onlyFiles: true }).sort();
    for (const rel of rels) {
      out.push({
        absPath: join(base, rel),
        originalFilePath: posix.join(dir.replace(/\\/g, '/').replace(/\/$/, ''), rel),
        path: rel,
        resourcePath: dir,
      });
    }
  }
  return out;
}

/** Lists every file tsdbt reads from `project`, sorted for determinism. */
export function discoverFiles(project: ProjectConfig): ProjectFiles {
  const root = project.root;
  return {
    models: find(root, project.modelPaths, '**/*.sql'),
    seeds: find(root, project.seedPaths, '**/*.csv'),
    singularTests: find(root, project.testPaths, '**/*.sql', ['generic/**']),
    macros: [...find(root, project.macroPaths, '**/*.sql'), ...find(root, project.testPaths, 'generic/**/*.sql')],
    snapshots: find(root, project.snapshotPaths, '**/*.sql'),
    analyses: find(root, project.analysisPaths, '**/*.sql'),
    docs: find(root, project.docsPaths.length ? project.docsPaths : [...project.modelPaths], '**/*.md'),
  };
}
