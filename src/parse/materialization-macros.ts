/**
 * Which `{% materialization %}` macro builds a node: dbt's
 * `Manifest.find_materialization_macro_by_name` over the macros a project and
 * its packages define (`materialization_<name>_<adapter>`). Pure: reads
 * macro definitions only.
 */
import type { MacroDefinition } from '../jinja/index.ts';

/** The materializations tsdbt implements itself (dbt's "core" candidates). */
export const BUILTIN_MATERIALIZATIONS: ReadonlySet<string> = new Set(['view', 'table', 'incremental', 'seed', 'test', 'snapshot']);

/** The chosen user-defined materialization macro. */
export interface MaterializationChoice {
  /** Macro name, e.g. `materialization_view_postgres`. */
  readonly macro: string;
  readonly packageName: string;
  readonly file: string;
  readonly line: number;
}

/** The lookup's answer: a user macro (or none: tsdbt's built-in / unknown), and a warning to show. */
export interface MaterializationLookup {
  readonly choice?: MaterializationChoice;
  readonly warning?: string;
}

/**
 * Finds the materialization macro for `name` on Postgres, as dbt's
 * find_materialization_macro_by_name: candidates are `materialization_<name>_postgres`
 * and `materialization_<name>_default`; the adapter-specific one wins over `default`
 * first, then the root project over packages over built-ins (dbt compares
 * specificity before locality). tsdbt's TypeScript materializations play dbt's
 * core candidates for {@link BUILTIN_MATERIALIZATIONS}.
 *
 * A package overriding a built-in materialization is ignored unless the root
 * project sets `flags: {require_explicit_package_overrides_for_builtin_materializations: false}`
 * (dbt ≥ 1.8's default): either way a warning says what happened (dbt's
 * PackageMaterializationOverrideDeprecation when the override is used).
 *
 * @param defs every registered macro (JinjaEnv.macroDefinitions())
 * @param requireExplicitPackageOverrides the project flag (default true, as dbt ≥ 1.8)
 */
export function findMaterializationMacro(
  defs: readonly MacroDefinition[],
  name: string,
  rootPackage: string,
  requireExplicitPackageOverrides = true,
): MaterializationLookup {
  const locality = (d: MacroDefinition) => (d.packageName === 'dbt' ? 1 : d.packageName === rootPackage ? 3 : 2);
  const candidates = defs
    .filter((d) => d.kind === 'materialization' && (d.name === `materialization_${name}_postgres` || d.name === `materialization_${name}_default`))
    .map((d) => ({ d, specificity: d.name.endsWith('_postgres') ? 2 : 1, locality: locality(d) }));
  const builtin = BUILTIN_MATERIALIZATIONS.has(name);
  // The built-in (core) candidate: a default-specificity one from "dbt".
  const best = (pool: typeof candidates) =>
    pool.reduce<(typeof candidates)[number] | undefined>((a, c) => (!a || c.specificity > a.specificity || (c.specificity === a.specificity && c.locality >= a.locality) ? c : a), undefined);
  const winner = best(candidates);
  // tsdbt's own (package 'dbt') candidates are run by its TypeScript strategies; the macros exist to be wrapped.
  if (!winner || winner.locality === 1) return {};
  const asChoice = (c: (typeof candidates)[number]): MaterializationChoice => ({ macro: c.d.name, packageName: c.d.packageName, file: c.d.file, line: c.d.line });
  if (builtin && winner.locality === 2) {
    if (!requireExplicitPackageOverrides) {
      return {
        choice: asChoice(winner),
        warning: `Installed package '${winner.d.packageName}' is overriding the built-in materialization '${name}' (${winner.d.file}:${winner.d.line}). Overrides of built-in materializations from installed packages are deprecated in dbt.`,
      };
    }
    // dbt keeps only root and core candidates; a core (tsdbt) default beats nothing but a root default of equal specificity.
    const root = best(candidates.filter((c) => c.locality !== 2));
    const warning =
      `Installed package '${winner.d.packageName}' defines the built-in materialization '${name}' (${winner.d.file}:${winner.d.line}); it is not used, as in dbt ≥ 1.8. ` +
      `To use it, set flags: {require_explicit_package_overrides_for_builtin_materializations: false} in dbt_project.yml, or wrap it in a root-project materialization.`;
    return root && root.locality === 3 ? { choice: asChoice(root), warning } : { warning };
  }
  return { choice: asChoice(winner) };
}
