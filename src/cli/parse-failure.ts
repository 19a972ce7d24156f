/**
 * run_results.json when the project fails to parse (run, seed, test,
 * snapshot, build). dbt-core 1.11 writes nothing then (the manifest fails to
 * load in `requires.manifest`, before the task that writes run_results
 * starts), which leaves the previous invocation's file in place: `dbt retry`
 * and monitoring then read a stale, often successful, run (dbt-fusion issue
 * 1545 asks for the file to be written). tsdbt writes a run-results v6 file
 * for the failed invocation instead: one `error` result per parse error, its
 * message the error as printed, so whoever reads target/run_results.json
 * sees the failure and why.
 */
import { posix } from 'node:path';
import { CompileErrors, TsdbtError } from '../errors.ts';
import type { ProjectConfig } from '../config/types.ts';
import type { NodeResult } from '../artifacts/index.ts';

/**
 * The results recorded for a parse failure `e`: one per error (a
 * CompileErrors lists several). The unique_id is the node the error's file
 * defines when it is a `.sql` file under a resource path (`model.<project>.<name>`,
 * `snapshot.…`, `analysis.…`, `test.…`) or a `.csv` under a seed path;
 * otherwise `file.<project>.<path>` (a properties file, dbt_project.yml),
 * or `project.<project>` when the error names no file.
 */
export function parseFailureResults(project: ProjectConfig, e: TsdbtError): NodeResult[] {
  const errors = e instanceof CompileErrors ? e.errors : [e];
  const now = new Date().toISOString();
  return errors.map((x) => ({
    unique_id: uniqueIdFor(project, x.file),
    status: 'error',
    timing: [{ name: 'compile', started_at: now, completed_at: now }],
    thread_id: 'MainThread',
    execution_time: 0,
    adapter_response: {},
    message: x.format(),
    failures: null,
    compiled: false,
    compiled_code: null,
    relation_name: null,
  }));
}

function uniqueIdFor(project: ProjectConfig, file: string | undefined): string {
  if (!file) return `project.${project.name}`;
  const f = file.replace(/\\/g, '/');
  const kinds: [string, readonly string[], string][] = [
    ['model', project.modelPaths, '.sql'],
    ['snapshot', project.snapshotPaths, '.sql'],
    ['analysis', project.analysisPaths, '.sql'],
    ['test', project.testPaths, '.sql'],
    ['seed', project.seedPaths, '.csv'],
  ];
  for (const [kind, dirs, ext] of kinds) {
    if (!f.endsWith(ext)) continue;
    if (dirs.some((d) => f.startsWith(`${d.replace(/\/+$/, '')}/`))) return `${kind}.${project.name}.${posix.basename(f, ext)}`;
  }
  return `file.${project.name}.${f}`;
}
