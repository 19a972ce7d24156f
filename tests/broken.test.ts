/**
 * The broken-projects corpus (issue 5, "Bad input"): one small dbt project per
 * mistake a user can make, under tests/broken/<case>/, each with the message the
 * user must see in tests/broken/<case>/expected.json (see tests/broken/README.md).
 *
 * Every case runs the real CLI (`node bin/tsdbt.mjs <command> --project-dir …
 * --profiles-dir …`) as a child process on a copy of the case, against PGlite
 * and/or the PostgreSQL test server, and asserts what the user would check:
 *   - the exit code (2 project/config error, 1 run-time failure, 0 warnings only);
 *   - every expected fragment (file:line, [code], the what-to-do hint) in stderr,
 *     and `stdout` fragments in stdout;
 *   - no stack trace (`    at …` lines) unless the case runs with --debug, and
 *     never tsdbt's "Internal error" (a crash is a tsdbt bug, not a message);
 *   - `notInOutput`: strings (passwords) absent from stdout, stderr and target/;
 *   - `dbUntouched`: afterwards no schema of the case exists (nothing was written
 *     for a project that does not compile);
 *   - every case that exits 2 (a project, config, profile or usage error: dbt's
 *     ExitCodes.UnhandledError, raised before any node runs) changed nothing in
 *     the database: a snapshot of the case's schemas (relations, their kinds and
 *     row counts) taken before the failing command equals the one after it;
 *   - `before` + `intact`: a good version of the files (the case's before/ folder)
 *     is loaded first with `before.command`; after the failing run the table it
 *     made still holds its rows.
 *
 * Speed (2 cores): the PGlite cases are split over two shared data directories
 * (copies of the initdb'd template); each directory runs its cases one after
 * another, each case in its own schema, and is opened once at the end to check
 * schemas and `intact` tables. PostgreSQL cases run one at a time beside them,
 * each in its own schema, dropped afterwards. All lanes start at once.
 * PostgreSQL follows src/adapters/testing.ts: skipped when unreachable unless
 * TSDBT_REQUIRE_PG=1.
 *
 * A case whose ideal message is not what tsdbt prints yet carries `todo` (the
 * diagnosis): node:test runs it and reports it, without failing the suite.
 *
 * Run: node --import tsx --test tests/broken.test.ts
 * Keep the work directories: BROKEN_KEEP=1. Only some cases: BROKEN_ONLY=ref-cycle,seed-empty.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { freshPgliteDir, pgAvailable, postgresSkipReason } from '../src/adapters/testing.ts';

type AdapterName = 'pglite' | 'postgres';

/** tests/broken/<case>/expected.json */
interface Expected {
  /** What the case is, in one line. */
  readonly about: string;
  /** Arguments after `tsdbt` (the runner appends --project-dir and --profiles-dir). */
  readonly command: readonly string[];
  readonly exit: number;
  /** Fragments that must all appear in stderr. */
  readonly stderr: readonly string[];
  /** Fragments that must all appear in stdout. */
  readonly stdout?: readonly string[];
  /** Strings that must appear nowhere: stdout, stderr, files under target/. */
  readonly notInOutput?: readonly string[];
  /** True when the case runs with --debug and a stack trace is expected. */
  readonly stackTrace?: boolean;
  /** No schema of the case may exist afterwards. */
  readonly dbUntouched?: boolean;
  readonly adapters: readonly AdapterName[];
  /** Run first with the files of before/ laid over the case (must exit 0). */
  readonly before?: { readonly command: readonly string[] };
  /** After the failing run, this table (in the target schema) still has `rows` rows. */
  readonly intact?: { readonly table: string; readonly rows: number };
  /** Extra environment variables for the child process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Why tsdbt does not print the ideal message yet (the test is reported as todo). */
  readonly todo?: string;
}

interface Case {
  readonly name: string;
  readonly dir: string;
  readonly expected: Expected;
}

