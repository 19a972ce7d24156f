/**
 * `depends_on.macros`, as dbt's manifest records them:
 * - a macro's are the macros its body calls, found statically and resolved
 *   from its package (dbt-core parser/manifest.py `resolve_macro_depends_on`,
 *   `adapter.dispatch` calls included);
 * - a node's are the macros its SQL (and its pre/post hooks) calls. dbt
 *   records the macros called at depth 0 while rendering the node at parse;
 *   tsdbt reads the calls from the text instead, so a call under
 *   `{% if execute %}` (which dbt's parse render never reaches) counts too;
 * - a generic test's are its test macro and `get_where_subquery`, as dbt's.
 * `state:modified` (graph/state.ts) follows these lists transitively, so a
 * change in any macro a node calls, however deep, marks the node modified.
 */
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ManifestNode } from './manifest.ts';

/** Fills `depends_on.macros` of every macro in `b.macros` and every node in `b.nodes` (see the file comment). */
export function linkMacroDependencies(b: ManifestBuilder): void {
  const { jinja } = b;
  for (const [id, macro] of Object.entries(b.macros)) {
    (macro.depends_on as { macros: string[] }).macros = jinja.macroDependencies(id);
  }
  for (const node of Object.values(b.nodes)) {
    // A file read by the static parser calls only ref/source/config: no macro (dbt records none either).
    if (b.staticCalls.has(node.unique_id) && !hasHooks(node)) continue;
    (node.depends_on as { macros: string[] }).macros = nodeMacros(b, node);
  }
}

function hasHooks(node: ManifestNode): boolean {
  const cfg = node.config as Record<string, unknown>;
  return ['pre-hook', 'post-hook', 'pre_hook', 'post_hook'].some((k) => (Array.isArray(cfg[k]) ? (cfg[k] as unknown[]).length > 0 : cfg[k] !== undefined && cfg[k] !== null));
}

function nodeMacros(b: ManifestBuilder, node: ManifestNode): string[] {
  const { jinja } = b;
  const out: string[] = [];
  const add = (ids: readonly string[]) => {
    for (const id of ids) if (!out.includes(id)) out.push(id);
  };
  const meta = node.test_metadata;
  if (node.resource_type === 'test' && meta) {
    add(jinja.resolveMacroCall(meta.namespace ? `${meta.namespace}.test_${meta.name}` : `test_${meta.name}`, node.package_name));
    add(jinja.resolveMacroCall('get_where_subquery', 'dbt'));
    return out;
  }
  if (node.resource_type === 'seed') return out;
  const texts: string[] = [];
  if (typeof node.raw_code === 'string') texts.push(node.raw_code);
  const cfg = node.config as Record<string, unknown>;
  for (const key of ['pre-hook', 'post-hook', 'pre_hook', 'post_hook']) {
    const hooks = cfg[key];
    for (const h of Array.isArray(hooks) ? hooks : hooks === undefined ? [] : [hooks]) {
      const sql = typeof h === 'string' ? h : h && typeof h === 'object' ? (h as { sql?: unknown }).sql : undefined;
      if (typeof sql === 'string') texts.push(sql);
    }
  }
  for (const text of texts) {
    // Text without a call in Jinja (the static fast path's ref/source/config aside) calls no macro.
    if (!/\{[{%][\s\S]*\(/.test(text)) continue;
    let calls: readonly string[];
    try {
      calls = jinja.templateCalls(text, node.original_file_path);
    } catch {
      continue; // the render reports the syntax error
    }
    for (const c of calls) {
      if (c === 'ref' || c === 'source' || c === 'config') continue;
      add(jinja.resolveMacroCall(c, node.package_name));
    }
  }
  return out;
}
