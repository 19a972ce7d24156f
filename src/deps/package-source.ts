/**
 * Fetching one pinned package into the run's scratch directory and reading
 * what dbt reads from it (`PartialProject.render_package_metadata`): the
 * project `name` from its dbt_project.yml and its own package specs.
 * Fetches are cached for the run, so resolving and installing download each
 * package once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { renderValue } from '../config/render.ts';
import { isPlainObject, lineOf, parseYaml } from '../config/yaml-file.ts';
import { downloadAndUnpack, gitCheckout } from './fetchers.ts';
import type { HubClient, HubVersion } from './hub.ts';
import { readSpecsFrom, type PackageSpec, type SpecContext } from './package-spec.ts';

/** What a package says about itself. */
export interface PackageMetadata {
  /** Its project name: the folder it installs to under packages-install-path. */
  readonly name: string;
  /** Its own dependencies (already read and rendered). */
  readonly packages: readonly PackageSpec[];
}

/** A package fetched into the scratch directory. */
export interface FetchedPackage {
  /** The package folder (holding dbt_project.yml), or undefined for hub metadata fetched without the files. */
  readonly dir: string;
  /** Git only: the commit checked out. */
  readonly sha?: string;
}

/** Per-run state shared by resolution and installation. */
export class FetchCache {
  private readonly fetched = new Map<string, Promise<FetchedPackage>>();
  private n = 0;

  constructor(
    readonly scratch: string,
    readonly hub: HubClient,
    readonly ctx: SpecContext,
  ) {}

  private nextDir(): string {
    return join(this.scratch, `p${++this.n}`);
  }

  /** Clones a git package at `revision` (cached by url + revision + subdirectory); `display` is the URL as messages show it (as written). */
  git(url: string, revision: string | undefined, subdirectory: string | undefined, display?: string): Promise<FetchedPackage> {
    const key = `git\0${url}\0${revision ?? 'HEAD'}\0${subdirectory ?? ''}`;
    let p = this.fetched.get(key);
    if (!p) {
      p = gitCheckout(url, revision, subdirectory, this.nextDir(), display);
      this.fetched.set(key, p);
    }
    return p;
  }

  /** Records a checkout under another revision name (its sha), so installing from the new lock does not clone again. */
  alias(url: string, revision: string, subdirectory: string | undefined, fetched: FetchedPackage): void {
    this.fetched.set(`git\0${url}\0${revision}\0${subdirectory ?? ''}`, Promise.resolve(fetched));
  }

  /** Downloads and unpacks a tarball (cached by URL). */
  tarball(url: string, what: string, display?: string): Promise<FetchedPackage> {
    const key = `tar\0${url}`;
    let p = this.fetched.get(key);
    if (!p) {
      p = downloadAndUnpack(url, this.nextDir(), what, display).then((dir) => ({ dir }));
      this.fetched.set(key, p);
    }
    return p;
  }

  /** The hub's record of `pkg` at `version`. Errors: `package-version-not-found` when the hub does not list it. */
  async hubVersion(pkg: string, version: string): Promise<HubVersion> {
    const all = await this.hub.versions(pkg);
    const v = all[version];
    if (!v) {
      throw new TsdbtError('package-version-not-found', `version ${version} of ${pkg} is not on the dbt Hub (${this.hub.baseUrl})`, {
        hint: `pick a published version (${Object.keys(all).slice(-5).join(', ') || 'none'}), then run tsdbt deps --upgrade`,
      });
    }
    return v;
  }
}

/**
 * Reads `name` and the dependencies of the package in `dir`. `label` names
 * the package in messages. Errors: `package-invalid` when there is no
 * dbt_project.yml or it has no name (dbt: "Verify that each entry within
 * packages.yml (and their transitive dependencies) contains a file named
 * dbt_project.yml").
 */
export function readPackageMetadata(dir: string, label: string, ctx: SpecContext): PackageMetadata {
  const projectFile = join(dir, 'dbt_project.yml');
  if (!existsSync(projectFile)) {
    throw new TsdbtError('package-invalid', `no dbt_project.yml found for package ${label} (looked in ${dir})`, {
      hint: 'verify that each entry within packages.yml (and their transitive dependencies) points at a folder holding a dbt_project.yml',
    });
  }
  const file = `${label}/dbt_project.yml`;
  const yf = parseYaml(readFileSync(projectFile, 'utf8'), file, projectFile);
  const data = isPlainObject(yf.data) ? yf.data : {};
  const name = renderValue(data.name, { env: ctx.env, cliVars: ctx.cliVars, file, fileKind: 'dbt_project.yml' }, lineOf(yf, ['name']));
  if (typeof name !== 'string' || !name) {
    throw new TsdbtError('package-invalid', `the dbt_project.yml of package ${label} has no name:`, { file, hint: 'a package needs name: in its dbt_project.yml' });
  }
  const { specs } = readSpecsFrom(dir, ctx, { prefix: `${label}/`, requiredBy: `package ${name}` });
  return { name, packages: specs };
}
