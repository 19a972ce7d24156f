/**
 * Resolving package specs to pinned packages, as dbt-core's
 * core/dbt/deps/resolver.py `resolve_packages` does: requirements for the
 * same package (from the root and from every package's own packages.yml) are
 * merged, each merged requirement is pinned (hub: the highest published
 * version inside every range; git: the commit of the one revision asked for),
 * the pinned package's own dependencies join the next round, until nothing new
 * is asked for. Each requirement remembers who asked for it, so a conflict
 * names both requirers.
 */
import { resolve as resolvePath } from 'node:path';
import { TsdbtError } from '../errors.ts';
import type { FetchCache, PackageMetadata } from './package-source.ts';
import { readPackageMetadata } from './package-source.ts';
import { altKeys, describeSpec, specKey, specsFromData, type GitSpec, type HubSpec, type PackageSpec } from './package-spec.ts';
import { installable, isVersionSpec, pickVersion, reduceSpecs, satisfiesAll, specHasPrerelease } from './versions.ts';

/**
 * One entry of package-lock.yml, in dbt's shape: `{package, version}`,
 * `{git, revision, subdirectory?}`, `{local}` or `{tarball, name}`, each with
 * `name` (the project name it installs as).
 */
export type LockEntry = Readonly<Record<string, string>>;

/** A package pinned to one version. */
export interface PinnedPackage {
  readonly name: string;
  readonly lockEntry: LockEntry;
  /** dbt's `nice_version_name()`, e.g. `version 1.1.1`, `revision 0123abc…`, `<local @ ../>`. */
  readonly versionLabel: string;
}

/** Options for {@link resolvePackages}. */
export interface ResolveOptions {
  /** The root project directory (dbt resolves every `local:` path from it). */
  readonly root: string;
  readonly rootName: string;
  readonly cache: FetchCache;
  /** The dbt version hub packages' `require_dbt_version` is checked against. */
  readonly dbtVersion: string;
  /** dbt's `--version-check` (default true): skip hub versions whose require_dbt_version excludes dbtVersion. */
  readonly versionCheck: boolean;
  readonly warn: (text: string) => void;
}

interface Group {
  readonly key: string;
  readonly kind: PackageSpec['kind'];
  readonly specs: PackageSpec[];
  /** The pin whose dependencies were last added (stops cycles from looping). */
  expanded?: string;
}

function requirer(s: PackageSpec): string {
  return s.file && s.line ? `${s.requiredBy} (${s.file}:${s.line})` : `${s.requiredBy} (${s.file})`;
}

/**
 * Resolves `specs` (the root project's) and everything they depend on, in
 * dbt's order: the root's packages first, then each round of dependencies.
 *
 * Errors (TsdbtError): `package-conflict` (hub version ranges that no
 * version satisfies, two git revisions of one repository, or one package asked
 * for from two kinds of source: each names both requirers),
 * `package-version-not-found`, `package-not-found`, `package-duplicate` (two
 * packages with one project name, or a package named as the root project),
 * `packages-invalid`, and the fetch errors (`git-error`, `deps-download`).
 */
