/**
 * End-to-end test harness: a dbt project in a temp dir, a profiles.yml for one
 * engine, the real `tsdbt` CLI as a child process, and SQL afterwards.
 *
 * ```ts
 * import { it, before, after } from 'node:test';
 * import { describeEngines, Project } from './harness.ts';
 *
 * await describeEngines('my scenario', (engine) => {
 *   let p: Project;
 *   before(async () => { p = await Project.create(engine, { 'dbt_project.yml': '…', 'models/a.sql': 'select 1 as x' }); });
 *   after(async () => { await p?.cleanup(); });
 *   it('builds', async () => {
 *     const r = await p.cli('build');
 *     assert.equal(r.code, 0, r.output);
 *     assert.deepEqual(await p.rows('select x from a'), [{ x: 1 }]);   // unqualified names → the target schema
 *   });
 * });
 * ```
 *
 * Engines (the availability convention of src/adapters/testing.ts):
 * - postgres: 127.0.0.1:5432, user postgres, database test (PG* env vars override), a
 *   unique target schema per Project; `cleanup()` drops it and every `<schema>_*` schema
 *   (custom schemas, the test audit schema). Unreachable server → the suite is skipped,
 *   unless TSDBT_REQUIRE_PG=1, when `Project.create` fails.
 * - pglite: ONE data directory per test process (a copy of the initdb'd template),
 *   shared by every Project of the file — each Project has its own schema in it; it is
 *   deleted when the process exits. The CLI and `query()` never hold it at once: query()
 *   opens, queries and closes the adapter (PGlite locks its directory while open).
 */
import { describe } from 'node:test';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdapter } from '../../src/adapters/index.ts';
import type { Adapter } from '../../src/adapters/adapter.ts';
import type { TargetConfig } from '../../src/config/types.ts';
import { freshPgliteDir, pgAvailable, pgliteTargetForDir, postgresSkipReason, postgresTarget, uniqueSchemaName } from '../../src/adapters/testing.ts';

/** Repository root (holds bin/tsdbt.mjs). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'tsdbt.mjs');
/** tests/fixtures. */
export const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures');

export type EngineName = 'postgres' | 'pglite';

/** One database engine every scenario runs on. */
export interface Engine {
  readonly name: EngineName;
  /** A reason to skip (postgres unreachable and TSDBT_REQUIRE_PG unset), else undefined. */
  skipReason(): Promise<string | undefined>;
}

/** postgres first, then pglite. */
export const ENGINES: readonly Engine[] = [
  { name: 'postgres', skipReason: postgresSkipReason },
  { name: 'pglite', skipReason: async () => undefined },
];

/**
 * Declares `<title> on postgres` and `<title> on pglite` suites, running the two
 * engines' suites side by side (their tests stay sequential, in order). Call with
 * top-level await. An engine that must be skipped (see {@link Engine.skipReason}) is
 * reported as skipped. Only one pglite suite runs at a time (suites declared by
 * separate calls run one after the other), so they can share the data directory.
 */
export async function describeEngines(title: string, body: (engine: Engine) => void): Promise<void> {
  const skips = await Promise.all(ENGINES.map((e) => e.skipReason()));
  describe(title, { concurrency: ENGINES.length }, () => {
    ENGINES.forEach((engine, i) => {
      describe(`${title} on ${engine.name}`, { skip: skips[i], concurrency: 1 }, () => body(engine));
    });
  });
}

/** What a CLI invocation left behind. `output` is stdout + stderr (for assertion messages). */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
}

/** A project's files: path relative to the project → content. */
export type Files = Record<string, string>;

let sharedPglite: Promise<string> | undefined;
/** The process's shared PGlite data directory (created on first use, removed on exit). */
function pgliteDir(): Promise<string> {
  sharedPglite ??= freshPgliteDir().then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return sharedPglite;
}

/** Reads every file under tests/fixtures/<name> into a Files map. */
export function fixture(name: string): Files {
  const root = join(FIXTURES, name);
  const out: Files = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return out;
}

