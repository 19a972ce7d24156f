/**
 * dbt's Relation as seen from Jinja: `{{ this }}`, `{{ ref('x') }}` and
 * `{{ source('a', 'b') }}` evaluate to one. It renders as
 * `"database"."schema"."identifier"` (dbt-postgres's default include and
 * quote policy) and exposes `.database`, `.schema`, `.identifier`, `.name`,
 * `.table`, `.render()`, `.include()`, `.quote()` and `.incorporate()`.
 */
import { PY_MAPPING } from '../jinja/index.ts';

/** Quotes an identifier as Postgres (and pg's escapeIdentifier) does. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export interface RelationParts {
  readonly database?: string | null;
  readonly schema?: string | null;
  readonly identifier: string;
  /** 'table' | 'view' | 'cte' | … when known. */
  readonly type?: string | null;
}

/**
 * A dbt Relation object for templates. Immutable; `include`/`incorporate`
 * return copies. Like dbt-adapters' BaseRelation it is a Mapping (`is
 * mapping`, `.get('metadata')` → `{'type': 'PostgresRelation'}`), which
 * packages use to recognise a relation (dbt_utils' `_is_relation`).
 */
export class JinjaRelation {
  readonly [PY_MAPPING] = true;
  readonly database: string | null;
  readonly schema: string | null;
  readonly identifier: string;
  readonly type: string | null;
  readonly includePolicy: { database: boolean; schema: boolean; identifier: boolean };
  /** For ephemeral models: the CTE name renders unquoted and unqualified. */
  readonly isCte: boolean;
  /**
   * dbt's relation `limit` (`--empty` sets 0 on ref() and source()): when not
   * null the relation renders as `(select * from x where false limit 0)
   * _dbt_limit_subq_<identifier>` (dbt-adapters' render_limited).
   */
  readonly limit: number | null;

  constructor(parts: RelationParts, include = { database: true, schema: true, identifier: true }, isCte = false, limit: number | null = null) {
    this.limit = limit;
    this.database = parts.database ?? null;
    this.schema = parts.schema ?? null;
    this.identifier = parts.identifier;
    this.type = parts.type ?? null;
    this.includePolicy = include;
    this.isCte = isCte;
  }

  get name(): string {
    return this.identifier;
  }
  get table(): string {
    return this.identifier;
  }
  get is_table(): boolean {
    return this.type === 'table';
  }
  get is_view(): boolean {
    return this.type === 'view';
  }
  get is_cte(): boolean {
    return this.isCte;
  }

  /** dbt's Mapping view of a relation: `path`, `type`, `metadata`, `database`/`schema`/`identifier`. */
  get(key: unknown, fallback: unknown = null): unknown {
    switch (String(key)) {
      case 'metadata':
        return { type: 'PostgresRelation' };
      case 'path':
        return { database: this.database, schema: this.schema, identifier: this.identifier };
      case 'type':
        return this.type;
      case 'database':
        return this.database;
      case 'schema':
        return this.schema;
      case 'identifier':
        return this.identifier;
      default:
        return fallback;
    }
  }

  /** `.without_identifier()`: the schema as a relation (dbt's), e.g. for list_relations_without_caching. */
  without_identifier(): JinjaRelation {
    return new JinjaRelation({ database: this.database, schema: this.schema, identifier: '' }, { ...this.includePolicy, identifier: false }, false);
  }

  render(): string {
    if (this.isCte) return this.identifier;
    const parts: string[] = [];
    if (this.includePolicy.database && this.database) parts.push(quoteIdent(this.database));
    if (this.includePolicy.schema && this.schema) parts.push(quoteIdent(this.schema));
    if (this.includePolicy.identifier) parts.push(quoteIdent(this.identifier));
    const pure = parts.join('.');
    if (this.limit === null) return pure;
    const sub = `_dbt_limit_subq_${this.identifier}`;
    return this.limit === 0 ? `(select * from ${pure} where false limit 0) ${sub}` : `(select * from ${pure} limit ${this.limit}) ${sub}`;
  }

  /** A copy that renders limited to `limit` rows (dbt's `--empty`: 0); ephemeral CTEs are never limited. */
  withLimit(limit: number | null): JinjaRelation {
    return this.isCte ? this : new JinjaRelation(this, this.includePolicy, false, limit);
  }

  toString(): string {
    return this.render();
  }

  /** `include(database=False)` etc. Accepts nunjucks keyword objects. */
  include(opts: Record<string, unknown> = {}): JinjaRelation {
    const p = { ...this.includePolicy };
    for (const k of ['database', 'schema', 'identifier'] as const) if (typeof opts[k] === 'boolean') p[k] = opts[k] as boolean;
    return new JinjaRelation(this, p, this.isCte, this.limit);
  }

  /** Quoting is always on for Postgres in tsdbt; kept for template compatibility. */
  quote(): JinjaRelation {
    return this;
  }

  incorporate(opts: Record<string, unknown> = {}): JinjaRelation {
    const path = (opts.path ?? {}) as Record<string, string>;
    return new JinjaRelation(
      {
        database: path.database ?? this.database,
        schema: path.schema ?? this.schema,
        identifier: path.identifier ?? this.identifier,
        type: (opts.type as string) ?? this.type,
      },
      this.includePolicy,
      this.isCte,
      this.limit,
    );
  }
}
