/**
 * Topological helpers the runner uses, wrapping graphology-dag with a
 * readable error on cycles.
 */
import { DirectedGraph } from 'graphology';
import { topologicalGenerations as dagGenerations, topologicalSort } from 'graphology-dag';
import { TsdbtError } from '../errors.ts';
import type { LineageGraph } from './build-graph.ts';
import { findCycle } from './cycle.ts';

function cycleFailure(graph: LineageGraph): TsdbtError {
  const cycle = findCycle(graph) ?? [];
  return new TsdbtError('cycle', `Found a cycle: ${[...cycle, cycle[0]].join(' → ')}`, {
    hint: 'remove one of the refs along this path so that no node depends on itself',
  });
}

/**
 * The nodes of `graph` in generations: generation 0 has no parents, every
 * node of generation k depends only on nodes of generations < k. Each
 * generation can run in parallel once the previous ones are done.
 * Throws TsdbtError `cycle` (naming the unique_ids) if the graph has a cycle;
 * call `assertAcyclic` first for a message with names and files.
 */
export function topologicalGenerations(graph: LineageGraph): string[][] {
  if (graph.selfLoopCount > 0) throw cycleFailure(graph);
  try {
    return dagGenerations(graph);
  } catch (e) {
    if (e instanceof Error && /acyclic/.test(e.message)) throw cycleFailure(graph);
    throw e;
  }
}

/** Every node of `graph`, each after all of its parents. Throws TsdbtError `cycle` like {@link topologicalGenerations}. */
export function topologicalOrder(graph: LineageGraph): string[] {
  if (graph.selfLoopCount > 0) throw cycleFailure(graph);
  try {
    return topologicalSort(graph);
  } catch (e) {
    if (e instanceof Error && /acyclic/.test(e.message)) throw cycleFailure(graph);
    throw e;
  }
}

/**
 * The graph restricted to `keep`, with ordering preserved through removed
 * nodes: if a → b → c and b is not kept, the result has a → c. This is
 * dbt's `Graph.get_subset_graph`, which the runner uses so that selected
 * nodes still wait for selected ancestors even when the nodes between them
 * were not selected. Ids in `keep` that are not in `graph` are ignored.
 * Requires an acyclic graph (throws TsdbtError `cycle` otherwise).
 */
export function subsetGraph(graph: LineageGraph, keep: Iterable<string>): LineageGraph {
  const kept = new Set<string>();
  for (const id of keep) if (graph.hasNode(id)) kept.add(id);
  const out = new DirectedGraph();
  for (const id of kept) out.addNode(id);
  if (kept.size === 0) return out;
  // For each removed node, the set of nearest kept ancestors (memoised in topological order).
  const viaRemoved = new Map<string, Set<string>>();
  for (const id of topologicalOrder(graph)) {
    const nearest = new Set<string>();
    graph.forEachInNeighbor(id, (parent) => {
      if (kept.has(parent)) nearest.add(parent);
      else {
        const through = viaRemoved.get(parent);
        if (through) for (const a of through) nearest.add(a);
      }
    });
    if (kept.has(id)) {
      for (const parent of nearest) out.mergeEdge(parent, id);
    } else if (nearest.size > 0) {
      viaRemoved.set(id, nearest);
    }
  }
  return out;
}
