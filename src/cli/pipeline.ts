/**
 * The glue every command shares: flags → Project → Manifest → Graph →
 * selection → CompiledGraph → RunResults, and the artifacts written on the
 * way (manifest.json, run_results.json), as dbt's tasks do.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ProjectConfig, TargetConfig } from '../config/types.ts';
import { loadProjectConfig, loadProfile, parseVars } from '../config/index.ts';
import { parseProject, type ParseResult } from '../parse/parse-project.ts';
import { buildGraph, assertAcyclic, selectNodes, type LineageGraph } from '../graph/index.ts';
import { compileNodes, type CompiledNode, type RelationState } from '../compile/compile.ts';
import { createAdapter } from '../adapters/index.ts';
import type { Adapter } from '../adapters/adapter.ts';
import { writeManifest, writeRunResults, buildParentChildMaps, type NodeResult } from '../artifacts/index.ts';
import { executePlan, COMMAND_RESOURCE_TYPES, type RunCommand } from '../runner/run.ts';
import type { Console } from './console.ts';
import { TsdbtError } from '../errors.ts';
import { registerSecret } from '../secrets.ts';

/** Flags common to every command (dbt's global and sub-command flags). */
export interface CommonFlags {
  projectDir?: string;
  profilesDir?: string;
  target?: string;
  vars?: string;
  select?: string[];
  exclude?: string[];
  threads?: string | number;
  fullRefresh?: boolean;
  failFast?: boolean;
  warnError?: boolean;
  debug?: boolean;
  resourceType?: string[];
  state?: string;
  defer?: boolean;
}

/** A loaded project with its target: the start of every command. */
export interface Session {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly startedAt: number;
  readonly flags: CommonFlags;
}

/** Reads dbt_project.yml and the profile. Prints the embedded-database notice when no profile was found. */
export function openSession(flags: CommonFlags, out: Console): Session {
  const projectDir = resolve(flags.projectDir ?? process.cwd());
  const cliVars = flags.vars ? parseVars(flags.vars) : {};
  const project = loadProjectConfig(projectDir, { vars: cliVars });
  const { target: loaded, notice, warnings } = loadProfile(project, { profilesDir: flags.profilesDir, target: flags.target });
  if (notice) out.info(notice);
  for (const w of warnings ?? []) out.warn(String(w));
  let target = loaded;
  if (target.password) registerSecret(target.password);
  if (flags.threads !== undefined) {
    const n = Number(flags.threads);
    if (!Number.isInteger(n) || n < 1) throw new TsdbtError('bad-flag', `--threads must be a positive whole number, got '${flags.threads}'`, { hint: 'e.g. --threads 4' });
    target = { ...target, threads: n };
  }
  return { project, target, cliVars, invocationId: randomUUID(), startedAt: performance.now(), flags };
}

export interface Parsed {
  readonly parsed: ParseResult;
  readonly graph: LineageGraph;
}

/** Parses and links the project; writes target/manifest.json. */
export function parseSession(s: Session, out: Console): Parsed {
  const parsed = parseProject({ project: s.project, target: s.target, cliVars: s.cliVars, invocationId: s.invocationId });
  for (const w of parsed.warnings) out.warn(w.format());
  const graph = buildGraph(parsed.manifest);
  assertAcyclic(parsed.manifest, graph);
  buildParentChildMaps(parsed.manifest);
  parsed.manifest.metadata.adapter_type = s.target.type === 'pglite' ? 'postgres' : s.target.type;
  writeManifest(join(s.project.root, s.project.targetPath), parsed.manifest);
  return { parsed, graph };
}

/** Selected unique_ids for `resourceTypes`, in topological order. */
export function select(s: Session, p: Parsed, resourceTypes: readonly string[]): string[] {
  const flagTypes = s.flags.resourceType?.length ? s.flags.resourceType : null;
  const types = flagTypes ? resourceTypes.filter((t) => flagTypes.includes(t)) : resourceTypes;
  const result = selectNodes(p.parsed.manifest, p.graph, {
    select: s.flags.select,
    exclude: s.flags.exclude,
    resourceTypes: [...types],
  });
  return Array.isArray(result) ? result : (result as { selected: string[] }).selected;
}

