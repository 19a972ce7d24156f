/**
 * `tsdbt docs generate`: parse (→ manifest.json), compile, read the database
 * catalog (→ catalog.json), and write the single-file site (→ index.html),
 * as dbt's `docs generate` does. run_results.json of the last run is read
 * (before anything is written) to show statuses and test results; unlike
 * dbt, `docs generate` does not overwrite it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAdapter } from '../adapters/index.ts';
import type { Adapter } from '../adapters/adapter.ts';
import { readRunResults, writeManifest, writeFileAtomic, type RunResults } from '../artifacts/index.ts';
import { openSession, parseSession, select, compileSession, relationState, type CommonFlags } from './pipeline.ts';
import type { CompiledNode } from '../compile/compile.ts';
import type { Console } from './console.ts';
import { TsdbtError } from '../errors.ts';
import { buildCatalog, emptyCatalog, writeCatalog } from '../docs/catalog.ts';
import { buildDocsData } from '../docs/docs-data.ts';
import { bundleDocsApp, renderIndexHtml } from '../docs/site.ts';
import { compiledColumnLineage, withColumnLineage, writeLineageJson, type NodeLineage, type ProjectLineage } from '../sql/index.ts';

export const INDEX_FILE = 'index.html';

export interface DocsGenerateOptions {
  /** false with `--no-compile`: the page shows raw SQL only. */
  readonly compile: boolean;
  /** true with `--empty-catalog`: no database access for the catalog. */
  readonly emptyCatalog: boolean;
}

/** What was written (absolute paths) and counts for the summary line. */
export interface DocsGenerateResult {
  readonly indexPath: string;
  readonly manifestPath: string;
  readonly catalogPath: string;
  readonly nodes: number;
  readonly relations: number;
  readonly bytes: number;
}

/**
 * Runs `docs generate` for the project named by `flags` (project dir,
 * profile, target, vars, select/exclude — the selection limits what is
 * compiled and catalogued; the site always shows the whole project).
 *
 * Without `--empty-catalog` the target's database must be reachable
 * (TsdbtError from createAdapter otherwise, e.g. `connection-refused`);
 * compiling alone falls back to "nothing exists yet" when it is not, as
 * `tsdbt compile` does. Compile errors are thrown as TsdbtError.
 */
export async function docsGenerate(flags: CommonFlags, out: Console, opts: DocsGenerateOptions): Promise<DocsGenerateResult> {
  const s = openSession(flags, out);
  const targetDir = join(s.project.root, s.project.targetPath);
  const runResults = readLastRunResults(targetDir, out);
  const p = parseSession(s, out);
  const manifest = p.parsed.manifest;

  let adapter: Adapter | null = null;
  try {
    if (!opts.emptyCatalog) adapter = await createAdapter(s.target);
    else if (opts.compile) adapter = await createAdapter(s.target).catch(() => null);

    const selected = select(s, p, ['model', 'test', 'analysis', 'snapshot', 'seed']);
    let compiled: Map<string, CompiledNode> | undefined;
    if (opts.compile) {
      const relations = adapter ? await relationState(adapter, p.parsed) : new Map<string, string>();
      compiled = await compileSession(s, p, selected.filter((id) => manifest.nodes[id]?.resource_type !== 'seed'), relations, { adapter, out });
    }
    // Column lineage: of the SQL compiled now; with --no-compile, the last compile's target/lineage.json.
    const lineage = compiled ? (flags.validate !== false ? await columnLineage(manifest, compiled, s.project.root, out) : null) : readLastLineage(targetDir, out);
    if (lineage && compiled) writeLineageJson(targetDir, manifest, lineage);
    const manifestPath = writeManifest(targetDir, withColumnLineage(manifest, lineage), compiled);

    const meta = { invocationId: s.invocationId, generatedAt: new Date().toISOString() };
    const narrowed = flags.select?.length || flags.exclude?.length;
    const catalog = adapter && !opts.emptyCatalog
      ? await buildCatalog(adapter, manifest, { ...meta, selected: narrowed ? new Set([...selected, ...Object.keys(manifest.sources)]) : undefined })
      : emptyCatalog(meta);
    for (const e of catalog.errors ?? []) out.warn(`catalog: ${e}`);
    const catalogPath = writeCatalog(targetDir, catalog);

    const data = buildDocsData({ manifest, graph: p.graph, catalog, catalogEmpty: opts.emptyCatalog, compiled: opts.compile, compiledCode: compiled && new Map([...compiled].map(([id, c]) => [id, c.compiledCode])), runResults, generatedAt: meta.generatedAt, columnLineage: lineage });
    const html = renderIndexHtml(data, await bundleDocsApp());
    const indexPath = join(targetDir, INDEX_FILE);
    writeFileAtomic(indexPath, html);
    return {
      indexPath,
      manifestPath,
      catalogPath,
      nodes: data.nodes.length,
      relations: Object.keys(catalog.nodes).length + Object.keys(catalog.sources).length,
      bytes: Buffer.byteLength(html),
    };
  } finally {
    await adapter?.close();
  }
}

/**
 * Column lineage of the compiled nodes for the nodes' pages (as `tsdbt compile`
 * computes it; also written to lineage.json and manifest.json). A failure to
 * analyse is a warning: the site is still written, without column lineage.
 */
async function columnLineage(manifest: Parameters<typeof compiledColumnLineage>[0], compiled: Map<string, CompiledNode>, root: string, out: Console): Promise<ProjectLineage | null> {
  try {
    return await compiledColumnLineage(manifest, compiled.values(), root);
  } catch (e) {
    out.warn(`column lineage left out of the docs: ${e instanceof TsdbtError ? e.message : String((e as Error).message)}`);
    return null;
  }
}

/**
 * target/lineage.json of the last compile / run (`lineageJson` in src/sql) as
 * a ProjectLineage, or null when there is none; a warning when it is damaged.
 * Nodes no longer in the project are dropped later (buildDocsData).
 */
function readLastLineage(targetDir: string, out: Console): ProjectLineage | null {
  const path = join(targetDir, 'lineage.json');
  if (!existsSync(path)) return null;
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { nodes?: Record<string, NodeLineage> };
    if (!json.nodes || typeof json.nodes !== 'object') throw new Error('no "nodes" object');
    const lineage = new Map<string, NodeLineage>();
    for (const [id, n] of Object.entries(json.nodes)) {
      if (n && typeof n.columns === 'object' && n.columns) lineage.set(id, { columns: n.columns, filters: n.filters ?? [], complete: n.complete !== false, notes: n.notes ?? [] });
    }
    return lineage;
  } catch (e) {
    out.warn(`ignoring ${path} (column lineage left out of the docs): ${(e as Error).message}`);
    return null;
  }
}

/** target/run_results.json when there is a readable one; a warning (not an error) when it is damaged. */
function readLastRunResults(targetDir: string, out: Console): RunResults | null {
  const path = join(targetDir, 'run_results.json');
  if (!existsSync(path)) return null;
  try {
    return readRunResults(path);
  } catch (e) {
    out.warn(`ignoring ${path}: ${e instanceof TsdbtError ? e.message : String((e as Error).message)}`);
    return null;
  }
}
