/**
 * A source table's `freshness` as dbt computes it (FreshnessThreshold):
 * dbt_project.yml `sources: +freshness` < the source's `freshness:` (or its
 * `config: freshness:`) < the table's, merged key by key (`warn_after`,
 * `error_after` — count and period each — and `filter`); a table's
 * `freshness: null` switches it off. Pure.
 */
import { TsdbtError } from '../errors.ts';

export type FreshnessPeriod = 'minute' | 'hour' | 'day';

/** dbt's Time: `{count, period}`; both null when unset. */
export interface FreshnessTime {
  count: number | null;
  period: FreshnessPeriod | null;
}

/** dbt's FreshnessThreshold, as manifest.json and sources.json write it. */
export interface FreshnessThreshold {
  warn_after: FreshnessTime;
  error_after: FreshnessTime;
  filter: string | null;
}

const PERIODS = new Set(['minute', 'hour', 'day']);
const SECONDS: Record<FreshnessPeriod, number> = { minute: 60, hour: 3600, day: 86400 };

/** Whether `t` is set (dbt's Time: count and period both given). */
export function timeIsSet(t: FreshnessTime | null | undefined): boolean {
  return !!t && t.count !== null && t.period !== null;
}

/** Whether a threshold checks anything (dbt's has_freshness: warn_after or error_after set). */
export function hasFreshness(f: FreshnessThreshold | null | undefined): f is FreshnessThreshold {
  return !!f && (timeIsSet(f.warn_after) || timeIsSet(f.error_after));
}

/**
 * The status for a table whose newest row is `ageSeconds` old, as dbt's
 * FreshnessThreshold.status: `error` past error_after, else `warn` past
 * warn_after, else `pass` (strictly greater than the limit).
 */
export function freshnessStatus(f: FreshnessThreshold, ageSeconds: number): 'pass' | 'warn' | 'error' {
  const exceeded = (t: FreshnessTime) => timeIsSet(t) && ageSeconds > t.count! * SECONDS[t.period!];
  if (exceeded(f.error_after)) return 'error';
  if (exceeded(f.warn_after)) return 'warn';
  return 'pass';
}

type Raw = Record<string, unknown>;

function readTime(v: unknown, key: string, where: { file: string; line?: number }): Partial<FreshnessTime> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new TsdbtError('invalid-freshness', `freshness ${key} must be a mapping with count and period, got ${JSON.stringify(v)}`, { ...where, kind: 'project', hint: `e.g. ${key}: {count: 12, period: hour}` });
  }
  const o = v as Raw;
  const out: Partial<FreshnessTime> = {};
  if (o.count !== undefined && o.count !== null) {
    const n = Number(o.count);
    if (!Number.isInteger(n) || n < 0) throw new TsdbtError('invalid-freshness', `freshness ${key}.count must be a whole number, got ${JSON.stringify(o.count)}`, { ...where, kind: 'project', hint: `e.g. ${key}: {count: 12, period: hour}` });
    out.count = n;
  }
  if (o.period !== undefined && o.period !== null) {
    if (!PERIODS.has(String(o.period))) throw new TsdbtError('invalid-freshness', `freshness ${key}.period must be minute, hour or day, got ${JSON.stringify(o.period)}`, { ...where, kind: 'project', hint: `e.g. ${key}: {count: 12, period: hour}` });
    out.period = String(o.period) as FreshnessPeriod;
  }
  return out;
}

/**
 * Merges freshness layers (lowest precedence first) as dbt's merge_freshness.
 * A layer is `undefined` (not written: inherits), `null` (written
 * `freshness: null`: none from here on, unless a later layer sets one), or a
 * mapping. Null when nothing is left.
 * @throws TsdbtError `invalid-freshness` for a malformed count or period.
 */
export function mergeFreshness(layers: readonly unknown[], where: { file: string; line?: number }): FreshnessThreshold | null {
  let acc: { warn_after: Partial<FreshnessTime>; error_after: Partial<FreshnessTime>; filter: string | null } | null = null;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer === null) {
      acc = null;
      continue;
    }
    if (typeof layer !== 'object' || Array.isArray(layer)) {
      throw new TsdbtError('invalid-freshness', `freshness must be a mapping (warn_after, error_after, filter), got ${JSON.stringify(layer)}`, { ...where, kind: 'project', hint: 'e.g. freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 24, period: hour}}' });
    }
    const o = layer as Raw;
    acc ??= { warn_after: {}, error_after: {}, filter: null };
    for (const key of ['warn_after', 'error_after'] as const) {
      if (key in o && o[key] === null) acc[key] = {};
      else {
        const t = readTime(o[key], key, where);
        if (t) acc[key] = { ...acc[key], ...t };
      }
    }
    if (o.filter !== undefined) acc.filter = o.filter === null ? null : String(o.filter);
  }
  if (!acc) return null;
  const time = (t: Partial<FreshnessTime>): FreshnessTime => ({ count: t.count ?? null, period: t.period ?? null });
  return { warn_after: time(acc.warn_after), error_after: time(acc.error_after), filter: acc.filter };
}
