/**
 * Which node a `ref()` and which source a `source()` names, across the root
 * project and its installed packages, in dbt's order (dbt-core
 * `Manifest.resolve_ref` / `resolve_source` with `_packages_to_search`):
 *
 * - `ref('pkg', 'x')`: only package `pkg`;
 * - `ref('x')` from a node of the root project: the root project, then any package;
 * - `ref('x')` from a node of package `p`: the ROOT project first, then `p`, then any package
 *   (so a root model of the same name shadows a package's own model, as in dbt).
 *
 * "Any package" takes the first node registered under that name (dbt's
 * `RefableLookup` keeps insertion order: the root project's nodes, then the
 * packages' in the order they were parsed). Sources follow the same order.
 */

/** The packages to search, in order; `null` means "any package" (dbt's `_packages_to_search`). */
export function packagesToSearch(rootProject: string, nodePackage: string, targetPackage?: string | null): (string | null)[] {
  if (targetPackage) return [targetPackage];
  if (rootProject === nodePackage) return [rootProject, null];
  return [rootProject, nodePackage, null];
}

/** name → (package → unique_id), insertion order kept. */
export class NameLookup {
  private readonly byName = new Map<string, Map<string, string>>();

  /** Records `uniqueId` as `name` in `pkg`; the first one recorded for a (name, package) stays. */
  add(name: string, pkg: string, uniqueId: string): void {
    let m = this.byName.get(name);
    if (!m) this.byName.set(name, (m = new Map()));
    if (!m.has(pkg)) m.set(pkg, uniqueId);
  }

  /** The unique_id of `name` in `pkg` (`null`: the first package that has it), or undefined. */
  find(name: string, pkg: string | null): string | undefined {
    const m = this.byName.get(name);
    if (!m) return undefined;
    if (pkg === null) return m.values().next().value;
    return m.get(pkg);
  }

  /** The unique_id `name` resolves to for a node of `nodePackage`, in dbt's order (see the module doc). */
  resolve(name: string, targetPackage: string | null | undefined, rootProject: string, nodePackage: string): string | undefined {
    for (const pkg of packagesToSearch(rootProject, nodePackage, targetPackage)) {
      const uid = this.find(name, pkg);
      if (uid !== undefined) return uid;
    }
    return undefined;
  }

  /** Every name recorded (for "did you mean" hints). */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** True when some package has `name`. */
  has(name: string): boolean {
    return this.byName.has(name);
  }
}
