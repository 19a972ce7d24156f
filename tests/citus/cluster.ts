/**
 * Harness of the Citus tests: a tsdbt project in a temp dir whose profiles.yml has a target `citus` (the
 * coordinator of the local cluster, ../shared/citus/citus-cluster.sh, default 127.0.0.1:5601) and a target `pg`
 * (the plain PostgreSQL server of the other tests, 127.0.0.1:5432, database test), each with the same unique
 * schema; the real CLI as a child process; SQL on either server with node-postgres.
 *
 * Availability: without a reachable coordinator that has the citus extension the suites are skipped with a
 * reason, unless TSDBT_REQUIRE_CITUS=1 (set by .ci/run), when {@link citusSkipReason} returns undefined and the
 * tests fail on the connection. CITUS_PORT overrides the coordinator's port.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { uniqueSchemaName } from '../../src/adapters/testing.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'tsdbt.mjs');
/** The shared scripts that build Citus and start a local cluster (outside the repository). */
export const CITUS_SCRIPTS = resolve(REPO_ROOT, '..', 'shared', 'citus');

/** Where a server listens. */
export interface Server {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dbname: string;
}

/** The coordinator of the shared test cluster. */
export const COORDINATOR: Server = { host: '127.0.0.1', port: Number(process.env.CITUS_PORT || 5601), user: 'postgres', dbname: 'postgres' };
/** The plain PostgreSQL server of the other tests. */
export const PLAIN_PG: Server = {
  host: process.env.PGHOST || '127.0.0.1',
  port: Number(process.env.PGPORT || 5432),
  user: process.env.PGUSER || 'postgres',
  dbname: process.env.PGDATABASE || 'test',
};

/** Runs `sql` (with optional parameters) on `server` on a fresh connection; returns the rows. */
export async function sql<Row = Record<string, any>>(server: Server, text: string, params?: unknown[]): Promise<Row[]> {
  const c = new pg.Client({ ...server, database: server.dbname, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(text, params as unknown[])).rows as Row[];
  } finally {
    await c.end();
  }
}

/**
 * Why the Citus suites cannot run here (no coordinator answering on `server`, or no citus extension there),
 * or undefined when they can — and always undefined under TSDBT_REQUIRE_CITUS=1, so CI fails instead of skipping.
 */
export async function citusSkipReason(server: Server = COORDINATOR): Promise<string | undefined> {
  if (process.env.TSDBT_REQUIRE_CITUS === '1') return undefined;
  try {
    const r = await sql(server, "select extversion from pg_extension where extname = 'citus'");
    if (r.length === 0) return `no citus extension on ${server.host}:${server.port}`;
    return undefined;
  } catch (e) {
    return `no Citus coordinator on ${server.host}:${server.port} (${(e as Error).message}); start one with bash ../shared/citus/citus-cluster.sh start`;
  }
}

/** What a CLI run returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Everything, for assertion messages. */
  readonly output: string;
}

/** A project directory with a `citus` and a `pg` target sharing one unique schema name. */
export class CitusProject {
  readonly dir: string;
  readonly schema: string;
  private constructor(dir: string, schema: string) {
    this.dir = dir;
    this.schema = schema;
  }

  /**
   * Writes `files` (or copies `fromDir`'s dbt project files when given) into a new temp dir plus a profiles.yml
   * for profile `profile`, with targets `citus` (the coordinator at `coordinator`) and `pg`.
   */
  static create(opts: { files?: Record<string, string>; fromRepo?: boolean; profile: string; coordinator?: Server; threads?: number }): CitusProject {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-citus-'));
    const schema = uniqueSchemaName('citus');
    if (opts.fromRepo) {
      for (const f of ['dbt_project.yml', 'models', 'seeds', 'macros', 'tests/data_quality']) cpSync(join(REPO_ROOT, f), join(dir, f), { recursive: true });
    }
    const p = new CitusProject(dir, schema);
    p.write(opts.files ?? {});
    const co = opts.coordinator ?? COORDINATOR;
    const target = (s: Server) =>
      `      type: postgres\n      host: ${s.host}\n      port: ${s.port}\n      user: ${s.user}\n      dbname: ${s.dbname}\n      schema: ${schema}\n      threads: ${opts.threads ?? 4}\n      connect_timeout: 5\n      retries: 0\n`;
    p.write({ 'profiles.yml': `${opts.profile}:\n  target: citus\n  outputs:\n    citus:\n${target(co)}    pg:\n${target(PLAIN_PG)}` });
    return p;
  }

