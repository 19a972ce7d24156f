/**
 * Evaluates a selectors.yml definition (src/config/selectors.ts) as dbt's
 * selector spec: a CLI-style string (`"tag:nightly +orders"`), a method dict
 * (`{method: tag, value: nightly, parents: true, children_depth: 2,
 * childrens_parents: true, indirect_selection: cautious}`), its key-value
 * short form (`{tag: nightly}`), `union: [...]` / `intersection: [...]` whose
 * `exclude: [...]` items are subtracted, and `method: selector` naming another
 * selector. Each leaf is evaluated by {@link selectNodesDetailed} (tests of
 * selected nodes included by indirect selection); the sets are combined.
 */
import { TsdbtError } from '../errors.ts';
import type { Manifest } from '../parse/manifest.ts';
import type { LineageGraph } from './build-graph.ts';
import { selectNodesDetailed, type IndirectSelection, type SelectOptions, type SelectionWarning } from './select.ts';

/** What evaluating a definition needs besides the graph. */
export interface SelectorContext {
  /** Every named selector's definition (for `method: selector`). */
  readonly definitions: ReadonlyMap<string, { readonly definition: unknown; readonly line?: number }>;
  /** Options passed to each leaf (state, indirect selection …). */
  readonly options: Pick<SelectOptions, 'state' | 'stateResults' | 'indirectSelection'>;
  readonly file: string;
}

const OPERATOR_KEYS = new Set(['method', 'value', 'children', 'parents', 'children_depth', 'parents_depth', 'childrens_parents', 'indirect_selection', 'description']);

/**
 * The unique_ids (manifest nodes) selector `name` selects, and the warnings of leaves that matched nothing.
 * @throws TsdbtError `selector-not-found` (with the names defined), `selectors-invalid` for a malformed definition.
 */
export function evaluateSelector(name: string, manifest: Manifest, graph: LineageGraph, ctx: SelectorContext): { selected: string[]; warnings: SelectionWarning[] } {
  const warnings: SelectionWarning[] = [];
  const stack: string[] = [];
  const byName = (n: string): Set<string> => {
    const d = ctx.definitions.get(n);
    if (!d) {
      const known = [...ctx.definitions.keys()];
      throw new TsdbtError('selector-not-found', `could not find a selector named '${n}'${known.length ? `; selectors.yml defines: ${known.join(', ')}` : ' (there is no selectors.yml)'}`, {
        kind: 'project',
        hint: 'define it under `selectors:` in selectors.yml, or use --select',
      });
    }
    if (stack.includes(n)) throw new TsdbtError('selectors-invalid', `selector '${n}' refers to itself (${[...stack, n].join(' → ')})`, { file: ctx.file, kind: 'project' });
    stack.push(n);
    try {
      return evaluate(d.definition);
    } catch (e) {
      // A bad leaf (e.g. an unknown method) is reported at the selector's entry in selectors.yml.
      if (e instanceof TsdbtError && !e.file) {
        throw new TsdbtError(e.code, `selector '${n}': ${e.message}`, { file: ctx.file, line: d.line, kind: e.kind, hint: e.hint, cause: e });
      }
      throw e;
    } finally {
      stack.pop();
    }
  };
  const leaf = (text: string, mode?: IndirectSelection): Set<string> => {
    const r = selectNodesDetailed(manifest, graph, { ...ctx.options, select: [text], indirectSelection: mode ?? ctx.options.indirectSelection });
    warnings.push(...r.warnings);
    return new Set(r.selected);
  };
  const bad = (what: unknown): never => {
    throw new TsdbtError('selectors-invalid', `selector ${stack.length ? `'${stack.at(-1)}' ` : ''}has a definition tsdbt cannot read: ${JSON.stringify(what)}`, {
      file: ctx.file,
      kind: 'project',
      hint: 'use a string ("tag:nightly"), {method: tag, value: nightly}, or {union: [...]} / {intersection: [...]} (with {exclude: [...]} items)',
    });
  };
  const combine = (items: unknown, op: 'union' | 'intersection'): Set<string> => {
    if (!Array.isArray(items)) return bad(items);
    const excludes: Set<string>[] = [];
    const sets: Set<string>[] = [];
    for (const item of items) {
      if (item && typeof item === 'object' && !Array.isArray(item) && 'exclude' in item) excludes.push(combine((item as { exclude: unknown }).exclude, 'union'));
      else sets.push(evaluate(item));
    }
    let acc: Set<string>;
    if (op === 'union') acc = new Set(sets.flatMap((s) => [...s]));
    else acc = sets.length ? sets.reduce((a, b) => new Set([...a].filter((x) => b.has(x)))) : new Set();
    for (const ex of excludes) for (const id of ex) acc.delete(id);
    return acc;
  };
  const evaluate = (d: unknown): Set<string> => {
    if (typeof d === 'string') return leaf(d);
    if (!d || typeof d !== 'object' || Array.isArray(d)) return bad(d);
    const o = d as Record<string, unknown>;
    if ('union' in o) return combine(o.union, 'union');
    if ('intersection' in o) return combine(o.intersection, 'intersection');
    if ('exclude' in o) return bad(d); // exclude only inside union / intersection (dbt)
    let method: string;
    let value: unknown;
    if ('method' in o) {
      method = String(o.method);
      value = o.value;
    } else {
      const keys = Object.keys(o).filter((k) => !OPERATOR_KEYS.has(k));
      if (keys.length !== 1) return bad(d);
      method = keys[0];
      value = o[method];
    }
    if (value === undefined || value === null) return bad(d);
    if (method === 'selector') return byName(String(value));
    const parents = o.parents === true ? `${o.parents_depth ?? ''}+` : '';
    const children = o.children === true ? `+${o.children_depth ?? ''}` : '';
    const at = o.childrens_parents === true ? '@' : '';
    const text = `${at}${parents}${method}:${String(value)}${children}`;
    const mode = typeof o.indirect_selection === 'string' ? (o.indirect_selection as IndirectSelection) : undefined;
    return leaf(text, mode);
  };
  const selected = [...byName(name)].filter((id) => manifest.nodes[id]).sort();
  return { selected, warnings };
}
