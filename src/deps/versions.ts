/**
 * dbt's version specifiers for hub packages (dbt_common/semver.py), on top of
 * the `semver` library.
 *
 * A specifier is `[matcher]MAJOR.MINOR.PATCH[-pre][+build]` with matcher one
 * of `>=`, `>`, `<=`, `<`, `=` (none = exact). Requirements from every
 * requirer are intersected (dbt's `reduce_versions`); the highest available
 * version inside the intersection is installed (`resolve_to_specific_version`).
 * Pre-releases are candidates only when `install-prerelease: true` or a
 * specifier itself names a pre-release (`filter_installable`).
 */
import semver from 'semver';

/** dbt's `_VERSION_REGEX`: full three-part versions only (`1.0` is not a valid specifier). */
const DBT_VERSION_RE =
  /^(>=|>|<=|<|=)?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-?(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?(\+[0-9A-Za-z-]*(?:\.[0-9A-Za-z-]*)*)?$/;

/** True when `spec` is a version specifier dbt accepts. */
export function isVersionSpec(spec: string): boolean {
  return DBT_VERSION_RE.test(spec.trim());
}

/** True when the specifier names a pre-release (`1.0.0-rc1`, `>=1.0.0-b2`). */
export function specHasPrerelease(spec: string): boolean {
  const m = DBT_VERSION_RE.exec(spec.trim());
  return !!m?.[5];
}

/** The specifier as a `semver` comparator (`1.0.0` → `=1.0.0`; dbt's `1.0.0b1` → `1.0.0-b1`). */
function comparator(spec: string): string {
  const m = DBT_VERSION_RE.exec(spec.trim());
  if (!m) throw new Error(`not a version specifier: ${spec}`);
  const pre = m[5] ? (m[5].startsWith('-') ? m[5] : `-${m[5]}`) : '';
  return `${m[1] ?? '='}${m[2]}.${m[3]}.${m[4]}${pre}`;
}

const OPTS: semver.RangeOptions = { includePrerelease: true };

/**
 * The intersection of `specs` as a semver Range, or `null` when no version
 * can satisfy all of them (dbt's VersionsNotCompatibleError). An empty list is
 * "any version".
 */
export function reduceSpecs(specs: readonly string[]): semver.Range | null {
  if (!specs.length) return new semver.Range('*', OPTS);
  const range = new semver.Range(specs.map(comparator).join(' '), OPTS);
  return semver.minVersion(range, OPTS) === null ? null : range;
}

/** The parsed form of an available version string, or null if it is not semver. */
function parse(v: string): semver.SemVer | null {
  const m = DBT_VERSION_RE.exec(v.trim());
  if (!m || m[1]) return null;
  return semver.parse(comparator(v).slice(1), OPTS);
}

/**
 * Versions that may be installed, oldest first (dbt's `filter_installable`):
 * pre-releases only when `prerelease` is true.
 */
export function installable(available: readonly string[], prerelease: boolean): string[] {
  return available
    .map((v) => ({ v, p: parse(v) }))
    .filter((x): x is { v: string; p: semver.SemVer } => x.p !== null && (prerelease || x.p.prerelease.length === 0))
    .sort((a, b) => semver.compare(a.p, b.p))
    .map((x) => x.v);
}

/** The highest of `candidates` inside `range`, or undefined (dbt's `resolve_to_specific_version`). */
export function pickVersion(range: semver.Range, candidates: readonly string[]): string | undefined {
  let best: { v: string; p: semver.SemVer } | undefined;
  for (const v of candidates) {
    const p = parse(v);
    if (p && range.test(p) && (!best || semver.gt(p, best.p))) best = { v, p };
  }
  return best?.v;
}

/**
 * True when `version` (e.g. the dbt version tsdbt reports) satisfies every
 * specifier in `required` (a hub version's `require_dbt_version`). Invalid
 * specifiers are ignored.
 */
export function satisfiesAll(version: string, required: readonly string[]): boolean {
  const valid = required.filter(isVersionSpec);
  if (!valid.length) return true;
  const p = parse(version);
  if (!p) return true;
  return new semver.Range(valid.map(comparator).join(' '), OPTS).test(p);
}