  /** Writes (or overwrites) files relative to the project. */
  write(files: Record<string, string>): void {
    for (const [rel, content] of Object.entries(files)) {
      const p = join(this.dir, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
  }

  /** Appends text to a project file (e.g. new raw rows to a seed). */
  append(rel: string, text: string): void {
    const p = join(this.dir, rel);
    writeFileSync(p, readFileSync(p, 'utf8') + text);
  }

  /** Runs `node bin/tsdbt.mjs <command> --project-dir … --profiles-dir … …args`; never throws for a non-zero exit. */
  cli(command: string, args: readonly string[] = [], opts: { onStdout?: (all: string) => void } = {}): Promise<CliResult> {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
    delete env.GITHUB_ACTIONS;
    delete env.DBT_PROFILES_DIR;
    delete env.TSDBT_PROFILES_DIR;
    delete env.FORCE_COLOR;
    const argv = [BIN, ...command.split(' '), '--project-dir', this.dir, '--profiles-dir', this.dir, ...args];
    return new Promise((resolveP, reject) => {
      const child = spawn(process.execPath, argv, { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        opts.onStdout?.(stdout);
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const c = code ?? (signal ? 128 : 1);
        resolveP({ code: c, stdout, stderr, output: `exit ${c}\n--- stdout\n${stdout}\n--- stderr\n${stderr}` });
      });
    });
  }

  /** Drops the schema and every `<schema>_*` schema on `servers`, then deletes the directory. Errors are ignored. */
  async cleanup(servers: readonly Server[]): Promise<void> {
    for (const s of servers) {
      try {
        const rows = await sql<{ nspname: string }>(s, `select nspname from pg_namespace where nspname = $1 or starts_with(nspname, $1 || '_')`, [this.schema]);
        for (const { nspname } of rows) await sql(s, `drop schema if exists "${nspname}" cascade`);
      } catch {
        /* a stopped test cluster */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every base table in the schemas of `schema` (the schema itself and `<schema>_*`) on `server`, as `schema.table`. */
export async function tablesOf(server: Server, schema: string): Promise<string[]> {
  const rows = await sql<{ t: string }>(
    server,
    `select table_schema || '.' || table_name as t from information_schema.tables
      where (table_schema = $1 or starts_with(table_schema, $1 || '_')) and table_type = 'BASE TABLE' order by 1`,
    [schema],
  );
  return rows.map((r) => r.t);
}

/**
 * Compares a table on two servers with `except all` both ways: the rows of `table` on `expected` are copied (as
 * jsonb, `to_jsonb(row)`) into a temporary table on `actual`'s session, then
 * `(actual except all expected)` and `(expected except all actual)` are counted there.
 * Returns `{ missing, extra }` (rows only on `expected` / only on `actual`); both 0 when the tables are equal as multisets.
 */
export async function compareTable(actual: Server, expected: Server, table: string): Promise<{ missing: number; extra: number; rows: number }> {
  const want = await sql<{ r: unknown }>(expected, `select to_jsonb(t) as r from ${table} t`);
  const c = new pg.Client({ ...actual, database: actual.dbname });
  await c.connect();
  try {
    await c.query('create temporary table expected_rows (r jsonb)');
    if (want.length) await c.query('insert into expected_rows select * from unnest($1::jsonb[])', [want.map((w) => JSON.stringify(w.r))]);
    const extra = (await c.query(`select count(*)::int as n from (select to_jsonb(t) from ${table} t except all select r from expected_rows) x`)).rows[0].n;
    const missing = (await c.query(`select count(*)::int as n from (select r from expected_rows except all select to_jsonb(t) from ${table} t) x`)).rows[0].n;
    return { missing, extra, rows: want.length };
  } finally {
    await c.end();
  }
}

/** `citus_tables` rows of the tables in `schema`'s schemas: `schema.table` → `{ type, column, colocation }`. */
export async function citusTables(server: Server, schema: string): Promise<Record<string, { type: string; column: string; colocation: number }>> {
  const rows = await sql<{ t: string; type: string; col: string; colocation: number }>(
    server,
    `select n.nspname || '.' || c.relname as t, ct.citus_table_type as type, ct.distribution_column as col, ct.colocation_id::int as colocation
       from citus_tables ct join pg_class c on c.oid = ct.table_name join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 or starts_with(n.nspname, $1 || '_')`,
    [schema],
  );
  return Object.fromEntries(rows.map((r) => [r.t, { type: r.type, column: r.col, colocation: r.colocation }]));
}

/** Runs one of the shared Citus scripts (`build-citus.sh`, `citus-cluster.sh …`); throws with its output on failure. */
export function citusScript(script: string, args: readonly string[] = []): string {
  const r = spawnSync('bash', [join(CITUS_SCRIPTS, script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
