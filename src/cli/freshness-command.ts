/**
 * `tsdbt source freshness`: checks the selected sources' freshness (see
 * src/runner/freshness.ts) and writes target/sources.json in dbt's sources
 * v3 schema, as dbt's FreshnessTask:
 *  - only source tables with a freshness threshold are checked (dbt's
 *    FreshnessSelector); `--select source:raw` / `--exclude` narrow them;
 *  - on-run-start / on-run-end hooks run around the checks (FreshnessTask is a
 *    RunTask); on-run-end's `results` are the freshness results;
 *  - `--selector` is not supported here yet (an `[unsupported]` error);
 *  - exit 1 when a table is stale past error_after or could not be checked
 *    (`runtime error`), 0 otherwise (warnings included);
 *  - `-o, --output PATH` writes the JSON elsewhere.
 * Registered by src/cli/main.ts with one call to {@link registerSourceCommands}.
 */
import type { Command } from 'commander';
import { join, resolve, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Console } from './console.ts';
import type { ActionWrapper } from './docs-commands.ts';
import { common } from './flags.ts';
import { openSession, parseSession, sessionCompilerBase, sessionRunHooks, type CommonFlags, type Session, type Parsed } from './pipeline.ts';
import { selectNodesDetailed } from '../graph/index.ts';
import { createAdapter } from '../adapters/index.ts';
import { Compiler } from '../compile/compile.ts';
import { hasFreshness } from '../parse/source-freshness.ts';
import { checkFreshness, type FreshnessResult } from '../runner/freshness.ts';
import { runProjectHooks } from '../runner/run-hooks.ts';
import { writeFileAtomic, DBT_COMPAT_VERSION } from '../artifacts/index.ts';
import type { SourceDefinition } from '../parse/manifest.ts';
import { TsdbtError } from '../errors.ts';

/** dbt's sources.json schema. */
export const SOURCES_SCHEMA_VERSION = 'https://schemas.getdbt.com/dbt/sources/v3.json';

/** Adds `source freshness` to `program`. */
export function registerSourceCommands(program: Command, act: ActionWrapper, out: Console): Command {
  const source = program.command('source').description('commands on sources (freshness)');
  common(source.command('freshness').description('check how recently each source table was loaded (loaded_at_field, freshness) and write target/sources.json'), { selection: true })
    .option('-o, --output <path>', 'where to write the JSON report (default: <target-path>/sources.json)')
    .option('--output-path <path>', 'the same as --output (dbt spelling)')
    .option('--threads <n>', 'accepted for dbt compatibility; tables are checked one after another')
    .action(act((flags) => sourceFreshness(flags as CommonFlags & { output?: string; outputPath?: string }, out)));
  return source;
}

/** The source tables `source freshness` checks: selected, and with a threshold. */
export function freshnessSources(s: Session, p: Parsed): SourceDefinition[] {
  const m = p.parsed.manifest;
  let ids: string[];
  const select = s.flags.models?.length ? [...(s.flags.select ?? []), ...s.flags.models] : s.flags.select;
  if (s.flags.selector) {
    throw new TsdbtError('unsupported-flag', '[unsupported] --selector is not supported by tsdbt source freshness yet', { hint: 'use --select source:<name> (and --exclude)' });
  }
  if (select?.length || s.flags.exclude?.length) {
    ids = selectNodesDetailed(m, p.graph, { select, exclude: s.flags.exclude, resourceTypes: ['source'], includeSources: true }).selected;
  } else ids = Object.keys(m.sources);
  return ids
    .map((id) => m.sources[id])
    .filter((src): src is SourceDefinition => !!src && hasFreshness(src.freshness))
    .sort((a, b) => (a.unique_id < b.unique_id ? -1 : 1));
}

/** Runs the command; resolves to the exit code. */
export async function sourceFreshness(flags: CommonFlags & { output?: string; outputPath?: string }, out: Console): Promise<number> {
  const s = openSession(flags, out);
  const p = parseSession(s, out);
  const sources = freshnessSources(s, p);
  const outPath = flags.output ?? flags.outputPath ? resolve(String(flags.output ?? flags.outputPath)) : join(s.project.root, s.project.targetPath, 'sources.json');
  const generatedAt = new Date().toISOString();
  let results: FreshnessResult[] = [];
  let hooksFailed = false;
  if (!sources.length) {
    out.warn('Nothing to do: no selected source has a freshness threshold (freshness: warn_after / error_after).');
  } else {
    const adapter = await createAdapter(s.target);
    try {
      const hooks = sessionRunHooks(s, p);
      const compiler = new Compiler(
        {
          ...sessionCompilerBase(s, p),
          fullRefresh: false,
          relations: new Map(),
          selected: sources.map((x) => x.unique_id),
          onLog: (msg, info) => (info ? out.info(msg) : undefined),
          flags: { WHICH: 'source', FULL_REFRESH: false },
        },
        [],
      );
      const render = (h: Parameters<typeof compiler.renderRunHook>[0], x: Record<string, unknown>, conn: Parameters<typeof compiler.renderRunHook>[2]) => compiler.renderRunHook(h, x, conn);
      out.info(`Running with tsdbt on ${s.target.type} (target ${s.target.name}): ${sources.length} source${sources.length === 1 ? '' : 's'}`);
      out.info('');
      const start = await runProjectHooks({ type: 'on-run-start', hooks: hooks.start, adapter, render, reporter: out });
      results = await checkFreshness(adapter, sources, out);
      // on-run-end sees the freshness results (dbt: SourceFreshnessResult, `node` the source)
      const bySource = new Map(sources.map((x) => [x.unique_id, x]));
      const endResults = results.map((r) => ({ ...r, node: { ...bySource.get(r.unique_id), resource_type: 'source' }, message: r.error ?? null }));
      const end = await runProjectHooks({ type: 'on-run-end', hooks: hooks.end, adapter, render, reporter: out, extra: { results: endResults, schemas: [], database_schemas: [] } });
      hooksFailed = [...start, ...end].some((r) => r.status === 'error');
    } finally {
      await adapter.close();
    }
  }
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileAtomic(
    outPath,
    JSON.stringify(
      {
        metadata: { dbt_schema_version: SOURCES_SCHEMA_VERSION, dbt_version: DBT_COMPAT_VERSION, generated_at: generatedAt, invocation_id: s.invocationId, env: {} },
        results: results.map((r) => (r.status === 'runtime error' ? { unique_id: r.unique_id, error: r.error, status: r.status } : r)),
        elapsed_time: (performance.now() - s.startedAt) / 1000,
      },
      null,
      2,
    ),
  );
  const count = (st: string) => results.filter((r) => r.status === st).length;
  out.info('');
  out.info(`Done. PASS=${count('pass')} WARN=${count('warn')} ERROR=${count('error') + count('runtime error')} TOTAL=${results.length}`);
  out.info(`Wrote ${outPath}`);
  return hooksFailed || results.some((r) => r.status === 'error' || r.status === 'runtime error') ? 1 : 0;
}