interface RunOutput {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

interface Outcome {
  readonly schema: string;
  readonly workdir: string;
  readonly before?: RunOutput;
  readonly run?: RunOutput;
  /** Text of every file under target/ after the run (for notInOutput). */
  readonly artifacts?: string;
  /** Set when the runner itself failed for this case. */
  readonly error?: string;
  /** Filled after the lane: schemas of the case that exist. */
  schemasLeft?: string[];
  /** Filled after the lane: row count of `intact.table`, or the error reading it. */
  intactRows?: number | string;
  /** The case's schemas, relations and row counts right before the command ran (after `before`). */
  snapshotBefore?: string[];
  /** The same after the command (PostgreSQL: at once; PGlite: filled after the lane). */
  snapshotAfter?: string[];
}

type Query = <T>(sql: string, params?: unknown[]) => Promise<{ rows: T[] }>;

/**
 * The case's schemas (`schema` and `schema_*`), their relations with kind, and
 * the row count of every table and materialized view: one sorted line each.
 */
async function snapshot(schema: string, query: Query): Promise<string[]> {
  const like = `${schema.replace(/_/g, '\\_')}\\_%`;
  const out: string[] = [];
  const schemas = await query<{ nspname: string }>(`select nspname from pg_namespace where nspname = $1 or nspname like $2`, [schema, like]);
  for (const { nspname } of schemas.rows) out.push(`schema ${nspname}`);
  const rels = await query<{ nspname: string; relname: string; relkind: string }>(
    `select n.nspname, c.relname, c.relkind::text as relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where (n.nspname = $1 or n.nspname like $2) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') order by 1, 2`,
    [schema, like],
  );
  for (const r of rels.rows) {
    let rows = '';
    if (r.relkind === 'r' || r.relkind === 'p' || r.relkind === 'm') {
      const n = await query<{ n: number }>(`select count(*)::int as n from "${r.nspname.replace(/"/g, '""')}"."${r.relname.replace(/"/g, '""')}"`).catch((e: Error) => ({ rows: [{ n: e.message }] }));
      rows = ` ${n.rows[0].n} rows`;
    }
    out.push(`${r.relkind} ${r.nspname}.${r.relname}${rows}`);
  }
  return out.sort();
}

/** Runs `fn` with a connection to the test server. */
async function withPg<T>(fn: (q: Query) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...pgEnv, password: process.env.PGPASSWORD || undefined });
  await client.connect();
  try {
    return await fn((sql, params) => client.query(sql, params as unknown[]) as never);
  } finally {
    await client.end();
  }
}

/** Runs `fn` on a PGlite data directory (opened and closed). */
async function withPglite<T>(dataDir: string, fn: (q: Query) => Promise<T>): Promise<T> {
  const db = new PGlite(dataDir);
  try {
    return await fn((sql, params) => db.query(sql, params) as never);
  } finally {
    await db.close();
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const casesRoot = join(here, 'broken');
const bin = join(repo, 'bin', 'tsdbt.mjs');
const CHILD_TIMEOUT_MS = 90_000;
const keep = process.env.BROKEN_KEEP === '1';

/** The case folders; BROKEN_ONLY=a,b limits the run to those cases (the lanes run only what is asked). */
function loadCases(): Case[] {
  const only = process.env.BROKEN_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  return readdirSync(casesRoot)
    .filter((n) => statSync(join(casesRoot, n)).isDirectory())
    .filter((n) => !only?.length || only.includes(n))
    .sort()
    .map((name) => {
      const dir = join(casesRoot, name);
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
      return { name, dir, expected };
    });
}

const pgEnv = {
  host: process.env.PGHOST || '127.0.0.1',
  port: Number(process.env.PGPORT || 5432),
  user: process.env.PGUSER || 'postgres',
  database: process.env.PGDATABASE || 'test',
};

let schemaSeq = 0;
/** `bk_<pid>_<n>`: unique across concurrent runs; a case's custom schemas start with it plus `_`. */
function caseSchema(): string {
  return `bk_${process.pid}_${++schemaSeq}`;
}

function generatedProfile(adapter: AdapterName, schema: string, pgliteDir: string): string {
  const lines = ['broken:', '  target: dev', '  outputs:', '    dev:'];
  if (adapter === 'pglite') {
    lines.push('      type: pglite', `      path: ${JSON.stringify(pgliteDir)}`, `      schema: ${schema}`, '      threads: 1');
  } else {
    lines.push(
      '      type: postgres',
      `      host: ${pgEnv.host}`,
      `      port: ${pgEnv.port}`,
      `      user: ${pgEnv.user}`,
      ...(process.env.PGPASSWORD ? [`      password: "{{ env_var('PGPASSWORD') }}"`] : []),
      `      dbname: ${pgEnv.database}`,
      `      schema: ${schema}`,
      '      threads: 4',
      '      connect_timeout: 5',
    );
  }
  return lines.join('\n') + '\n';
}

/** A case's own profiles.yml with __PGHOST__, __PGPORT__, __PGUSER__, __PGDATABASE__, __SCHEMA__, __PGLITE_DIR__ filled in. */
function fillProfile(text: string, schema: string, pgliteDir: string): string {
  return text
    .replaceAll('__PGHOST__', pgEnv.host)
    .replaceAll('__PGPORT__', String(pgEnv.port))
    .replaceAll('__PGUSER__', pgEnv.user)
    .replaceAll('__PGDATABASE__', pgEnv.database)
    .replaceAll('__SCHEMA__', schema)
    .replaceAll('__PGLITE_DIR__', pgliteDir);
}

function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const k of ['GITHUB_ACTIONS', 'DBT_PROFILES_DIR', 'FORCE_COLOR', 'NODE_TEST_CONTEXT']) delete env[k];
  for (const k of Object.keys(env)) if (k.startsWith('TSDBT_BROKEN_')) delete env[k];
  return env;
}

