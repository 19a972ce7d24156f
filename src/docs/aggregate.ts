/**
 * The readable overview of a big project: nodes grouped by folder (sources by
 * source name, other packages under one box each), a group drawn as one box
 * with its node count until it is expanded, and a small layered layout of
 * whatever is shown (groups and the nodes of expanded groups). Pure, no DOM:
 * the page (src/docs/app) calls it in the browser, the tests in Node.
 */

/** What grouping needs to know of a node. */
export interface GroupableNode {
  readonly name: string;
  readonly path: string;
  readonly packageName: string;
  readonly resourceType: string;
  readonly sourceName?: string;
  /** Column of the node in the whole project's layout (its DAG depth). */
  readonly depth: number;
}

/** A folder (or package, or source) of the overview. Keys are `/`-joined segments; `''` is the root. */
export interface FolderGroup {
  readonly key: string;
  readonly kind: 'folder' | 'package';
  /** Short caption: the last two segments (`staging/stripe`) or `package dbt_utils`. */
  readonly label: string;
  readonly parent: string;
  /** Child folders' keys, sorted. */
  readonly children: string[];
  /** Indexes of the nodes directly in this folder. */
  readonly members: number[];
  /** Nodes in this folder and below. */
  total: number;
}

/** Every folder of the project, and each node's own folder. */
export interface FolderTree {
  readonly groups: ReadonlyMap<string, FolderGroup>;
  /** Top-level keys (children of the root), sorted. */
  readonly roots: readonly string[];
  /** Per node index, the key of the folder it sits in directly. */
  readonly nodeFolder: readonly string[];
}

/**
 * The folder segments of a node: the directory of its file for the root
 * project (`models/staging/stripe`), `sources/<source_name>` for sources,
 * `exposures` for exposures, `semantic layer` for semantic models, metrics and saved queries, and `package:<name>/…` for nodes of other packages.
 */
export function folderSegments(n: GroupableNode, project: string): string[] {
  let segs: string[];
  if (n.resourceType === 'source') segs = ['sources', n.sourceName ?? n.name.split('.')[0]!];
  else if (n.resourceType === 'exposure') segs = ['exposures'];
  else if (n.resourceType === 'semantic_model' || n.resourceType === 'metric' || n.resourceType === 'saved_query') segs = ['semantic layer'];
  else {
    const dir = n.path.includes('/') ? n.path.slice(0, n.path.lastIndexOf('/')) : '';
    segs = dir ? dir.split('/') : ['(root)'];
  }
  return n.packageName && n.packageName !== project ? [`package:${n.packageName}`, ...segs] : segs;
}

function labelOf(segs: readonly string[]): string {
  const pkg = segs[0]!.startsWith('package:') ? segs[0]!.slice('package:'.length) : null;
  if (pkg !== null && segs.length === 1) return `package ${pkg}`;
  if (pkg !== null) return `${pkg}: ${segs.slice(1).slice(-2).join('/')}`;
  return segs.slice(-2).join('/');
}

/** Groups `nodes` into a folder tree. O(nodes · depth of folders). */
export function buildFolderTree(nodes: readonly GroupableNode[], project: string): FolderTree {
  const groups = new Map<string, FolderGroup>();
  const ensure = (segs: string[]): FolderGroup => {
    const key = segs.join('/');
    let g = groups.get(key);
    if (g) return g;
    const parent = segs.slice(0, -1);
    g = { key, kind: segs.length === 1 && segs[0]!.startsWith('package:') ? 'package' : 'folder', label: labelOf(segs), parent: parent.join('/'), children: [], members: [], total: 0 };
    groups.set(key, g);
    if (parent.length) ensure(parent).children.push(key);
    return g;
  };
  const nodeFolder = nodes.map((n, i) => {
    const g = ensure(folderSegments(n, project));
    g.members.push(i);
    for (let k: string | undefined = g.key; k !== undefined && k !== ''; k = groups.get(k)!.parent || undefined) groups.get(k)!.total++;
    return g.key;
  });
  for (const g of groups.values()) g.children.sort();
  const roots = [...groups.values()].filter((g) => g.parent === '').map((g) => g.key).sort();
  return { groups, roots, nodeFolder };
}

/** Every folder key: expanding all of them shows every node. */
export function allFolders(tree: FolderTree): Set<string> {
  return new Set(tree.groups.keys());
}

/**
 * The folders to open on the first view: greedily the biggest shown folder
 * whose contents still fit, until about `budget` boxes and nodes are shown
 * (a folder with a single subfolder and nothing else opens for free). A
 * 2,000-model project opens on a few dozen boxes; a small one (≤ budget nodes)
 * opens fully.
 */
export function initialExpansion(tree: FolderTree, budget = 36): Set<string> {
  const expanded = new Set<string>();
  let shown = tree.roots.length;
  const collapsed = new Set(tree.roots);
  for (;;) {
    let best: FolderGroup | undefined;
    for (const k of collapsed) {
      const g = tree.groups.get(k)!;
      // A package stays one box until it is clicked.
      if (g.kind === 'package') continue;
      const cost = g.children.length + g.members.length - 1;
      if (cost <= 0) {
        best = g;
        break;
      }
      if (shown + cost <= budget && (!best || g.total > best.total)) best = g;
    }
    if (!best) return expanded;
    expanded.add(best.key);
    collapsed.delete(best.key);
    shown += best.children.length + best.members.length - 1;
    for (const c of best.children) collapsed.add(c);
  }
}

/** The folder chain from the top level down to `key` (inclusive). */
export function folderChain(tree: FolderTree, key: string): string[] {
  const chain: string[] = [];
  for (let k = key; k; k = tree.groups.get(k)!.parent) chain.unshift(k);
  return chain;
}

