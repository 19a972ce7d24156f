/**
 * selectors.yml, as dbt reads it: `selectors:` is a list of `{name,
 * description?, default?, definition}`; at most one has `default: true`
 * (used when no --select / --exclude is given). The definitions are kept as
 * written; src/graph/selectors.ts evaluates them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { readYamlFile, lineOf, isPlainObject } from './yaml-file.ts';

/** One named selector. */
export interface SelectorDefinition {
  readonly name: string;
  readonly description?: string;
  readonly default: boolean;
  /** As written: a CLI-style string, a method dict, or `union` / `intersection` (with `exclude` items). */
  readonly definition: unknown;
  readonly line?: number;
}

/** The project's selectors.yml (empty when there is none). */
export interface Selectors {
  readonly file: string;
  readonly byName: ReadonlyMap<string, SelectorDefinition>;
  /** The selector with `default: true`, if any. */
  readonly defaultName: string | null;
}

/**
 * Reads `<root>/selectors.yml`.
 * @throws TsdbtError `selectors-invalid` (file and line) for an entry without
 *   a name or definition, a duplicate name, or more than one `default: true`.
 */
export function loadSelectors(root: string): Selectors {
  const file = 'selectors.yml';
  const abs = join(root, file);
  const byName = new Map<string, SelectorDefinition>();
  if (!existsSync(abs)) return { file, byName, defaultName: null };
  const yf = readYamlFile(abs, file);
  const data = yf.data;
  if (data === null || data === undefined) return { file, byName, defaultName: null };
  const list = isPlainObject(data) ? data.selectors : undefined;
  if (!Array.isArray(list)) {
    throw new TsdbtError('selectors-invalid', 'selectors.yml must have a `selectors:` list', { file, line: 1, kind: 'project', hint: 'selectors:\n  - name: nightly\n    definition: "tag:nightly"' });
  }
  let defaultName: string | null = null;
  list.forEach((e, i) => {
    const line = lineOf(yf, ['selectors', i]);
    if (!isPlainObject(e) || typeof e.name !== 'string' || !e.name) {
      throw new TsdbtError('selectors-invalid', 'a selector has no name', { file, line, kind: 'project', hint: 'add `name: <selector name>` to this entry' });
    }
    if (e.definition === undefined || e.definition === null) {
      throw new TsdbtError('selectors-invalid', `selector '${e.name}' has no definition`, { file, line, kind: 'project', hint: 'add e.g. `definition: "tag:nightly"` or `definition: {union: [...]}`' });
    }
    if (byName.has(e.name)) throw new TsdbtError('selectors-invalid', `selector '${e.name}' is defined twice`, { file, line, kind: 'project', hint: 'selector names must be unique' });
    const isDefault = e.default === true;
    if (isDefault && defaultName) {
      throw new TsdbtError('selectors-invalid', `more than one selector has default: true ('${defaultName}' and '${e.name}')`, { file, line, kind: 'project', hint: 'keep `default: true` on one selector only' });
    }
    if (isDefault) defaultName = e.name;
    byName.set(e.name, { name: e.name, description: typeof e.description === 'string' ? e.description : undefined, default: isDefault, definition: e.definition, line });
  });
  return { file, byName, defaultName };
}