function runTsdbt(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunOutput> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Every file under dir, recursively (relative paths). */
function filesUnder(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** Copies the case into a fresh work directory, runs `before` (if any) and the command. */
async function runCase(c: Case, adapter: AdapterName, pgliteDir: string): Promise<Outcome> {
  const schema = caseSchema();
  const workdir = mkdtempSync(join(tmpdir(), `tsdbt-broken-${c.name}-`));
  try {
    cpSync(c.dir, workdir, {
      recursive: true,
      filter: (src) => {
        const rel = relative(c.dir, src);
        return rel !== 'expected.json' && rel !== 'before' && !rel.startsWith('before/');
      },
    });
    const profile = join(workdir, 'profiles.yml');
    if (existsSync(profile)) writeFileSync(profile, fillProfile(readFileSync(profile, 'utf8'), schema, pgliteDir));
    else writeFileSync(profile, generatedProfile(adapter, schema, pgliteDir));
    const env = childEnv(c.expected.env);
    const flags = ['--project-dir', workdir, '--profiles-dir', workdir];

    let beforeOut: RunOutput | undefined;
    if (c.expected.before) {
      const beforeDir = join(c.dir, 'before');
      const overlaid = filesUnder(beforeDir);
      cpSync(beforeDir, workdir, { recursive: true });
      beforeOut = await runTsdbt([...c.expected.before.command, ...flags], workdir, env);
      // Put the case's own (bad) version of every overlaid file back.
      for (const rel of overlaid) {
        const own = join(c.dir, rel);
        if (existsSync(own)) cpSync(own, join(workdir, rel));
        else rmSync(join(workdir, rel));
      }
      if (beforeOut.code !== 0) return { schema, workdir, before: beforeOut };
    }
    // PGlite: a case without `before` starts from no schema at all; with it, the directory is opened to look.
    const snapshotBefore =
      adapter === 'postgres'
        ? await withPg((q) => snapshot(schema, q))
        : c.expected.before
          ? await withPglite(pgliteDir, (q) => snapshot(schema, q))
          : [];
    const run = await runTsdbt([...c.expected.command, ...flags], workdir, env);
    const snapshotAfter = adapter === 'postgres' ? await withPg((q) => snapshot(schema, q)) : undefined;
    const artifacts = filesUnder(join(workdir, 'target'))
      .map((f) => readFileSync(join(workdir, 'target', f), 'utf8'))
      .join('\n');
    return { schema, workdir, before: beforeOut, run, artifacts, snapshotBefore, snapshotAfter };
  } catch (e) {
    return { schema, workdir, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function belongsTo(schema: string, nspname: string): boolean {
  return nspname === schema || nspname.startsWith(schema + '_');
}

interface Lane {
  readonly outcomes: Map<string, Outcome>;
  readonly seconds: number;
  cleanup(): Promise<void>;
}

/**
 * PGlite: the cases split over `dirs` data directories (copies of the template);
 * each directory runs its cases one after another (PGlite has one session and
 * tsdbt locks the directory). Schemas and intact tables are checked with one
 * open of each directory at the end.
 */
async function pgliteLane(cases: readonly Case[], dirs: number): Promise<Lane> {
  const t0 = performance.now();
  const outcomes = new Map<string, Outcome>();
  const groups = Array.from({ length: Math.max(1, Math.min(dirs, cases.length)) }, (_, i) => cases.filter((_, j) => j % dirs === i));
  const dataDirs: string[] = [];
  await Promise.all(
    groups.map(async (group) => {
      const dataDir = await freshPgliteDir();
      dataDirs.push(dataDir);
      for (const c of group) outcomes.set(c.name, await runCase(c, 'pglite', dataDir));
      const db = new PGlite(dataDir);
      try {
        const { rows } = await db.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like 'bk\\_%'`);
        for (const c of group) {
          const o = outcomes.get(c.name)!;
          o.schemasLeft = rows.map((r) => r.nspname).filter((n) => belongsTo(o.schema, n));
          if (c.expected.intact) o.intactRows = await countRows(c.expected.intact.table, o.schema, (sql) => db.query<{ n: number }>(sql));
          o.snapshotAfter = await snapshot(o.schema, (sql, params) => db.query(sql, params) as never);
        }
      } finally {
        await db.close();
      }
    }),
  );
  return {
    outcomes,
    seconds: (performance.now() - t0) / 1000,
    async cleanup() {
      for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
      if (!keep) for (const o of outcomes.values()) rmSync(o.workdir, { recursive: true, force: true });
    },
  };
}

async function countRows(table: string, schema: string, query: (sql: string) => Promise<{ rows: { n: number }[] }>): Promise<number | string> {
  try {
    const r = await query(`select count(*)::int as n from "${schema}"."${table}"`);
    return r.rows[0].n;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** PostgreSQL: one case at a time (the PGlite lanes use the other core), each in its own schema; the schemas are dropped in cleanup. */
async function postgresLane(cases: readonly Case[]): Promise<Lane> {
  const t0 = performance.now();
  if (!(await pgAvailable())) {
    throw new Error(`PostgreSQL is required (TSDBT_REQUIRE_PG=1) but not reachable at ${pgEnv.host}:${pgEnv.port} (database ${pgEnv.database}, user ${pgEnv.user})`);
  }
  const outcomes = new Map<string, Outcome>();
  const results = await pool(cases, 1, (c) => runCase(c, 'postgres', ''));
  cases.forEach((c, i) => outcomes.set(c.name, results[i]));
  const client = new pg.Client({ ...pgEnv, password: process.env.PGPASSWORD || undefined });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like 'bk\\_${process.pid}\\_%'`);
    for (const c of cases) {
      const o = outcomes.get(c.name)!;
      o.schemasLeft = rows.map((r) => r.nspname).filter((n) => belongsTo(o.schema, n));
      if (c.expected.intact) o.intactRows = await countRows(c.expected.intact.table, o.schema, (sql) => client.query<{ n: number }>(sql));
    }
  } finally {
    await client.end();
  }
  return {
    outcomes,
    seconds: (performance.now() - t0) / 1000,
    async cleanup() {
      const c = new pg.Client({ ...pgEnv, password: process.env.PGPASSWORD || undefined });
      await c.connect();
      try {
        const { rows } = await c.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like 'bk\\_${process.pid}\\_%'`);
        for (const r of rows) await c.query(`drop schema if exists "${r.nspname}" cascade`);
      } finally {
        await c.end();
      }
      if (!keep) for (const o of outcomes.values()) rmSync(o.workdir, { recursive: true, force: true });
    },
  };
}

/** The run's output, for assertion messages. */
function shown(o: Outcome): string {
  const part = (label: string, r?: RunOutput) =>
    r ? `--- ${label}: exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''} in ${(r.ms / 1000).toFixed(2)}s\n[stderr]\n${r.stderr}[stdout]\n${r.stdout}` : '';
  return [`work dir ${o.workdir}, schema ${o.schema}`, part('before', o.before), part('run', o.run), o.error ? `runner error: ${o.error}` : '']
    .filter(Boolean)
    .join('\n');
}

const STACK_LINE = /^\s+at \S/m;

/** Asserts everything expected.json says about one outcome. */
function check(c: Case, o: Outcome): void {
  const e = c.expected;
  const ctx = () => `\n\n${c.name}: ${e.about}\n${shown(o)}`;
  assert.equal(o.error, undefined, `the test runner failed${ctx()}`);
  if (e.before) assert.equal(o.before?.code, 0, `the good version (before/) should load with exit 0${ctx()}`);
  const r = o.run!;
  assert.ok(r, `the command did not run${ctx()}`);
  const all = r.stderr + r.stdout;
  assert.ok(!all.includes('Internal error in tsdbt'), `tsdbt crashed instead of reporting a user error${ctx()}`);
  assert.equal(r.code, e.exit, `exit code${ctx()}`);
  for (const f of e.stderr) assert.ok(r.stderr.includes(f), `stderr should contain ${JSON.stringify(f)}${ctx()}`);
  for (const f of e.stdout ?? []) assert.ok(r.stdout.includes(f), `stdout should contain ${JSON.stringify(f)}${ctx()}`);
  if (e.stackTrace) assert.ok(STACK_LINE.test(r.stderr), `--debug should print the stack trace${ctx()}`);
  else assert.ok(!STACK_LINE.test(all), `no stack trace without --debug${ctx()}`);
  for (const s of e.notInOutput ?? []) {
    assert.ok(!all.includes(s), `${JSON.stringify(s)} must not be printed${ctx()}`);
    assert.ok(!(o.artifacts ?? '').includes(s), `${JSON.stringify(s)} must not be written under target/${ctx()}`);
  }
  if (e.exit === 2) {
    // dbt exits 2 (ExitCodes.UnhandledError) for errors raised outside the nodes: nothing may have been written.
    assert.ok(o.snapshotBefore && o.snapshotAfter, `no database snapshot taken${ctx()}`);
    assert.deepEqual(o.snapshotAfter, o.snapshotBefore, `a command that exits 2 must not change the database${ctx()}`);
  }
  if (e.dbUntouched) {
    assert.deepEqual(o.schemasLeft, [], `nothing may be written to the database (schemas of the case exist afterwards)${ctx()}`);
  }
  if (e.intact) {
    assert.equal(o.intactRows, e.intact.rows, `the previously loaded ${e.intact.table} should still hold ${e.intact.rows} rows${ctx()}`);
  }
}

const cases = loadCases();
const byAdapter = (a: AdapterName) => cases.filter((c) => c.expected.adapters.includes(a));
const pgSkip = await postgresSkipReason();

// Both lanes start now and run side by side; each suite waits for its own.
// A lane never rejects unhandled: its failure is rethrown in the suite's `before`.
const settle = (p: Promise<Lane>) => p.then((lane) => ({ lane }), (error: unknown) => ({ error }));
const lanes: Record<AdapterName, Promise<{ lane?: Lane; error?: unknown }> | undefined> = {
  pglite: settle(pgliteLane(byAdapter('pglite'), 2)),
  postgres: pgSkip ? undefined : settle(postgresLane(byAdapter('postgres'))),
};

for (const adapter of ['pglite', 'postgres'] as const) {
  describe(`broken projects on ${adapter}`, { skip: adapter === 'postgres' ? pgSkip : undefined }, () => {
    let lane: Lane | undefined;
    before(async () => {
      const r = await lanes[adapter]!;
      if (r.error) throw r.error;
      lane = r.lane;
      const slowest = [...lane!.outcomes]
        .map(([name, o]) => [name, ((o.before?.ms ?? 0) + (o.run?.ms ?? 0)) / 1000] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([name, s]) => `${name} ${s.toFixed(1)}s`);
      console.log(`# broken projects on ${adapter}: ${lane!.outcomes.size} cases in ${lane!.seconds.toFixed(1)}s (slowest: ${slowest.join(', ')})`);
    });
    after(async () => {
      await lane?.cleanup();
    });
    for (const c of byAdapter(adapter)) {
      it(c.name, { todo: c.expected.todo }, () => {
        check(c, lane!.outcomes.get(c.name)!);
      });
    }
  });
}

describe('broken projects corpus', () => {
  it('has at least 30 cases, each with a message, an exit code and an engine', () => {
    if (!process.env.BROKEN_ONLY) assert.ok(cases.length >= 30, `only ${cases.length} cases`);
    for (const c of cases) {
      assert.ok(c.expected.stderr.length > 0, `${c.name}: no expected message`);
      assert.ok([0, 1, 2].includes(c.expected.exit), `${c.name}: exit ${c.expected.exit}`);
      assert.ok(c.expected.adapters.length > 0, `${c.name}: no adapters`);
      assert.ok(!c.expected.before || existsSync(join(c.dir, 'before')), `${c.name}: before without a before/ folder`);
    }
  });
});
