/**
 * Model versions, as dbt-core 1.x parses them (`ModelPatchParser.parse_patch`,
 * `UnparsedVersion`, `RefableLookup` and `check_for_model_deprecations`):
 *
 * - each item of a model's `versions:` is defined in the model file named by
 *   `defined_in:`, by default `<model>_v<v>.sql`; the latest version may also
 *   live in `<model>.sql` when no suffixed file exists;
 * - the node is named after the model, its unique_id is `model.<project>.<model>.v<v>`
 *   and its fqn ends `[…, <model>, v<v>]`;
 * - `latest_version:` defaults to the greatest `v` (compared as numbers when both are,
 *   else as text), and an unversioned `ref('m')` resolves to it;
 * - a version's columns are the model's columns it includes (`include`/`exclude`)
 *   followed by its own; its tests are its own `tests:` when it has any, else the model's;
 * - a model past its `deprecation_date` is a warning, and so is every model that refs it.
 */
import { TsdbtError } from '../errors.ts';
import type { ColumnProperties, ModelVersionProperties, NodeProperties } from '../config/types.ts';
import type { ManifestNode } from './manifest.ts';

/** A version identifier as written in YAML or in `ref(…, v=…)`. */
export type NodeVersion = string | number;

/** One model file that defines a version: the model's properties entry, the version and the model's latest version. */
export interface VersionedFile {
  readonly props: NodeProperties;
  readonly version: ModelVersionProperties;
  readonly latest: NodeVersion;
}

/** `v2` for version 2 (dbt's `formatted_v`): the last part of the unique_id and fqn. */
export function formattedVersion(v: NodeVersion): string {
  return `v${v}`;
}

/** Python's truthiness of a version argument, as dbt's `if version:` (None, '' and 0 mean unversioned). */
function hasVersion(v: unknown): v is NodeVersion {
  return v !== undefined && v !== null && v !== '' && v !== 0 && v !== false;
}

/**
 * The key `ref()` looks a node up by (dbt's `RefableLookup`): `name` without a version,
 * `name.v<version>` with one. `refKey('m', 1)` → `m.v1`; `refKey('m', '1')` → `m.v1`.
 */
export function refKey(name: string, version: unknown): string {
  return hasVersion(version) ? `${name}.v${version}` : name;
}

/**
 * The keys a refable node is found by: its name (unversioned nodes, and the latest
 * version of a versioned model), and `name.v<version>` for a versioned model.
 */
export function lookupKeys(node: Pick<ManifestNode, 'name' | 'version' | 'latest_version'>): string[] {
  if (node.version === undefined || node.version === null) return [node.name];
  const keys = [refKey(node.name, node.version)];
  if (isLatestVersion(node)) keys.push(node.name);
  return keys;
}

/** dbt's `is_latest_version`: the node has a version equal to its `latest_version`. */
export function isLatestVersion(node: Pick<ManifestNode, 'version' | 'latest_version'>): boolean {
  return node.version !== undefined && node.version !== null && node.latest_version !== undefined && node.latest_version !== null && String(node.version) === String(node.latest_version);
}

/** dbt's `UnparsedVersion.__lt__`: numbers when both parse as numbers, else text. Negative: a < b. */
export function compareVersions(a: NodeVersion, b: NodeVersion): number {
  const fa = Number(a);
  const fb = Number(b);
  if (String(a).trim() !== '' && String(b).trim() !== '' && !Number.isNaN(fa) && !Number.isNaN(fb)) return fa - fb;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The model's latest version: `latest_version:`, else the greatest `v` (as dbt's `max(versions).v`). */
export function latestVersion(props: NodeProperties): NodeVersion | undefined {
  if (props.latest_version !== undefined) return props.latest_version;
  let best: NodeVersion | undefined;
  for (const v of props.versions ?? []) if (best === undefined || compareVersions(v.v, best) > 0) best = v.v;
  return best;
}

/** Whether the version's include/exclude keeps the model's column `name` (dbt's `IncludeExclude.includes`). */
function includes(version: ModelVersionProperties, name: string): boolean {
  const inc = version.include;
  const included = inc === '*' || inc === 'all' || (inc as readonly string[]).includes(name);
  return included && !version.exclude.includes(name);
}

/**
 * The columns of one version (dbt's `get_columns_for_version`): the model's columns the
 * version includes, then the version's own. Both feed tests; in `columns` of the node a
 * version's own column replaces the model's of the same name.
 */
export function columnsForVersion(props: NodeProperties, version: ModelVersionProperties): ColumnProperties[] {
  return [...props.columns.filter((c) => includes(version, c.name)), ...version.columns];
}

/** The tests of one version (dbt's `get_tests_for_version`): its own `tests:` if it has the key, else the model's. */
export function testsForVersion(props: NodeProperties, version: ModelVersionProperties): readonly unknown[] {
  return version.tests ?? props.tests;
}

/**
 * Which model file defines which version, for every model entry with `versions:`.
 * `fileNames` are the model files' names without extension. A version whose file does
 * not exist is a `patch-unknown-node` warning (dbt's `NoNodeForYamlKey`).
 *
 * @returns file name (without extension) → the version it defines.
 */
