/**
 * `state:` selection: compares the current Manifest with a previous one
 * (`--state path/to/target`), as dbt's `StateSelectorMethod` does.
 */
import type { Manifest, ManifestNode, SourceDefinition } from '../parse/manifest.ts';

/** Which kinds of change `state:modified.<sub>` looks at; `state:modified` is all of them. */
export type ModifiedAspect = 'body' | 'configs' | 'relation' | 'persisted_descriptions' | 'macros' | 'contract';

/** JSON with object keys sorted, so equal values give equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

const RELATION_KEYS = ['database', 'schema', 'alias'] as const;

/**
 * The resolved config (hooks, tags, materialization, …). dbt compares
 * unrendered configs so that values rendered from `target` do not count as
 * changes; tsdbt's `unrendered_config` holds only the file's `config()` call,
 * so the resolved config is compared instead (a config that renders
 * differently per target shows as modified).
 */
function comparableConfig(node: ManifestNode): Record<string, unknown> {
  return (node.config ?? {}) as Record<string, unknown>;
}

function relationOf(node: ManifestNode): string {
  const cfg = comparableConfig(node);
  return stableStringify(RELATION_KEYS.map((k) => cfg[k] ?? null));
}

function configsWithoutRelation(node: ManifestNode): string {
  const cfg = { ...comparableConfig(node) };
  for (const k of RELATION_KEYS) delete cfg[k];
  return stableStringify(cfg);
}

function descriptions(node: { description: string; columns: ManifestNode['columns'] }): string {
  const cols: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(node.columns ?? {})) {
    cols[k] = { name: c.name, description: c.description, data_type: c.data_type ?? null, meta: c.meta, tags: c.tags };
  }
  return stableStringify({ d: node.description, c: cols });
}

function contractOf(node: ManifestNode): string {
  const contract = (node.config as Record<string, unknown>).contract;
  if (!contract || (contract as { enforced?: boolean }).enforced !== true) return '';
  return stableStringify(Object.values(node.columns ?? {}).map((c) => [c.name, c.data_type ?? null]));
}

function sourceShape(s: SourceDefinition): string {
  return stableStringify({
    identifier: s.identifier,
    schema: s.schema,
    loaded_at_field: s.loaded_at_field,
    description: s.description,
    source_description: s.source_description,
    columns: s.columns,
    config: s.config,
    meta: s.meta,
    source_meta: s.source_meta,
    tags: s.tags,
    loader: s.loader,
  });
}

/** Evaluates `state:` values against a previous manifest; computes macro changes once. */
export class StateComparison {
  private modifiedMacros: Set<string> | null = null;
  private readonly macroMemo = new Map<string, boolean>();

  constructor(
    private readonly current: Manifest,
    private readonly previous: Manifest,
  ) {}

  /** True when `uniqueId` did not exist (as a node or source) in the previous manifest. */
  isNew(uniqueId: string): boolean {
    return !(uniqueId in this.previous.nodes) && !(uniqueId in this.previous.sources) && !(uniqueId in (this.previous.unit_tests ?? {}));
  }

  /**
   * True when the node is new, or changed in the given aspect (all aspects
   * when `aspect` is undefined): SQL/CSV body (checksum), configs, relation
   * (configured database/schema/alias), descriptions and columns, a macro it
   * calls (directly or through other macros), or its enforced contract.
   *
   * Difference from dbt: dbt counts description changes only when
   * `persist_docs` is on; tsdbt counts every change to a node's properties.
   */
  isModified(uniqueId: string, aspect?: ModifiedAspect): boolean {
    const node = this.current.nodes[uniqueId];
    if (node) {
      const old = this.previous.nodes[uniqueId];
      if (!old) return true;
      const all = aspect === undefined;
      if ((all || aspect === 'body') && node.checksum?.checksum !== old.checksum?.checksum) return true;
      if ((all || aspect === 'configs') && configsWithoutRelation(node) !== configsWithoutRelation(old)) return true;
      if ((all || aspect === 'relation') && relationOf(node) !== relationOf(old)) return true;
      if ((all || aspect === 'persisted_descriptions') && descriptions(node) !== descriptions(old)) return true;
      if ((all || aspect === 'contract') && contractOf(node) !== contractOf(old)) return true;
      if ((all || aspect === 'macros') && this.usesModifiedMacro(node.depends_on.macros)) return true;
      return false;
    }
    const unitTest = this.current.unit_tests?.[uniqueId];
    if (unitTest) {
      // dbt compares a unit test's checksum (given, expect, overrides) and its config.
      const old = this.previous.unit_tests?.[uniqueId];
      if (!old) return true;
      if ((aspect === undefined || aspect === 'body') && unitTest.checksum !== old.checksum) return true;
      if ((aspect === undefined || aspect === 'configs') && JSON.stringify(unitTest.config) !== JSON.stringify(old.config)) return true;
      return false;
    }
    const source = this.current.sources[uniqueId];
    if (source) {
      const old = this.previous.sources[uniqueId];
      if (!old) return true;
      if (aspect === undefined || aspect === 'configs' || aspect === 'persisted_descriptions' || aspect === 'relation') {
        return sourceShape(source) !== sourceShape(old);
      }
      return false;
    }
    return false;
  }

  private macrosModified(): Set<string> {
    if (this.modifiedMacros) return this.modifiedMacros;
    const changed = new Set<string>();
    const oldMacros = this.previous.macros ?? {};
    const newMacros = this.current.macros ?? {};
    for (const [id, m] of Object.entries(newMacros)) {
      const old = oldMacros[id];
      if (!old || old.macro_sql !== m.macro_sql) changed.add(id);
    }
    for (const id of Object.keys(oldMacros)) if (!(id in newMacros)) changed.add(id);
    this.modifiedMacros = changed;
    return changed;
  }

  private usesModifiedMacro(macros: readonly string[]): boolean {
    const changed = this.macrosModified();
    if (changed.size === 0) return false;
    // Iterative walk through macro dependencies, memoised per macro.
    for (const start of macros) {
      const memo = this.macroMemo.get(start);
      if (memo !== undefined) {
        if (memo) return true;
        continue;
      }
      const seen = new Set<string>([start]);
      const stack = [start];
      let hit = false;
      while (stack.length > 0 && !hit) {
        const id = stack.pop()!;
        if (changed.has(id) || this.macroMemo.get(id) === true) hit = true;
        else {
          for (const dep of this.current.macros[id]?.depends_on.macros ?? []) {
            if (!seen.has(dep)) {
              seen.add(dep);
              stack.push(dep);
            }
          }
        }
      }
      this.macroMemo.set(start, hit);
      if (hit) return true;
    }
    return false;
  }
}
