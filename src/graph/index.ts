/**
 * The Graph stage: Manifest → lineage DAG, cycle check, node selection.
 * Pure: no database, no file system.
 */
export { buildGraph, type LineageGraph } from './build-graph.ts';
export { findCycle, assertAcyclic, cycleError, displayName } from './cycle.ts';
export { topologicalGenerations, topologicalOrder, subsetGraph } from './topo.ts';
export {
  parseSelector,
  parseCriterion,
  SELECTOR_METHODS,
  RESOURCE_TYPES,
  type SelectorCriterion,
  type SelectorIntersection,
  type SelectorUnion,
  type SelectorMethodName,
} from './selector-parse.ts';
export {
  selectNodes,
  selectNodesDetailed,
  evaluateSelection,
  fqnMatches,
  type SelectOptions,
  type SelectionResult,
  type SelectionWarning,
  type IndirectSelection,
  type PreviousResult,
} from './select.ts';
export { StateComparison, stableStringify, type ModifiedAspect } from './state.ts';
