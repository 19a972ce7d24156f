/**
 * Seed value classification: which SQL type a CSV value asks for, and how types
 * combine down a column. Mirrors dbt-postgres's agate type tester where it can
 * (see infer-seed-columns.ts for the differences).
 */

/** A column's inferred kind. `null`: no non-empty value seen yet. */
export type SeedKind = 'null' | 'integer' | 'bigint' | 'numeric' | 'boolean' | 'date' | 'timestamp' | 'timestamptz' | 'text';

/** The SQL type written in CREATE TABLE for each kind (an all-empty column is text). */
export const SQL_TYPE: Record<SeedKind, string> = {
  null: 'text',
  integer: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  text: 'text',
};

/** The kind for an SQL type this module produced, or undefined for any other (declared) type. */
export function kindOfSqlType(type: string): SeedKind | undefined {
  for (const [k, t] of Object.entries(SQL_TYPE) as [SeedKind, string][]) if (k !== 'null' && t === type) return k;
  return undefined;
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const TS_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const BOOL_RE = /^(?:true|false)$/i;

const INT4_MAX = 2147483647n;
const INT4_MIN = -2147483648n;
const INT8_MAX = 9223372036854775807n;
const INT8_MIN = -9223372036854775808n;

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1];
}

/**
 * The kind one CSV value (already unquoted) asks for.
 * - '' → null (an empty field is NULL; it does not decide the type).
 * - whole numbers → integer when they fit int4, bigint when they fit int8, else numeric.
 * - decimals / exponents → numeric.
 * - true/false, any case → boolean (agate as configured by dbt accepts only these).
 * - YYYY-MM-DD (a real calendar day) → date.
 * - date + `T` or space + HH:MM[:SS[.fff]] → timestamp; with a zone (Z, ±HH, ±HHMM, ±HH:MM) → timestamptz.
 * - anything else (including whitespace-only, NaN, 1,000, $5) → text.
 * Surrounding spaces are ignored for the typed kinds, as both agate and Postgres's input functions do.
 */
export function classifyValue(raw: string): SeedKind {
  if (raw === '') return 'null';
  const v = raw.trim();
  if (v === '') return 'text';
  const c = v.charCodeAt(0);
  const digitOrSign = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
  if (digitOrSign) {
    if (INT_RE.test(v)) {
      if (v.length < 10) return 'integer';
      const n = BigInt(v);
      if (n >= INT4_MIN && n <= INT4_MAX) return 'integer';
      if (n >= INT8_MIN && n <= INT8_MAX) return 'bigint';
      return 'numeric';
    }
    if (NUM_RE.test(v)) return 'numeric';
    let m = DATE_RE.exec(v);
    if (m) return validDate(+m[1], +m[2], +m[3]) ? 'date' : 'text';
    m = TS_RE.exec(v);
    if (m) {
      if (!validDate(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return 'text';
      return m[7] === undefined ? 'timestamp' : 'timestamptz';
    }
    return 'text';
  }
  if (BOOL_RE.test(v)) return 'boolean';
  return 'text';
}

const NUMERIC_RANK: Partial<Record<SeedKind, number>> = { integer: 1, bigint: 2, numeric: 3 };
const TIME_RANK: Partial<Record<SeedKind, number>> = { date: 1, timestamp: 2, timestamptz: 3 };

/**
 * The narrowest kind holding values of both kinds: integer ⊂ bigint ⊂ numeric,
 * date ⊂ timestamp ⊂ timestamptz, null ⊂ everything; any other mix is text.
 */
export function joinKinds(a: SeedKind, b: SeedKind): SeedKind {
  if (a === b || b === 'null') return a;
  if (a === 'null') return b;
  const na = NUMERIC_RANK[a];
  const nb = NUMERIC_RANK[b];
  if (na && nb) return na >= nb ? a : b;
  const ta = TIME_RANK[a];
  const tb = TIME_RANK[b];
  if (ta && tb) return ta >= tb ? a : b;
  return 'text';
}
