/**
 * Cycle detection with a readable report. graphology-dag only says "given
 * graph is not acyclic"; dbt names the nodes ("Found a cycle: a --> b --> a").
 */
import { TsdbtError } from '../errors.ts';
import type { Manifest } from '../parse/manifest.ts';
import type { LineageGraph } from './build-graph.ts';

const WHITE = 0;
const GREY = 1;
const BLACK = 2;

/**
 * Finds one cycle in `graph`, or returns null when the graph is a DAG.
 *
 * The result lists the unique_ids along the cycle in edge order, without
 * repeating the first one: `['a', 'b']` means a → b → a; a self-reference
 * gives `['a']`. Iterative depth-first search (no recursion, so 10k-node
 * chains cannot overflow the stack); O(nodes + edges). Nodes are visited in
 * graph insertion order, so the result is deterministic for a given graph.
 */
export function findCycle(graph: LineageGraph): string[] | null {
  const color = new Map<string, number>();
  // The DFS path: node ids and, for each, its out-neighbours and the next index to visit.
  const pathNodes: string[] = [];
  const pathNext: string[][] = [];
  const pathIdx: number[] = [];
  const pathPos = new Map<string, number>();

  for (const start of graph.nodes()) {
    if ((color.get(start) ?? WHITE) !== WHITE) continue;
    color.set(start, GREY);
    pathNodes.push(start);
    pathNext.push(graph.outNeighbors(start));
    pathIdx.push(0);
    pathPos.set(start, 0);
    while (pathNodes.length > 0) {
      const top = pathNodes.length - 1;
      const neighbours = pathNext[top]!;
      const i = pathIdx[top]!;
      if (i >= neighbours.length) {
        const done = pathNodes.pop()!;
        pathNext.pop();
        pathIdx.pop();
        pathPos.delete(done);
        color.set(done, BLACK);
        continue;
      }
      pathIdx[top] = i + 1;
      const next = neighbours[i]!;
      const c = color.get(next) ?? WHITE;
      if (c === GREY) {
        return pathNodes.slice(pathPos.get(next)!);
      }
      if (c === WHITE) {
        color.set(next, GREY);
        pathPos.set(next, pathNodes.length);
        pathNodes.push(next);
        pathNext.push(graph.outNeighbors(next));
        pathIdx.push(0);
      }
    }
  }
  return null;
}

/** A short display name for a unique_id: the node name, or `source_name.table` for sources. */
export function displayName(manifest: Manifest, uniqueId: string): string {
  const node = manifest.nodes[uniqueId];
  if (node) return node.name;
  const source = manifest.sources[uniqueId];
  if (source) return `${source.source_name}.${source.name}`;
  return uniqueId;
}

function fileOf(manifest: Manifest, uniqueId: string): string {
  return manifest.nodes[uniqueId]?.original_file_path ?? manifest.sources[uniqueId]?.original_file_path ?? '';
}

/**
 * Throws a TsdbtError (code `cycle`, kind `project`) when `graph` has a
 * cycle. The message prints the path by name and then each node with its
 * file, e.g.
 *
 * ```
 * Found a cycle: stg_a → int_b → stg_a
 *   stg_a  models/staging/stg_a.sql
 *   int_b  models/intermediate/int_b.sql
 * ```
 *
 * `file`/`line` point at the first node's ref that closes the cycle (when known);
 * the hint says to remove one of the refs. Files are listed for the first 30
 * nodes of a longer cycle. Mirrors dbt's "Found a cycle"
 * compilation error, which dbt raises before running anything.
 */
export function assertAcyclic(manifest: Manifest, graph: LineageGraph): void {
  const cycle = findCycle(graph);
  if (!cycle) return;
  throw cycleError(manifest, cycle);
}

/** Builds the `cycle` error for a cycle returned by {@link findCycle}. */
export function cycleError(manifest: Manifest, cycle: readonly string[]): TsdbtError {
  const names = cycle.map((id) => displayName(manifest, id));
  const width = Math.max(...names.map((n) => n.length));
  const MAX_LINES = 30;
  const lines = cycle.slice(0, MAX_LINES).map((id, i) => `  ${names[i]!.padEnd(width)}  ${fileOf(manifest, id)}`.trimEnd());
  if (cycle.length > MAX_LINES) lines.push(`  … and ${cycle.length - MAX_LINES} more`);
  const message = `Found a cycle: ${[...names, names[0]].join(' → ')}\n${lines.join('\n')}`;

  // The edge closing the cycle runs last → first: the first node refs the last one.
  const refererId = cycle[0]!;
  const targetId = cycle[cycle.length - 1]!;
  const referer = manifest.nodes[refererId];
  const target = manifest.nodes[targetId];
  const targetSource = manifest.sources[targetId];
  let call = '';
  if (target) call = `ref('${target.name}')`;
  else if (targetSource) call = `source('${targetSource.source_name}', '${targetSource.name}')`;
  const refLine = target ? referer?.refs?.find((r) => r.name === target.name)?.line : undefined;
  const hint = call
    ? `remove one of the refs along this path so that no node depends on itself, e.g. ${call} in ${names[0]}` +
      (referer ? ` (${referer.original_file_path}${refLine ? `:${refLine}` : ''})` : '')
    : 'remove one of the refs along this path so that no node depends on itself';
  return new TsdbtError('cycle', message, {
    file: referer?.original_file_path,
    line: refLine,
    hint,
    kind: 'project',
  });
}