/** Every relation that exists in the schemas the manifest uses (for is_incremental()). */
export async function relationState(adapter: Adapter, parsed: ParseResult): Promise<RelationState> {
  const schemas = new Set<string>();
  for (const n of Object.values(parsed.manifest.nodes)) if (n.relation_name) schemas.add(n.schema);
  const state = new Map<string, string>();
  for (const schema of schemas) {
    for (const r of await adapter.listRelations(schema)) state.set(`${r.schema}.${r.identifier}`, r.kind);
  }
  return state;
}

/** Compiles `ids` and writes each to target/compiled/…. */
export function compileSession(s: Session, p: Parsed, ids: readonly string[], relations: RelationState): Map<string, CompiledNode> {
  const compiled = compileNodes(
    {
      project: s.project,
      parsed: p.parsed,
      target: s.target,
      cliVars: s.cliVars,
      invocationId: s.invocationId,
      fullRefresh: !!s.flags.fullRefresh,
      relations,
    },
    ids,
  );
  for (const c of compiled.values()) {
    const path = join(s.project.root, c.compiledPath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, c.compiledCode);
    const node = p.parsed.manifest.nodes[c.uniqueId];
    node.compiled_code = c.compiledCode;
    node.compiled_path = c.compiledPath;
  }
  return compiled;
}

/** Writes run_results.json (always, including failed runs). */
export function writeResults(s: Session, results: readonly NodeResult[], command: string): void {
  writeRunResults(join(s.project.root, s.project.targetPath), results, {
    args: { which: command, ...s.flags, vars: s.cliVars },
    elapsedTime: (performance.now() - s.startedAt) / 1000,
    invocationId: s.invocationId,
    generatedAt: new Date().toISOString(),
  });
}

/** run / seed / test / build: the whole pipeline. Returns the exit code. */
export async function runCommand(command: RunCommand, flags: CommonFlags, out: Console, signal?: AbortSignal): Promise<number> {
  const s = openSession(flags, out);
  const p = parseSession(s, out);
  const types = COMMAND_RESOURCE_TYPES[command];
  const selected = select(s, p, types).filter((id) => p.parsed.manifest.nodes[id]?.config.materialized !== 'ephemeral');
  if (!selected.length) {
    out.warn('Nothing to do: the selection matched no nodes.');
    writeResults(s, [], command);
    return 0;
  }
  const adapter = await createAdapter(s.target);
  try {
    const relations = await relationState(adapter, p.parsed);
    // Compile everything first: every compile error is reported before any statement runs.
    const compiled = compileSession(s, p, selected, relations);
    writeManifest(join(s.project.root, s.project.targetPath), p.parsed.manifest);
    const counts = countTypes(p.parsed.manifest.nodes, selected);
    out.info(`Running with tsdbt on ${s.target.type} (target ${s.target.name}): ${counts}`);
    out.info('');
    const results = await executePlan({
      command,
      project: s.project,
      manifest: p.parsed.manifest,
      compiled,
      adapter,
      selected,
      threads: s.target.threads,
      fullRefresh: !!flags.fullRefresh,
      failFast: !!flags.failFast,
      warnError: !!flags.warnError,
      targetSchema: s.target.schema,
      reporter: out,
      signal,
    });
    writeResults(s, results, command);
    out.summary(results, (performance.now() - s.startedAt) / 1000);
    return results.some((r) => r.status === 'error' || r.status === 'fail') ? 1 : 0;
  } finally {
    await adapter.close();
  }
}

function countTypes(nodes: Record<string, { resource_type: string }>, ids: readonly string[]): string {
  const m = new Map<string, number>();
  for (const id of ids) {
    const t = nodes[id].resource_type;
    m.set(t, (m.get(t) ?? 0) + 1);
  }
  return [...m].map(([t, n]) => `${n} ${t}${n === 1 ? '' : 's'}`).join(', ');
}