export async function resolvePackages(specs: readonly PackageSpec[], opts: ResolveOptions): Promise<PinnedPackage[]> {
  const groups = new Map<string, Group>();
  const byAlt = new Map<string, Group>();
  const pinCache = new Map<string, Promise<{ pin: PinnedPackage; meta: PackageMetadata }>>();

  const incorporate = (s: PackageSpec): Group => {
    for (const k of altKeys(s)) {
      const g = byAlt.get(k);
      if (g) {
        g.specs.push(s);
        return g;
      }
    }
    // dbt keys packages by source; the same project from two kinds of source is caught by name below.
    const g: Group = { key: specKey(s), kind: s.kind, specs: [s] };
    groups.set(g.key, g);
    for (const k of altKeys(s)) byAlt.set(k, g);
    return g;
  };

  let pending: PackageSpec[] = [...specs];
  while (pending.length) {
    const next: PackageSpec[] = [];
    const touched: Group[] = [];
    for (const s of pending) {
      const g = incorporate(s);
      if (!touched.includes(g)) touched.push(g);
    }
    for (const g of touched) {
      const { pin, meta } = await pinGroup(g, opts, pinCache);
      const id = JSON.stringify(pin.lockEntry);
      if (g.expanded === id) continue;
      g.expanded = id;
      next.push(...meta.packages);
    }
    pending = next;
  }

  const pins: PinnedPackage[] = [];
  const seen = new Map<string, PinnedPackage>();
  for (const g of groups.values()) {
    const { pin } = await pinGroup(g, opts, pinCache);
    if (pin.name === opts.rootName) {
      throw new TsdbtError('package-duplicate', `found a dependency with the same name as the root project "${pin.name}" (${describeSpec(g.specs[0])}, required by ${requirer(g.specs[0])}). Package names must be unique in a project`, {
        hint: 'rename the root project (name: in dbt_project.yml) or remove the package',
      });
    }
    const other = seen.get(pin.name);
    if (other) {
      throw new TsdbtError('package-conflict', `found duplicate project "${pin.name}": it is installed from ${JSON.stringify(other.lockEntry)} and from ${JSON.stringify(pin.lockEntry)} (required by ${g.specs.map(requirer).join(', ')})`, {
        hint: 'require the package from one source only (e.g. the hub everywhere, or git everywhere)',
      });
    }
    seen.set(pin.name, pin);
    pins.push(pin);
  }
  return pins;
}

