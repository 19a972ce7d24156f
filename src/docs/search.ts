/**
 * The docs page's search (pure, no DOM; the page bundles it): nodes by name,
 * tag, path, column name and description; dbt's graph operators in the box
 * (`+model+`, `2+model+1`); and where a column name is used. Case-insensitive.
 */

/** What search reads of a node. */
export interface SearchableNode {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly tags: readonly string[];
  readonly description: string;
  readonly columns: readonly { readonly name: string; readonly description: string }[];
}

/** Lower-cased text per node, built once. */
export interface SearchIndex {
  readonly rows: readonly {
    readonly name: string;
    readonly id: string;
    readonly path: string;
    readonly tags: readonly string[];
    readonly description: string;
    readonly columns: readonly { readonly name: string; readonly description: string }[];
  }[];
}

/** One match: node index, rank (lower first) and why it matched (null for a name match). */
export interface SearchHit {
  readonly i: number;
  readonly rank: number;
  /** `column user_id`, `column user_id: …description…`, `description`, `tag x`, `path`; null when the name matched. */
  readonly why: string | null;
}

/** Builds the index (O(total text)). */
export function buildSearchIndex(nodes: readonly SearchableNode[]): SearchIndex {
  return {
    rows: nodes.map((n) => ({
      name: n.name.toLowerCase(),
      id: n.id.toLowerCase(),
      path: n.path.toLowerCase(),
      tags: n.tags.map((t) => t.toLowerCase()),
      description: n.description.toLowerCase(),
      columns: n.columns.map((c) => ({ name: c.name.toLowerCase(), description: c.description.toLowerCase() })),
    })),
  };
}

/**
 * Nodes matching `q`, best first, then by name:
 * - `tag:x` (exact; `tag:x*` prefix), `path:x` (contains), `name:x` (contains),
 *   `column:x` / `col:x` (a column named x; `x*` prefix), `description:x` / `desc:x` (node or column description contains);
 * - plain text: name equal (0), name prefix (1), name contains (2), a tag equal (3),
 *   a column named so (4), a column name containing it (5), path or unique_id contains (6),
 *   the node's description contains it (7), a column's description contains it (8).
 * `nameOf(i)` orders equal ranks.
 */
export function searchNodes(index: SearchIndex, q: string, nameOf: (i: number) => string): SearchHit[] {
  const query = q.trim().toLowerCase();
  if (!query) return [];
  const m = /^(tag|path|name|column|col|description|desc):(.*)$/.exec(query);
  const out: SearchHit[] = [];
  const op = m?.[1];
  const v = (m?.[2] ?? '').trim();
  const wild = v.endsWith('*');
  const stem = wild ? v.slice(0, -1) : v;
  index.rows.forEach((x, i) => {
    let rank = -1;
    let why: string | null = null;
    if (op) {
      if (!v) return;
      if (op === 'tag') {
        const t = x.tags.find((t) => t === v || (wild && t.startsWith(stem)));
        if (t !== undefined) (rank = 0), (why = `tag ${t}`);
      } else if (op === 'path') {
        if (x.path.includes(v)) (rank = 0), (why = 'path');
      } else if (op === 'name') {
        if (x.name.includes(v)) rank = x.name === v ? 0 : 1;
      } else if (op === 'column' || op === 'col') {
        const c = x.columns.find((c) => c.name === v || (wild && c.name.startsWith(stem)));
        if (c) (rank = 0), (why = `column ${c.name}`);
      } else {
        if (x.description.includes(v)) (rank = 0), (why = 'description');
        else {
          const c = x.columns.find((c) => c.description.includes(v));
          if (c) (rank = 1), (why = `column ${c.name}: description`);
        }
      }
    } else if (x.name === query) rank = 0;
    else if (x.name.startsWith(query)) rank = 1;
    else if (x.name.includes(query)) rank = 2;
    else if (x.tags.includes(query)) (rank = 3), (why = `tag ${query}`);
    else {
      const exact = x.columns.find((c) => c.name === query);
      if (exact) (rank = 4), (why = `column ${exact.name}`);
      else {
        const part = x.columns.find((c) => c.name.includes(query));
        if (part) (rank = 5), (why = `column ${part.name}`);
        else if (x.path.includes(query) || x.id.includes(query)) (rank = 6), (why = 'path');
        else if (x.description.includes(query)) (rank = 7), (why = 'description');
        else {
          const c = x.columns.find((c) => c.description.includes(query));
          if (c) (rank = 8), (why = `column ${c.name}: description`);
        }
      }
    }
    if (rank >= 0) out.push({ i, rank, why });
  });
  const names = new Map(out.map((h) => [h.i, nameOf(h.i)] as const));
  out.sort((a, b) => a.rank - b.rank || cmp(names.get(a.i)!, names.get(b.i)!));
  return out;
}

/** A dbt graph selector typed in the search box: `+model+`, `2+model+1`, `model+`, `+model`. Depths: Infinity = all. */
export interface LineageSelector {
  readonly name: string;
  readonly up: number;
  readonly down: number;
}

/**
 * Parses dbt's graph operators (dbt docs: "graph operators"): a leading `+`
 * selects ancestors, a trailing `+` descendants, a number before / after the
 * plus limits the depth (`2+model+1`). Null when `q` has no operator (plain
 * search) or is not of that form.
 */
export function parseLineageSelector(q: string): LineageSelector | null {
  const m = /^\s*(?:(\d*)(\+))?([^\s+]+?)(?:(\+)(\d*))?\s*$/.exec(q);
  if (!m || (!m[2] && !m[4])) return null;
  const depth = (plus: string | undefined, digits: string | undefined) => (!plus ? 0 : digits ? Number(digits) : Infinity);
  return { name: m[3]!, up: depth(m[2], m[1]), down: depth(m[4], m[5]) };
}

/** Resolves a selector's name: exact name (case-insensitive), else unique_id, else a name ending with `.name` (sources). */
export function resolveName(index: SearchIndex, name: string): number | undefined {
  const v = name.toLowerCase();
  let k = index.rows.findIndex((x) => x.name === v);
  if (k < 0) k = index.rows.findIndex((x) => x.id === v);
  if (k < 0) k = index.rows.findIndex((x) => x.name.endsWith(`.${v}`));
  return k < 0 ? undefined : k;
}

/** Where a column name is used: each node with a column of that name (case-insensitive) and the column's index in it. */
export function columnUsage(nodes: readonly { readonly columns: readonly { readonly name: string }[] }[], column: string): { node: number; column: number }[] {
  const v = column.toLowerCase();
  const out: { node: number; column: number }[] = [];
  nodes.forEach((n, i) => {
    const c = n.columns.findIndex((c) => c.name.toLowerCase() === v);
    if (c >= 0) out.push({ node: i, column: c });
  });
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