export function versionedFiles(models: readonly NodeProperties[], fileNames: ReadonlySet<string>, warn: (w: TsdbtError) => void): Map<string, VersionedFile> {
  const out = new Map<string, VersionedFile>();
  for (const props of models) {
    if (!props.versions?.length) continue;
    const latest = latestVersion(props)!;
    for (const version of props.versions) {
      let file = version.defined_in ?? `${props.name}_${formattedVersion(version.v)}`;
      // The latest version may be defined in the model's own file, without a suffix (as dbt).
      if (!fileNames.has(file) && String(version.v) === String(latest) && fileNames.has(props.name)) file = props.name;
      if (!fileNames.has(file)) {
        warn(
          new TsdbtError('patch-unknown-node', `${props.file} describes version ${version.v} of model '${props.name}', but there is no model file '${file}'`, {
            file: props.file,
            line: version.line,
            hint: version.defined_in !== undefined
              ? `create models/…/${file}.sql, or point defined_in: at the file that holds this version`
              : `create models/…/${file}.sql, or set defined_in: to the file (name without .sql) that holds version ${version.v}`,
          }),
        );
        continue;
      }
      const taken = out.get(file);
      if (taken) {
        warn(
          new TsdbtError('duplicate-version-file', `version ${version.v} of model '${props.name}' is defined in '${file}', which already defines version ${taken.version.v} of '${taken.props.name}'`, {
            file: props.file,
            line: version.line,
            hint: 'each version needs its own model file: set defined_in: to a different file',
          }),
        );
        continue;
      }
      out.set(file, { props, version, latest });
    }
  }
  return out;
}

/**
 * A `deprecation_date` as dbt stores it (`normalize_date`): an ISO date-time with the
 * offset; a date or a date-time without an offset is read in the local time zone.
 * @throws TsdbtError `properties-invalid` when the text is not a date.
 */
export function normaliseDeprecationDate(text: string, file: string, line?: number): string {
  const t = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  const date = m ? (m[8] ? new Date(t.replace(' ', 'T')) : new Date(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0))) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new TsdbtError('properties-invalid', `deprecation_date '${text}' is not a date`, {
      file,
      line,
      hint: 'write deprecation_date: 2024-12-31 (or a date-time such as 2024-12-31T00:00:00+00:00)',
    });
  }
  if (m?.[8]) return isoWithOffset(date, m[8] === 'Z' ? 0 : offsetMinutes(m[8]));
  return isoWithOffset(date, -date.getTimezoneOffset());
}

function offsetMinutes(o: string): number {
  const d = o.replace(':', '');
  const sign = d.startsWith('-') ? -1 : 1;
  return sign * (Number(d.slice(1, 3)) * 60 + Number(d.slice(3, 5)));
}

/** `2024-01-01T00:00:00+01:00` for `date` shown at UTC offset `offset` minutes (Python's `isoformat()`). */
function isoWithOffset(date: Date, offset: number): string {
  const local = new Date(date.getTime() + offset * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const ms = local.getUTCMilliseconds();
  const frac = ms ? `.${p(ms * 1000, 6)}` : '';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${p(local.getUTCFullYear(), 4)}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}T${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${frac}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

/**
 * dbt's deprecation warnings after linking (`check_for_model_deprecations`): a model past
 * its `deprecation_date` (`DeprecatedModel`), and each model that refs a model with a
 * deprecation date (`DeprecatedReference` when it has passed, `UpcomingReferenceDeprecation`
 * before), naming the referring file and the line of its ref.
 */
export function modelDeprecationWarnings(nodes: Readonly<Record<string, ManifestNode>>, now: Date = new Date()): TsdbtError[] {
  const out: TsdbtError[] = [];
  const children = new Map<string, ManifestNode[]>();
  for (const n of Object.values(nodes)) {
    if (n.resource_type !== 'model') continue;
    for (const p of n.depends_on.nodes) {
      const list = children.get(p);
      if (list) list.push(n);
      else children.set(p, [n]);
    }
  }
  for (const node of Object.values(nodes)) {
    if (node.resource_type !== 'model' || !node.deprecation_date) continue;
    const past = Date.parse(node.deprecation_date) < now.getTime();
    const v = node.version !== undefined && node.version !== null ? `.v${node.version}` : '';
    if (past) {
      out.push(
        new TsdbtError('deprecated-model', `Model ${node.name}${v} has passed its deprecation date of ${node.deprecation_date}. This model should be disabled or removed.`, {
          file: node.original_file_path,
          hint: 'disable or remove the model, or move its deprecation_date',
        }),
      );
    }
    for (const child of children.get(node.unique_id) ?? []) {
      const newer = v && node.latest_version !== undefined && node.latest_version !== null && String(node.version) !== String(node.latest_version);
      const coda = newer
        ? ` A new version of '${node.name}' is available. ${past ? 'Migrate now' : 'Try it out'}: {{ ref('${node.package_name}', '${node.name}', v='${node.latest_version}') }}.`
        : '';
      const ref = child.refs.find((r) => r.name === node.name && (node.version === undefined || node.version === null || String(r.version ?? node.latest_version) === String(node.version)));
      out.push(
        new TsdbtError(
          past ? 'deprecated-reference' : 'upcoming-reference-deprecation',
          `While compiling '${child.name}': Found a reference to ${node.name}${v}, which ${past ? 'was deprecated' : 'is slated for deprecation'} on '${node.deprecation_date}'.${coda}`,
          {
            file: child.original_file_path,
            line: ref?.line,
            hint: newer ? `ref the latest version: {{ ref('${node.name}', v=${JSON.stringify(node.latest_version)}) }}` : `stop referring to '${node.name}' before it is removed`,
          },
        ),
      );
    }
  }
  return out;
}