async function pinGroup(g: Group, opts: ResolveOptions, cache: Map<string, Promise<{ pin: PinnedPackage; meta: PackageMetadata }>>): Promise<{ pin: PinnedPackage; meta: PackageMetadata }> {
  const first = g.specs[0];
  let id: string;
  let make: () => Promise<{ pin: PinnedPackage; meta: PackageMetadata }>;
  switch (first.kind) {
    case 'local': {
      const dir = resolvePath(opts.root, first.local);
      id = `local\0${dir}`;
      make = async () => {
        const meta = readPackageMetadata(dir, first.local, opts.cache.ctx);
        return { meta, pin: { name: meta.name, lockEntry: { local: first.local, name: meta.name }, versionLabel: `<local @ ${first.local}>` } };
      };
      break;
    }
    case 'tarball': {
      id = `tarball\0${first.tarball}`;
      make = async () => {
        const f = await opts.cache.tarball(first.tarball, `package ${first.name}`, first.tarballUnrendered);
        const meta = readPackageMetadata(f.dir, first.name, opts.cache.ctx);
        // dbt: the name: given in packages.yml is the install name.
        const name = first.name || meta.name;
        return { meta: { ...meta, name }, pin: { name, lockEntry: { name, tarball: first.tarballUnrendered }, versionLabel: `tarball (url: ${first.tarballUnrendered})` } };
      };
      break;
    }
    case 'git': {
      const specs = g.specs as GitSpec[];
      const revisions = [...new Set(specs.map((s) => s.revision).filter((r): r is string => r !== undefined))];
      if (revisions.length > 1) {
        const who = specs.filter((s) => s.revision !== undefined).map((s) => `revision ${s.revision} by ${requirer(s)}`);
        throw new TsdbtError('package-conflict', `git dependencies should contain exactly one version: ${first.gitUnrendered} is asked for at ${who.join(' and ')}`, {
          file: first.file, line: first.line,
          hint: 'ask for the same revision everywhere (or drop revision: from one of them)',
        });
      }
      const revision = revisions[0] ?? 'HEAD';
      const warnUnpinned = specs.every((s) => s.warnUnpinned);
      id = `git\0${first.git}\0${revision}\0${first.subdirectory ?? ''}`;
      make = async () => {
        // Messages show the URL as written: the rendered one may hold a DBT_ENV_SECRET_ value.
        const label = first.subdirectory ? `${first.gitUnrendered}/${first.subdirectory}` : first.gitUnrendered;
        const f = await opts.cache.git(first.git, revision === 'HEAD' ? undefined : revision, first.subdirectory, first.gitUnrendered);
        opts.cache.alias(first.git, f.sha!, first.subdirectory, f);
        if ((revision === 'HEAD' || revision === 'main' || revision === 'master') && warnUnpinned) {
          opts.warn(`The git package "${first.gitUnrendered}" is not pinned: it follows ${revision === 'HEAD' ? 'the default branch (HEAD)' : `the "${revision}" branch`}, so \`tsdbt deps --upgrade\` may install different code. Add revision: <tag or commit> to pin it, or warn-unpinned: false to silence this (${requirer(first)}).`);
        }
        const meta = readPackageMetadata(f.dir, label, opts.cache.ctx);
        const lockEntry: Record<string, string> = { git: first.gitUnrendered, name: meta.name, revision: f.sha! };
        if (first.subdirectory) lockEntry.subdirectory = first.subdirectory;
        return { meta, pin: { name: meta.name, lockEntry, versionLabel: `revision ${f.sha}` } };
      };
      break;
    }
    case 'hub': {
      const specs = g.specs as HubSpec[];
      for (const s of specs) {
        for (const v of s.versions) {
          if (!isVersionSpec(v)) {
            throw new TsdbtError('packages-invalid', `"${v}" is not a valid version for ${s.package} (${s.file}): dbt expects MAJOR.MINOR.PATCH with an optional >=, >, <=, < or =`, {
              file: s.file, line: s.line, hint: 'write e.g. version: [">=1.0.0", "<2.0.0"] or version: 1.3.0',
            });
          }
        }
      }
      const all = specs.flatMap((s) => s.versions);
      const range = reduceSpecs(all);
      if (!range) {
        const who = specs.map((s) => `[${s.versions.map((v) => `"${v}"`).join(', ')}] by ${requirer(s)}`);
        throw new TsdbtError('package-conflict', `version error for package ${first.package}: no version satisfies ${who.join(' and ')}`, {
          file: first.file, line: first.line,
          hint: 'widen one of the version ranges so they overlap, or upgrade the package that asks for the older range',
        });
      }
      const prerelease = specs.some((s) => s.installPrerelease) || all.some(specHasPrerelease);
      id = `hub\0${first.package}\0${all.join(',')}\0${prerelease}`;
      make = async () => {
        await opts.cache.hub.checkInIndex(first.package);
        const versions = await opts.cache.hub.versions(first.package);
        const compatible = Object.keys(versions).filter((v) => !opts.versionCheck || satisfiesAll(opts.dbtVersion, versions[v].requireDbtVersion));
        const candidates = installable(compatible, prerelease);
        const target = pickVersion(range, candidates);
        if (!target) {
          throw new TsdbtError('package-version-not-found', `could not find a matching compatible version for package ${first.package}: requested ${all.join(', ')} (by ${specs.map(requirer).join(', ')}); compatible versions on the hub: ${candidates.join(', ') || 'none'}`, {
            file: first.file, line: first.line,
            hint: opts.versionCheck
              ? `change the version range; versions whose require-dbt-version excludes dbt ${opts.dbtVersion} (the version tsdbt reports) are left out`
              : 'change the version range',
          });
        }
        const hv = versions[target];
        const meta: PackageMetadata = {
          name: hv.name,
          packages: specsFromData(hv.packages, `${first.package}@${target} on the dbt Hub`, opts.cache.ctx, `package ${hv.name}@${target}`),
        };
        return { meta, pin: { name: hv.name, lockEntry: { name: hv.name, package: first.package, version: target }, versionLabel: `version ${target}` } };
      };
      break;
    }
  }
  let p = cache.get(id);
  if (!p) {
    p = make();
    cache.set(id, p);
  }
  return p;
}
