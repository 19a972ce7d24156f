/**
 * Config keys that custom materializations read are not unknown: the
 * `unknown-config-key` warnings (dbt 1.10's CustomKeyInConfigDeprecation,
 * tsdbt's "nothing silently ignored") are dropped for
 *  - a key some user-defined `{% materialization %}` (project or package)
 *    reads with a literal `config.get('key'…)` / `config.require('key'…)`,
 *    wherever it is set;
 *  - any key without a "did you mean" (so not a misspelt built-in key) set on
 *    a node whose materialization is a custom one — in its `config()` call, in
 *    its properties `config:`, or at a dbt_project.yml level whose nodes
 *    include one materialized that way.
 * Every other unknown key keeps its warning.
 */
import type { TsdbtError } from '../errors.ts';
import type { JinjaEnv } from '../jinja/index.ts';
import type { Manifest, ManifestNode } from './manifest.ts';

const BUILTIN = new Set(['view', 'table', 'incremental', 'ephemeral', 'seed', 'snapshot', 'test', 'unit', 'clone']);

/** The keys user materializations read with a literal `config.get` / `config.require` (package `dbt`'s own not counted). */
export function keysReadByMaterializations(jinja: JinjaEnv): Set<string> {
  const keys = new Set<string>();
  for (const d of jinja.macroDefinitions()) {
    if (d.kind !== 'materialization' || d.packageName === 'dbt') continue;
    for (const m of d.sql.matchAll(/\bconfig\s*\.\s*(?:get|require)\s*\(\s*(['"])([^'"]+)\1/g)) keys.add(m[2]);
  }
  return keys;
}

/** Names of materializations defined by user `{% materialization %}` blocks that are not dbt's built-in ones. */
function customMaterializations(jinja: JinjaEnv): Set<string> {
  const names = new Set<string>();
  for (const d of jinja.macroDefinitions()) {
    const m = d.kind === 'materialization' && d.packageName !== 'dbt' ? /^materialization_(.+)_[^_]+$/.exec(d.name) : null;
    if (m && !BUILTIN.has(m[1])) names.add(m[1]);
  }
  return names;
}

/** `warnings` without those for keys custom materializations take (see the file comment). */
export function withoutCustomMaterializationKeys(warnings: readonly TsdbtError[], manifest: Manifest, jinja: JinjaEnv): TsdbtError[] {
  if (!warnings.some((w) => w.code === 'unknown-config-key')) return [...warnings];
  const read = keysReadByMaterializations(jinja);
  const custom = customMaterializations(jinja);
  const isCustom = (n: ManifestNode) => custom.has(String(n.config?.materialized));
  const nodes = Object.values(manifest.nodes);
  return warnings.filter((w) => {
    if (w.code !== 'unknown-config-key') return true;
    const m = /^unknown config key '([^']+)'(?: in (.+?))?(; did you mean|$)/.exec(w.message);
    if (!m) return true;
    const [, key, where = '', typo] = m;
    if (read.has(key)) return false;
    if (typo || custom.size === 0) return true;
    let owners: ManifestNode[] = [];
    const prop = /^the config of (model|seed|snapshot|analysis) '([^']+)'$/.exec(where);
    if (where === 'config()') owners = nodes.filter((n) => w.file !== undefined && (n.original_file_path === w.file || w.file.endsWith(`/${n.original_file_path}`)));
    else if (prop) owners = nodes.filter((n) => n.resource_type === prop[1] && n.name === prop[2]);
    else {
      // A dbt_project.yml level: `models.<package>.<folder>…`.
      const path = where.split('.');
      if (path[0] === 'models' || path[0] === 'snapshots') {
        const prefix = path.slice(1);
        owners = nodes.filter((n) => n.resource_type === (path[0] === 'models' ? 'model' : 'snapshot') && prefix.every((p, i) => n.fqn[i] === p));
      }
    }
    return !owners.some(isCustom);
  });
}
