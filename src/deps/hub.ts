/**
 * The dbt Hub API client (dbt-core's core/dbt/clients/registry.py).
 *
 * - Base URL: `DBT_PACKAGE_HUB_URL` (as dbt; a missing trailing `/` is
 *   added), else `https://hub.getdbt.com/`.
 * - `api/v1/index.json`: a JSON list of `org/name` strings; a package not in
 *   it is "not found".
 * - `api/v1/<org>/<name>.json`: `{ name, namespace, versions: { "<v>":
 *   { name, packages: [...], downloads: { tarball }, require_dbt_version? } } }`.
 *   Responses are cached for the run (dbt memoizes them too), so each URL is
 *   requested at most once per `tsdbt deps`.
 */
import { TsdbtError } from '../errors.ts';
import { httpGetJson } from './http.ts';

export const DEFAULT_HUB_URL = 'https://hub.getdbt.com/';

/** One published version of a hub package. */
export interface HubVersion {
  /** The package's project name (the folder it installs to), e.g. `dbt_utils`. */
  readonly name: string;
  /** Its own dependencies, as packages.yml entries. */
  readonly packages: readonly Record<string, unknown>[];
  readonly tarball: string;
  readonly requireDbtVersion: readonly string[];
}

/** A hub client for one run; `requests` counts HTTP calls (for messages and tests). */
export class HubClient {
  readonly baseUrl: string;
  private index?: Promise<Set<string>>;
  private readonly packages = new Map<string, Promise<Record<string, HubVersion>>>();

  /** `warn` receives dbt's package-redirect deprecation (a package that moved to another org or name). */
  constructor(env: NodeJS.ProcessEnv, private readonly warn: (text: string) => void = () => {}) {
    const u = env.DBT_PACKAGE_HUB_URL || DEFAULT_HUB_URL;
    this.baseUrl = u.endsWith('/') ? u : `${u}/`;
  }

  private url(name: string): string {
    return `${this.baseUrl}api/v1/${name}.json`;
  }

  /** Errors: TsdbtError `package-not-found` when the hub's index does not list `pkg`. */
  async checkInIndex(pkg: string): Promise<void> {
    this.index ??= httpGetJson(this.url('index'), 'the dbt Hub index').then((data) => {
      if (!Array.isArray(data)) {
        throw new TsdbtError('deps-bad-response', `the dbt Hub index at ${this.url('index')} is not a list of package names`, { kind: 'runtime' });
      }
      return new Set(data.map(String));
    });
    if (!(await this.index).has(pkg)) {
      throw new TsdbtError('package-not-found', `package ${pkg} was not found in the package index (${this.url('index')})`, {
        hint: 'check the spelling (org/name, as on hub.getdbt.com), or install it with git: or tarball:',
      });
    }
  }

  /** Every published version of `pkg`, by version string. */
  versions(pkg: string): Promise<Record<string, HubVersion>> {
    let p = this.packages.get(pkg);
    if (!p) {
      p = httpGetJson(this.url(pkg), `hub package ${pkg}`).then((data) => {
        const d = (data ?? {}) as { namespace?: string; name?: string; redirectnamespace?: string; redirectname?: string };
        if (d.redirectnamespace || d.redirectname) {
          const moved = `${d.redirectnamespace || d.namespace}/${d.redirectname || d.name}`;
          this.warn(`The package ${pkg} is deprecated in favor of ${moved}. Please update your packages.yml configuration to use ${moved} instead.`);
        }
        return readVersions(pkg, data, this.url(pkg));
      });
      this.packages.set(pkg, p);
    }
    return p;
  }
}

function readVersions(pkg: string, data: unknown, url: string): Record<string, HubVersion> {
  const d = data as { versions?: Record<string, Record<string, unknown>> };
  if (!d || typeof d !== 'object' || !d.versions || typeof d.versions !== 'object') {
    throw new TsdbtError('deps-bad-response', `the dbt Hub answer for ${pkg} (${url}) has no versions`, { kind: 'runtime' });
  }
  const out: Record<string, HubVersion> = {};
  for (const [v, info] of Object.entries(d.versions)) {
    const downloads = info?.downloads as { tarball?: unknown } | undefined;
    if (!info || typeof info.name !== 'string' || typeof downloads?.tarball !== 'string') {
      throw new TsdbtError('deps-bad-response', `the dbt Hub answer for ${pkg} version ${v} (${url}) lacks name or downloads.tarball`, { kind: 'runtime' });
    }
    const req = info.require_dbt_version;
    out[v] = {
      name: info.name,
      packages: Array.isArray(info.packages) ? (info.packages as Record<string, unknown>[]) : [],
      tarball: downloads.tarball,
      requireDbtVersion: req === undefined || req === null ? [] : (Array.isArray(req) ? req : [req]).map(String),
    };
  }
  return out;
}
