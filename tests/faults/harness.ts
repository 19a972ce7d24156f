/**
 * Harness for the fault and secrets tests: a small dbt project in a temp dir
 * with its own profiles.yml, the real CLI as a child process
 * (`node bin/tsdbt.mjs <cmd> --project-dir <dir> --profiles-dir <dir>`), and a
 * separate admin connection to look at (or sabotage) the server meanwhile.
 *
 * PostgreSQL: 127.0.0.1:5432, user postgres, database test (PG* override), a
 * unique target schema per project; `cleanup()` drops it and `<schema>_*`.
 * Unreachable → skipped, unless TSDBT_REQUIRE_PG=1 (see src/adapters/testing.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freshPgliteDir, pgAvailable, pgliteTargetForDir, uniqueSchemaName } from '../../src/adapters/testing.ts';
import { createAdapter } from '../../src/adapters/index.ts';
import { quoteIdentifier } from '../../src/adapters/quote.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'tsdbt.mjs');

/** Connection settings of the test server. */
export function pgSettings(): { host: string; port: number; user: string; password?: string; database: string } {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER || 'postgres',
    password: process.env.PGPASSWORD || undefined,
    database: process.env.PGDATABASE || 'test',
  };
}

/** A connected admin client (always `end()` it). */
export async function adminClient(): Promise<pg.Client> {
  const c = new pg.Client({ ...pgSettings(), application_name: 'tsdbt-fault-test', connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Waits until `fn` returns a truthy value (polling every `everyMs`), or throws after `timeoutMs` (generous: a loaded CI machine takes seconds to start a CLI). */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout + stderr, for assertion messages. */
  readonly output: string;
}

/** A running CLI process. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Resolves when stdout+stderr so far match `re` (default wait 90 s: a loaded CI machine starts a CLI slowly); rejects if the CLI exits first. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  readonly done: Promise<CliResult>;
  output(): string;
}

export type Files = Record<string, string>;

/**
 * The secrets every fault case carries and must never show: the profile
 * password (read in profiles.yml from `DBT_ENV_SECRET_FLT_PASSWORD`, where dbt
 * allows secrets; the real one when PGPASSWORD is set, else a distinctive
 * string the trust-auth test server ignores) and a second `DBT_ENV_SECRET_`
 * variable that nothing reads. Every CLI started by a {@link FaultProject}
 * gets both in its environment.
 */
export const FAULT_PASSWORD = pgSettings().password ?? 'pw-Flt7Qx3Lz9Kd';
export const FAULT_SECRET_ENV: Readonly<Record<string, string>> = {
  DBT_ENV_SECRET_FLT_PASSWORD: FAULT_PASSWORD,
  DBT_ENV_SECRET_FLT_TOKEN: 'tok-Flt4hV8sN1xWq',
};

/**
 * Where `secrets` occur (case-insensitively) in `outputs` and in every file
 * under `dir`'s target/ and logs/: one line per hit, e.g.
 * `DBT_ENV_SECRET_FLT_PASSWORD in target/run_results.json`. Empty when nothing
 * leaked.
 */
export function findLeaks(dir: string, outputs: readonly { what: string; r: CliResult }[], secrets: Readonly<Record<string, string>> = FAULT_SECRET_ENV): string[] {
  const leaks: string[] = [];
  const hits = (text: string) => Object.entries(secrets).filter(([, v]) => v.length > 0 && text.toLowerCase().includes(v.toLowerCase())).map(([k]) => k);
  for (const { what, r } of outputs) {
    for (const k of hits(r.stdout)) leaks.push(`${k} in the stdout of \`${what}\``);
    for (const k of hits(r.stderr)) leaks.push(`${k} in the stderr of \`${what}\``);
  }
  for (const sub of ['target', 'logs']) {
    for (const f of filesIn(join(dir, sub))) {
      const text = readFileSync(f, 'latin1');
      for (const k of hits(text)) leaks.push(`${k} in ${f.slice(dir.length + 1)}`);
    }
  }
  return leaks;
}

/** Every file under `d`, recursively (none when `d` does not exist). */
function filesIn(d: string): string[] {
  let names: string[];
  try {
    names = readdirSync(d);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? filesIn(p) : [p];
  });
}

/** A project on PostgreSQL (default) or PGlite. Always `cleanup()`. */
export class FaultProject {
  private constructor(
    readonly dir: string,
    readonly schema: string,
    readonly engine: 'postgres' | 'pglite',
    /** The PGlite data directory (null on PostgreSQL). */
    readonly pgliteDir: string | null,
  ) {}

  /** Every CLI invocation so far (command and its result, once it ended), for {@link assertNoLeaks}. */
  private readonly invocations: { what: string; done: Promise<CliResult> }[] = [];

  /**
   * Writes `files` and a profiles.yml (profile `faults`, target `dev`) with
   * `profile` fields added (e.g. `{ retries: 0, threads: 2 }`).
   */
  static async create(files: Files, opts: { engine?: 'postgres' | 'pglite'; profile?: Record<string, unknown>; schema?: string } = {}): Promise<FaultProject> {
    const engine = opts.engine ?? 'postgres';
    if (engine === 'postgres' && !(await pgAvailable())) throw new Error('PostgreSQL is required but not reachable at 127.0.0.1:5432');
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-fault-'));
    const schema = opts.schema ?? uniqueSchemaName('flt');
    const pgliteDir = engine === 'pglite' ? await freshPgliteDir() : null;
    const p = new FaultProject(dir, schema, engine, pgliteDir);
    p.write({ 'dbt_project.yml': "name: faults\nversion: '1.0.0'\nconfig-version: 2\nprofile: faults\n", ...files });
    p.writeProfile(opts.profile ?? {});
    return p;
  }

  /** (Re)writes profiles.yml with these extra fields. */
  writeProfile(extra: Record<string, unknown>): void {
    const s = pgSettings();
    const fields: Record<string, unknown> =
      this.engine === 'postgres'
        ? {
            type: 'postgres',
            host: s.host,
            port: s.port,
            user: s.user,
            password: "{{ env_var('DBT_ENV_SECRET_FLT_PASSWORD') }}",
            dbname: s.database,
            schema: this.schema,
            threads: 4,
            connect_timeout: 5,
            retries: 0,
          }
        : { type: 'pglite', path: this.pgliteDir, schema: this.schema, threads: 1 };
    Object.assign(fields, extra);
    const body = Object.entries(fields)
      .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
      .join('\n');
    writeFileSync(join(this.dir, 'profiles.yml'), `faults:\n  target: dev\n  outputs:\n    dev:\n${body}\n`);
  }

  write(files: Record<string, string | null>): void {
    for (const [rel, content] of Object.entries(files)) {
      const p = join(this.dir, rel);
      if (content === null) rmSync(p, { force: true });
      else {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, content);
      }
    }
  }

  json<T = any>(rel: string): T {
    return JSON.parse(readFileSync(join(this.dir, rel), 'utf8')) as T;
  }

  /** Every file under `rel` (default target/) with its content. */
  filesUnder(rel = 'target'): { path: string; content: string }[] {
    const out: { path: string; content: string }[] = [];
    const walk = (d: string) => {
      let names: string[];
      try {
        names = readdirSync(d);
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else out.push({ path: p, content: readFileSync(p, 'latin1') });
      }
    };
    walk(join(this.dir, rel));
    return out;
  }

  /** Starts the CLI; `command` may be a subcommand path (`docs generate`); `args` after it. */
  start(command: string, args: string[] = [], env: Record<string, string> = {}): RunningCli {
    const child = spawn(process.execPath, [BIN, ...command.split(' '), '--project-dir', this.dir, '--profiles-dir', this.dir, ...args], {
      cwd: this.dir,
      env: { ...process.env, GITHUB_ACTIONS: '', DBT_PROFILES_DIR: '', TSDBT_PROFILES_DIR: '', FORCE_COLOR: '0', ...FAULT_SECRET_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const waiters: { re: RegExp; resolve: () => void }[] = [];
    const check = () => {
      for (const w of [...waiters]) {
        if (w.re.test(stdout + stderr)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    };
    child.stdout!.on('data', (d) => {
      stdout += d;
      check();
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
      check();
    });
    const done = new Promise<CliResult>((res) => {
      child.on('close', (code, signal) => res({ code, signal, stdout, stderr, output: `${stdout}\n--- stderr ---\n${stderr}` }));
    });
    this.invocations.push({ what: [command, ...args].join(' '), done });
    return {
      child,
      done,
      output: () => stdout + stderr,
      waitForOutput(re, timeoutMs = 90000) {
        return new Promise<void>((res, rej) => {
          const w = { re, resolve: () => (clearTimeout(t), res()) };
          const t = setTimeout(() => {
            waiters.splice(waiters.indexOf(w), 1);
            rej(new Error(`timed out waiting for ${re} in:\n${stdout}\n${stderr}`));
          }, timeoutMs);
          waiters.push(w);
          check();
          void done.then(() => {
            if (waiters.includes(w)) {
              clearTimeout(t);
              waiters.splice(waiters.indexOf(w), 1);
              rej(new Error(`the CLI exited before printing ${re}:\n${stdout}\n${stderr}`));
            }
          });
        });
      },
    };
  }

  /**
   * Asserts that no secret ({@link FAULT_SECRET_ENV}, plus `extra`) is in the
   * stdout or stderr of any CLI this project ran so far (waiting for those
   * still running), nor in any file under target/ or logs/. Every fault case
   * ends with it.
   */
  async assertNoLeaks(extra: Readonly<Record<string, string>> = {}): Promise<void> {
    const outputs = await Promise.all(this.invocations.map(async (i) => ({ what: i.what, r: await i.done })));
    const leaks = findLeaks(this.dir, outputs, { ...FAULT_SECRET_ENV, ...extra });
    if (leaks.length) throw new Error(`secrets leaked:\n  ${leaks.join('\n  ')}`);
  }

  /** Runs the CLI to the end. */
  cli(command: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
    return this.start(command, args, env).done;
  }

  /** Rows of `sql` on the test server (admin connection), or on the project's PGlite directory (opened and closed). */
  async rows<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.engine === 'pglite') {
      const a = await createAdapter(pgliteTargetForDir(this.pgliteDir!, this.schema), { lockTimeoutMs: 5000 });
      try {
        return (await a.query(sql, params)).rows as T[];
      } finally {
        await a.close();
      }
    }
    const c = await adminClient();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  /** Relation names in the target schema (or another schema), sorted. */
  async relations(schema = this.schema): Promise<string[]> {
    const r = await this.rows<{ relname: string }>(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind in ('r','v','m','p') order by 1`,
      [schema],
    );
    return r.map((x) => x.relname);
  }

  /** The server pids of this project's running statements (naming its schema) that match `like` (pg_stat_activity). */
  async backendsRunning(like: string): Promise<number[]> {
    const r = await this.rows<{ pid: number }>(
      `select pid from pg_stat_activity
        where application_name = 'tsdbt' and state = 'active' and query like $1 and strpos(query, $2) > 0 and pid <> pg_backend_pid()`,
      [like, this.schema],
    );
    return r.map((x) => Number(x.pid));
  }

  async cleanup(): Promise<void> {
    if (this.engine === 'postgres') {
      const c = await adminClient().catch(() => null);
      if (c) {
        try {
          // Statements a killed client left running on its schema (an orphaned COPY goes on until it has read what was
          // in flight) would make the drop wait for them.
          await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'tsdbt%' and strpos(query, $1) > 0 and pid <> pg_backend_pid()`, [this.schema]);
          const r = await c.query<{ nspname: string }>(`select nspname from pg_namespace where nspname = $1 or nspname like $2`, [this.schema, `${this.schema.replace(/_/g, '\\_')}\\_%`]);
          for (const { nspname } of r.rows) await c.query(`drop schema if exists ${quoteIdentifier(nspname)} cascade`);
        } finally {
          await c.end();
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (this.pgliteDir) rmSync(this.pgliteDir, { recursive: true, force: true });
  }
}