/**
 * What stands for node `i` when `expanded` folders are open: the outermost
 * closed folder on its chain (`g:<key>`), or the node itself (`n:<i>`).
 */
export function itemOf(tree: FolderTree, expanded: ReadonlySet<string>, i: number): string {
  for (const k of folderChain(tree, tree.nodeFolder[i]!)) if (!expanded.has(k)) return `g:${k}`;
  return `n:${i}`;
}

/** The items shown and the edges between them, with how many node edges each stands for. */
export interface OverviewItems {
  /** Per node index, its item. */
  readonly itemOfNode: readonly string[];
  /** Items, each once, in first-seen order. */
  readonly items: readonly string[];
  /** `[from, to, count]`, no self loops. */
  readonly edges: readonly (readonly [string, string, number])[];
}

/** Maps every node to its item and aggregates `edges` (`[parent, child]` node indexes) between items. */
export function overviewItems(tree: FolderTree, expanded: ReadonlySet<string>, edges: readonly (readonly [number, number])[]): OverviewItems {
  const itemOfNode = tree.nodeFolder.map((_, i) => itemOf(tree, expanded, i));
  const items = [...new Set(itemOfNode)];
  const counts = new Map<string, number>();
  for (const [a, b] of edges) {
    const x = itemOfNode[a]!;
    const y = itemOfNode[b]!;
    if (x === y) continue;
    const k = `${x}\u0000${y}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const out: [string, string, number][] = [];
  for (const [k, c] of counts) {
    const [x, y] = k.split('\u0000') as [string, string];
    out.push([x, y, c]);
  }
  return { itemOfNode, items, edges: out };
}

/** Where an item sits, in graph units; `rank` is its column. */
export interface ItemPoint {
  readonly x: number;
  readonly y: number;
  readonly rank: number;
}

/**
 * A layered layout of items (left → right): rank = longest path from an item
 * without parents, after removing the edges that close a cycle (two folders
 * can depend on each other through different nodes), then barycentre
 * ordering inside each column. `sortKey` gives the initial order (folders of a
 * path together). Returns positions centred on y = 0, with the spacing used.
 * Cost O((items + edges) · sweeps).
 */
export function layoutItems(
  items: readonly string[],
  edges: readonly (readonly [string, string, number])[],
  opts: { sortKey: (id: string) => string; spacing: (columns: number, tallest: number) => { columnWidth: number; rowHeight: number }; sweeps?: number },
): { points: Map<string, ItemPoint>; columnWidth: number; rowHeight: number; columns: number } {
  const out = new Map<string, string[]>(items.map((id) => [id, []]));
  for (const [a, b] of edges) if (out.has(a) && out.has(b)) out.get(a)!.push(b);
  // Depth-first search marks back edges (those closing a cycle); the reverse post-order of the rest is topological.
  const order = [...items].sort((a, b) => cmp(opts.sortKey(a), opts.sortKey(b)));
  const state = new Map<string, 1 | 2>();
  const back = new Set<string>();
  const post: string[] = [];
  for (const start of order) {
    if (state.has(start)) continue;
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const next = out.get(top[0])!;
      if (top[1] < next.length) {
        const c = next[top[1]++]!;
        const s = state.get(c);
        if (s === 1) back.add(`${top[0]}\u0000${c}`);
        else if (s === undefined) {
          state.set(c, 1);
          stack.push([c, 0]);
        }
      } else {
        state.set(top[0], 2);
        post.push(top[0]);
        stack.pop();
      }
    }
  }
  const parents = new Map<string, string[]>(items.map((id) => [id, []]));
  for (const [a, kids] of out) for (const b of kids) if (!back.has(`${a}\u0000${b}`)) parents.get(b)!.push(a);
  const rank = new Map<string, number>();
  for (let k = post.length - 1; k >= 0; k--) {
    const id = post[k]!;
    let r = 0;
    for (const p of parents.get(id)!) r = Math.max(r, rank.get(p)! + 1);
    rank.set(id, r);
  }
  const columns: string[][] = [];
  for (const id of order) (columns[rank.get(id)!] ??= []).push(id);
  for (let d = 0; d < columns.length; d++) columns[d] ??= [];
  const { columnWidth, rowHeight } = opts.spacing(columns.length, Math.max(1, ...columns.map((c) => c.length)));
  const y = new Map<string, number>();
  const place = (ids: string[]) => ids.forEach((id, i) => y.set(id, ((ids.length - 1) / 2 - i) * rowHeight));
  columns.forEach(place);
  const children = new Map<string, string[]>(items.map((id) => [id, []]));
  for (const [b, ps] of parents) for (const a of ps) children.get(a)!.push(b);
  const reorder = (ids: string[], side: Map<string, string[]>) => {
    const bary = new Map<string, number>();
    for (const id of ids) {
      const ns = side.get(id)!;
      bary.set(id, ns.length ? ns.reduce((s, n) => s + y.get(n)!, 0) / ns.length : y.get(id)!);
    }
    ids.sort((a, b) => bary.get(b)! - bary.get(a)!);
    place(ids);
  };
  for (let s = 0; s < (opts.sweeps ?? 4); s++) {
    for (let d = 1; d < columns.length; d++) reorder(columns[d]!, parents);
    for (let d = columns.length - 2; d >= 0; d--) reorder(columns[d]!, children);
  }
  const points = new Map<string, ItemPoint>();
  for (const id of items) points.set(id, { x: rank.get(id)! * columnWidth, y: y.get(id)!, rank: rank.get(id)! });
  return { points, columnWidth, rowHeight, columns: columns.length };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