/** A minimal dbt_project.yml; `extra` is appended verbatim (YAML). */
export function projectYml(name: string, extra = ''): string {
  return `name: ${name}\nversion: '1.0.0'\nconfig-version: 2\nprofile: ${name}\n${extra}`;
}

/** A fixture project on one engine. Create with {@link Project.create}; always `cleanup()`. */
export class Project {
  readonly engine: EngineName;
  /** The project directory (also holds profiles.yml). */
  readonly dir: string;
  /** The target schema (unique to this Project). */
  readonly schema: string;
  /** The target as tsdbt would load it (for createAdapter). */
  readonly target: TargetConfig;
  private readonly profileName: string;
  private cleaned = false;

  private constructor(engine: EngineName, dir: string, schema: string, target: TargetConfig, profileName: string) {
    this.engine = engine;
    this.dir = dir;
    this.schema = schema;
    this.target = target;
    this.profileName = profileName;
  }

  /**
   * Writes `files` into a new temp dir and a profiles.yml (profile named after the
   * `profile:` in dbt_project.yml) with one target `dev` on `engine`.
   * @throws Error when postgres is required (TSDBT_REQUIRE_PG=1) but unreachable.
   */
  static async create(engine: Engine | EngineName, files: Files, opts: { threads?: number } = {}): Promise<Project> {
    const name = typeof engine === 'string' ? engine : engine.name;
    const dir = mkdtempSync(join(tmpdir(), `tsdbt-it-${name}-`));
    const schema = uniqueSchemaName('it');
    let target: TargetConfig;
    if (name === 'postgres') {
      if (!(await pgAvailable())) {
        throw new Error('PostgreSQL is required (TSDBT_REQUIRE_PG=1) but not reachable at 127.0.0.1:5432 (user postgres, database test)');
      }
      target = postgresTarget(schema, { name: 'dev', threads: opts.threads ?? 4 });
    } else {
      target = pgliteTargetForDir(await pgliteDir(), schema, { name: 'dev', threads: opts.threads ?? 1 });
    }
    const profile = /^profile:\s*['"]?([\w-]+)/m.exec(files['dbt_project.yml'] ?? '')?.[1] ?? 'default';
    const p = new Project(name, dir, schema, target, profile);
    p.write(files);
    p.writeProfile();
    return p;
  }

  /** The profiles.yml this Project uses (written at creation; call again after changing threads etc.). */
  writeProfile(overrides: Record<string, string | number> = {}): void {
    const t = this.target;
    const fields: Record<string, string | number> =
      t.type === 'postgres'
        ? { type: 'postgres', host: t.host!, port: t.port!, user: t.user!, dbname: t.dbname!, schema: t.schema, threads: t.threads, connect_timeout: 5 }
        : { type: 'pglite', path: t.dataDir!, schema: t.schema, threads: t.threads };
    if (t.type === 'postgres' && t.password) fields.password = t.password;
    Object.assign(fields, overrides);
    const body = Object.entries(fields)
      .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
      .join('\n');
    writeFileSync(join(this.dir, 'profiles.yml'), `${this.profileName}:\n  target: dev\n  outputs:\n    dev:\n${body}\n`);
  }

  /** Writes (or overwrites) files; `null` deletes one. */
  write(files: Record<string, string | null>): void {
    for (const [rel, content] of Object.entries(files)) {
      const p = join(this.dir, rel);
      if (content === null) {
        rmSync(p, { force: true });
        continue;
      }
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
  }

  /** Appends to a file (e.g. rows to a seed CSV). */
  append(rel: string, text: string): void {
    const p = join(this.dir, rel);
    writeFileSync(p, readFileSync(p, 'utf8') + text);
  }

  /** A project file's content, or null when it does not exist. */
  read(rel: string): string | null {
    const p = join(this.dir, rel);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  /** A JSON file of the project (e.g. `target/run_results.json`). */
  json<T = any>(rel: string): T {
    const text = this.read(rel);
    if (text === null) throw new Error(`${rel} was not written`);
    return JSON.parse(text) as T;
  }

  /**
   * Runs `node bin/tsdbt.mjs <command> --project-dir <dir> --profiles-dir <dir> …args`.
   * The environment is the test's minus GITHUB_ACTIONS / DBT_PROFILES_DIR / TSDBT_PROFILES_DIR,
   * plus `env`. Never throws for a non-zero exit. `opts.interrupt` sends SIGINT once stdout
   * matches `when` (e.g. a node has started), as a user pressing Ctrl-C.
   */
  cli(command: string, args: readonly string[] = [], env: Record<string, string> = {}, opts: { interrupt?: { when: RegExp; delayMs?: number } } = {}): Promise<CliResult> {
    const base = { ...process.env };
    delete base.GITHUB_ACTIONS;
    delete base.DBT_PROFILES_DIR;
    delete base.TSDBT_PROFILES_DIR;
    delete base.FORCE_COLOR;
    // `command` may be two words (`source freshness`)
    const argv = [BIN, ...command.split(' '), '--project-dir', this.dir, '--profiles-dir', this.dir, ...args];
    return new Promise((resolveP, reject) => {
      const child = spawn(process.execPath, argv, { cwd: this.dir, env: { ...base, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let interrupted = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (opts.interrupt && !interrupted && opts.interrupt.when.test(stdout)) {
          interrupted = true;
          setTimeout(() => child.kill('SIGINT'), opts.interrupt.delayMs ?? 0);
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const c = code ?? (signal ? 128 : 1);
        resolveP({ code: c, stdout, stderr, output: `exit ${c}\n--- stdout\n${stdout}\n--- stderr\n${stderr}` });
      });
    });
  }

  /**
   * Opens the adapter, runs `fn`, closes it (PGlite: the CLI cannot run while it is open).
   * The session's search_path is the target schema, so unqualified names mean the target schema.
   */
  async withAdapter<T>(fn: (a: Adapter) => Promise<T>): Promise<T> {
    const a = await createAdapter(this.target, { lockTimeoutMs: 20_000 });
    try {
      return await fn(a);
    } finally {
      await a.close();
    }
  }

  /** Runs statements in order (search_path = target schema first); returns the last result's rows. */
  async query<Row = Record<string, unknown>>(...sql: string[]): Promise<Row[]> {
    return this.withAdapter((a) =>
      a.withConnection(async (c) => {
        await c.query(`set search_path to ${a.quoteIdentifier(this.schema)}, public`);
        let rows: Row[] = [];
        for (const s of sql) rows = (await c.query<Row>(s)).rows;
        await c.query('reset search_path');
        return rows;
      }),
    );
  }

  /** Alias of {@link query} for one statement. */
  rows<Row = Record<string, unknown>>(sql: string): Promise<Row[]> {
    return this.query<Row>(sql);
  }

  /** `select count(*)` of a relation (schema-qualified or in the target schema), as a number. */
  async count(relation: string): Promise<number> {
    const r = await this.query<{ n: string }>(`select count(*) as n from ${relation}`);
    return Number(r[0].n);
  }

  /** Relations in `schema` (default: the target schema): name → kind ('table' | 'view' | …). */
  async relations(schema = this.schema): Promise<Record<string, string>> {
    return this.withAdapter(async (a) => Object.fromEntries((await a.listRelations(schema)).map((r) => [r.identifier, r.kind])));
  }

  /** Schemas whose name is the target schema or starts with `<target schema>_`, sorted. */
  async schemas(): Promise<string[]> {
    const r = await this.query<{ nspname: string }>(
      `select nspname from pg_namespace where nspname = '${this.schema}' or starts_with(nspname, '${this.schema}_') order by 1`,
    );
    return r.map((x) => x.nspname);
  }

  /** Drops the target schema and every `<schema>_*` schema, then deletes the project dir. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    try {
      await this.withAdapter(async (a) => {
        const r = await a.query<{ nspname: string }>(
          `select nspname from pg_namespace where nspname = $1 or starts_with(nspname, $1 || '_')`,
          [this.schema],
        );
        for (const { nspname } of r.rows) await a.query(`drop schema if exists ${a.quoteIdentifier(nspname)} cascade`);
      });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Copies a directory (e.g. `target/` to keep a state manifest). */
export function copyDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/** Numbers from count-like row values (bigint/numeric come back as strings). */
export function num(v: unknown): number {
  return Number(v);
}
