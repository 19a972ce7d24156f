/**
 * The lineage graph: every node and source of a Manifest as a graphology
 * DirectedGraph, edges pointing parent → child (dbt's Linker graph).
 */
import { DirectedGraph } from 'graphology';
import type { Manifest } from '../parse/manifest.ts';

/**
 * A DAG keyed by unique_id. Nodes and edges carry no attributes: look the
 * node up in the Manifest by its key. Edge `a → b` means "b depends on a".
 */
export type LineageGraph = DirectedGraph;

/**
 * Builds the lineage graph of a Manifest: one graph node per entry of
 * `manifest.nodes` (models, seeds, tests, snapshots, analyses) and
 * `manifest.sources` and `manifest.unit_tests`, and one edge per `depends_on.nodes` entry, from the
 * parent to the dependent node. Duplicate dependencies collapse into one
 * edge; a dependency on a unique_id that is in neither map (which parsing
 * should already have reported) is ignored. A self-reference becomes a
 * self-loop, which {@link findCycle} reports as a cycle.
 *
 * Mirrors dbt's `Linker.link_graph`. Does not check for cycles: call
 * `assertAcyclic` before running.
 *
 * Cost: ~O(nodes + edges); no attributes are copied.
 */
export function buildGraph(manifest: Manifest): LineageGraph {
  const graph = new DirectedGraph({ allowSelfLoops: true });
  const nodes = manifest.nodes;
  const sources = manifest.sources;
  for (const id in sources) graph.addNode(id);
  for (const id in nodes) graph.addNode(id);
  for (const id in nodes) {
    const parents = nodes[id]!.depends_on.nodes;
    for (let i = 0; i < parents.length; i++) {
      const parent = parents[i]!;
      if (!graph.hasNode(parent)) continue;
      graph.mergeEdge(parent, id);
    }
  }
  // Unit tests are children of the model they test (dbt's Linker links manifest.unit_tests too).
  const unitTests = manifest.unit_tests ?? {};
  for (const id in unitTests) {
    graph.addNode(id);
    for (const parent of unitTests[id]!.depends_on.nodes) if (graph.hasNode(parent)) graph.mergeEdge(parent, id);
  }
  // Exposures (dbt's Linker adds them too): leaves fed by what they depend on, so `+exposure:x` selects its parents.
  const exposures = manifest.exposures ?? {};
  for (const id in exposures) {
    graph.addNode(id);
    for (const parent of exposures[id]!.depends_on.nodes) if (graph.hasNode(parent)) graph.mergeEdge(parent, id);
  }
  // Semantic models, metrics, saved queries (dbt's Linker adds them too), in dependency order: listed by `ls`, never run.
  for (const map of [manifest.semantic_models, manifest.metrics, manifest.saved_queries]) {
    for (const id in map ?? {}) graph.addNode(id);
  }
  for (const map of [manifest.semantic_models, manifest.metrics, manifest.saved_queries]) {
    for (const id in map ?? {}) for (const parent of map![id]!.depends_on.nodes) if (graph.hasNode(parent)) graph.mergeEdge(parent, id);
  }
  return graph;
}
