/**
 * ExecutionPlan: what a run / seed / test / snapshot / build invocation executes, in
 * which order, and what each node waits for — a plain, readonly,
 * JSON-serialisable value, computed without a database (`tsdbt debug --plan`
 * prints it).
 *
 * As dbt's graph queue: a node waits for its nearest selected ancestors
 * (unselected nodes in between are looked through); in `build`, a test also
 * gates the children of the nodes it tests (dbt build: a failing test skips
 * what is downstream), unless that would make a cycle, and a model waits for
 * its unit tests, which wait for the model's parents (dbt build runs a model's
 * unit tests first and skips the model when one fails); ephemeral models never
 * run (they are inlined); ready nodes start upstream-first (topological rank).
 */
import type { Manifest } from '../parse/manifest.ts';
import type { Task } from './scheduler.ts';

export type RunCommand = 'run' | 'seed' | 'test' | 'snapshot' | 'build';

/** One node of the plan. */
export interface PlannedNode {
  readonly uniqueId: string;
  readonly name: string;
  readonly resourceType: string;
  /** unique_ids of planned nodes that must finish first (a failure among them skips this one). */
  readonly dependsOn: readonly string[];
  /** Start order among ready nodes: lower first (topological rank). */
  readonly priority: number;
}

/** What one invocation executes. */
export interface ExecutionPlan {
  readonly command: RunCommand;
  /** In start order (topological). */
  readonly nodes: readonly PlannedNode[];
}

/**
 * Plans the run of `selected` (unique_ids chosen by the node selection, of the
 * types `command` executes). `topologicalOrder` is every node's unique_id,
 * parents first (graph/topologicalOrder); nodes missing from it keep their order.
 * Pure: no database, no file system.
 */
export function planRun(manifest: Manifest, selection: { readonly command: RunCommand; readonly selected: readonly string[] }, topologicalOrder: readonly string[] = []): ExecutionPlan {
  const rank = new Map(topologicalOrder.map((id, i) => [id, i]));
  const ordered = selection.selected
    .filter((id) => manifest.nodes[id] && manifest.nodes[id].config.materialized !== 'ephemeral')
    .map((id, i) => ({ id, i }))
    .sort((a, b) => (rank.get(a.id) ?? a.i) - (rank.get(b.id) ?? b.i) || a.i - b.i)
    .map((x) => x.id);
  const tasks = planTasks(manifest, ordered, selection.command);
  return {
    command: selection.command,
    nodes: tasks.map((t) => {
      const n = manifest.nodes[t.id];
      return { uniqueId: t.id, name: n.name, resourceType: n.resource_type, dependsOn: [...t.deps].sort(), priority: t.priority ?? 0 };
    }),
  };
}

function planTasks(manifest: Manifest, selected: readonly string[], command: RunCommand): Task[] {
  const sel = new Set(selected);
  const nearest = new Map<string, string[]>();
  const nearestSelected = (id: string): string[] => {
    const cached = nearest.get(id);
    if (cached) return cached;
    const out = new Set<string>();
    const stack = [...(manifest.nodes[id]?.depends_on.nodes ?? [])];
    const seen = new Set<string>();
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      if (sel.has(p)) out.add(p);
      else stack.push(...(manifest.nodes[p]?.depends_on.nodes ?? []));
    }
    const list = [...out];
    nearest.set(id, list);
    return list;
  };
  const deps = new Map<string, Set<string>>();
  for (const id of selected) {
    const n = manifest.nodes[id];
    // A unit test runs when its model would (dbt runs it in the model's turn): after the model's parents, not the model.
    if (n?.resource_type === 'unit_test') deps.set(id, new Set(nearestSelected(n.depends_on.nodes[0]!)));
    else deps.set(id, new Set(nearestSelected(id)));
  }
  if (command === 'build') {
    // A test blocks the children of the nodes it tests (dbt build), unless that would make a cycle.
    const childrenOf = new Map<string, string[]>();
    for (const id of selected) for (const p of deps.get(id)!) (childrenOf.get(p) ?? childrenOf.set(p, []).get(p)!).push(id);
    for (const id of selected) {
      const t = manifest.nodes[id];
      if (t?.resource_type !== 'test') continue;
      const parents = deps.get(id)!;
      for (const p of parents) {
        for (const c of childrenOf.get(p) ?? []) {
          if (c === id || manifest.nodes[c]?.resource_type === 'test' || parents.has(c)) continue;
          if (isAncestor(c, parents, deps)) continue;
          deps.get(c)!.add(id);
        }
      }
    }
  }
  if (command === 'build') {
    // dbt build: a model's unit tests run before it; a failing one skips the model and what is downstream.
    for (const id of selected) {
      const n = manifest.nodes[id];
      if (n?.resource_type !== 'unit_test') continue;
      const model = n.depends_on.nodes[0]!;
      if (sel.has(model)) deps.get(model)!.add(id);
    }
  }
  let i = 0;
  return selected.map((id) => ({ id, deps: [...deps.get(id)!], priority: i++ }));
}

function isAncestor(candidate: string, of: Set<string>, deps: Map<string, Set<string>>): boolean {
  const stack = [...of];
  const seen = new Set<string>();
  while (stack.length) {
    const x = stack.pop()!;
    if (x === candidate) return true;
    if (seen.has(x)) continue;
    seen.add(x);
    for (const d of deps.get(x) ?? []) stack.push(d);
  }
  return false;
}

