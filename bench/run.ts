/**
 * `npm run bench`: every row of the "Performance" issue's table in one
 * invocation, with the peer's figure beside ours, PASS/MISS against the
 * targets, and how each figure scales.
 *
 * Rows (bench/rows.ts holds the targets):
 *  - parse + compile of a generated project (bench/generate-project.ts: one DAG,
 *    two outputs), cold (no target/) and unchanged, at 1k and 10k models, beside
 *    Dataform 2.6.7 (`@dataform/cli` + `@dataform/core`, installed from npm into a
 *    temporary directory) compiling the same DAG;
 *  - `tsdbt run` of 200 independent small tables vs the same compiled SQL
 *    through `psql -f` (one connection each: `--threads 1`);
 *  - `tsdbt seed` of a 1M-row CSV (whole command) vs `psql \copy`;
 *  - 8 heavy independent tables, `--threads 2` vs `--threads 1`;
 *  - the example project's `build` with the 1M-row data set
 *    (scripts/generate-seeds.ts) on PGlite vs on PostgreSQL. PGlite's initdb
 *    template (src/adapters/pglite-template.ts) is made before timing, in
 *    bench/.out/cache: the PostgreSQL server's cluster exists before its run too;
 *    the one-time initdb is timed and logged apart.
 * Scaling: compile cold at 1k/5k/10k/20k models, run at 50/200/800 tables,
 * seed at 100k/1M/5M rows, with the marginal cost per unit between steps.
 *
 * Every timed command is a child process under `/usr/bin/time` (wall, user +
 * system CPU of it and its children, peak RSS). The machine is shared: only
 * ratios within one run mean much; the load average is recorded at each row.
 *
 * Options: --quick (small sizes, 1 run: a smoke run of the whole bench in a few
 *          minutes; its PASS/MISS are not comparable to the targets)
 *          --runs N (default 3; median)  --only compile,run,seed,threads,pglite
 *          --no-peer (skip Dataform)  --dir DIR (default bench/.out)
 *          --no-bundle (run the CLI through tsx)
 *          --heavy-rows N (rows per table in the threads row)  --pglite-rows N (sessions in the PGlite row)
 * Needs PostgreSQL at 127.0.0.1:5432 (user postgres, database test; override
 * with PGHOST/PGPORT/PGUSER/PGDATABASE) and psql. Writes
 * bench/results/<date>-<machine>.json and .md; everything else under
 * bench/.out/ (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { generateDataformProject, generateIndependentTables, generateProject } from './generate-project.ts';
import { TARGETS, judge, slopes, type RowResult } from './rows.ts';
// @ts-expect-error plain .mjs without types
import { buildBundle, bundleIsFresh } from '../bin/bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const out = join(here, '.out');
const bin = join(repo, 'bin', 'tsdbt.mjs');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const runs = Math.max(1, Number(opt('runs', quick ? '1' : '3')));
const only = new Set(opt('only', 'compile,run,seed,threads,pglite').split(','));
const usePeer = !argv.includes('--no-peer');
const useBundle = !argv.includes('--no-bundle');
const projectsDir = resolve(opt('dir', out));

/** Sizes: the issue's in a full run; small ones with --quick. */
const SIZES = quick
  ? { compile: [500, 1000, 2000], compileRow: 2000, compileSmall: 500, run: [20, 50, 100], runRow: 50, seed: [10_000, 50_000, 200_000], seedRow: 200_000, heavyRows: 200_000, pgliteRows: 20_000 }
  : { compile: [1000, 5000, 10000, 20000], compileRow: 10000, compileSmall: 1000, run: [50, 200, 800], runRow: 200, seed: [100_000, 1_000_000, 5_000_000], seedRow: 1_000_000, heavyRows: 1_500_000, pgliteRows: 1_000_000 };

if (argv.includes('--heavy-rows')) SIZES.heavyRows = Number(opt('heavy-rows', '0'));
if (argv.includes('--pglite-rows')) SIZES.pgliteRows = Number(opt('pglite-rows', '0'));

const pgConn = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};
const psqlArgs = ['-h', pgConn.host, '-p', String(pgConn.port), '-U', pgConn.user, '-d', pgConn.database, '-v', 'ON_ERROR_STOP=1', '-q'];

// ---------------------------------------------------------------- helpers
/** One timed child process. */
interface Sample {
  /** Seconds, measured here. */
  wall: number;
  /** Seconds of user + system CPU of the child and its children (/usr/bin/time). */
  cpu: number;
  /** Peak RSS in MB of the largest process (/usr/bin/time %M). */
  rss: number;
  code: number;
  output: string;
}

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Runs `cmd args` in `cwd` under /usr/bin/time; wall time measured here. */
function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Sample {
  mkdirSync(out, { recursive: true });
  const usage = join(out, `time-${process.pid}.txt`);
  rmSync(usage, { force: true });
  const full = timeBin ? [timeBin, ['-f', '%e %U %S %M', '-o', usage, cmd, ...args]] as const : [cmd, args] as const;
  const t0 = performance.now();
  const r = spawnSync(full[0], full[1], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...(useBundle ? {} : { TSDBT_NO_BUNDLE: '1' }), ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  let cpu = NaN;
  let rss = NaN;
  try {
    const f = readFileSync(usage, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    cpu = f[1] + f[2];
    rss = f[3] / 1024;
  } catch {
    /* no /usr/bin/time */
  }
  return { wall, cpu, rss, code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const tsdbt = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => timed(process.execPath, [bin, ...args], cwd, env);
const psql = (args: string[], cwd = repo) => timed('psql', [...psqlArgs, ...args], cwd);

/** A command the bench needs failed: the row it belongs to is reported as an error, the other rows still run. */
class BenchError extends Error {}
function fail(what: string, s: { code: number; output?: string }): never {
  const text = `${what} failed (exit ${s.code}):\n${(s.output ?? '').slice(-3000)}`;
  console.error(`bench: ${text}`);
  throw new BenchError(text.split('\n')[0]);
}
/** Runs one section; a {@link BenchError} (e.g. the shared server restarted under it) becomes an error row. */
async function section(name: string, f: () => void | Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    errors.push(`${name}: ${e.message}`);
  }
}
const errors: string[] = [];
function ok(what: string, s: Sample): Sample {
  if (s.code !== 0) fail(what, s);
  return s;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const log = (s: string) => process.stderr.write(`${s}\n`);

/** A summary of several samples: medians of wall and CPU, max RSS, every wall. */
interface Summary {
  wall: number;
  cpu: number;
  rss: number;
  walls: number[];
  load: string;
}
function summarise(samples: Sample[], load: string): Summary {
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)), rss: Math.max(...samples.map((s) => s.rss)), walls: samples.map((s) => s.wall), load };
}
function repeat(n: number, what: string, f: (i: number) => Sample): Summary {
  const load = loadavg();
  const xs: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const s = ok(what, f(i));
    xs.push(s);
    log(`  ${what} #${i + 1}: ${fmt(s.wall)} s wall, ${fmt(s.cpu)} s CPU, ${fmt(s.rss, 0)} MB`);
  }
  return summarise(xs, load);
}

/**
 * "Cold" means no target/. Deleting 12,000 files right before a run makes that
 * run's file creation wait on the filesystem freeing the old blocks (ext4 with
 * `discard`), so target/ is renamed aside, deleted at the end, and each cold
 * run waits for {@link settle}.
 */
const trash = join(projectsDir, '.trash');
let trashed = 0;
function setAside(path: string): void {
  if (!existsSync(path)) return;
  mkdirSync(trash, { recursive: true });
  renameSync(path, join(trash, `${process.pid}-${trashed++}`));
}
/** `sync`, then 6 s (more than ext4's 5 s commit interval); 1 s with --quick. */
function settle(): void {
  spawnSync('sync');
  spawnSync('sleep', [quick ? '1' : '6']);
}

function profilesYml(schema: string, threads = 1): string {
  return `bench:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: ${pgConn.host}\n      port: ${pgConn.port}\n      user: ${pgConn.user}\n      dbname: ${pgConn.database}\n      schema: ${schema}\n      threads: ${threads}\n`;
}

function machine(): Record<string, string> {
  const sh = (c: string) => spawnSync('sh', ['-c', c], { encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    host: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: sh('nproc') || String(cpus().length),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    postgres: sh(`psql -h ${pgConn.host} -p ${pgConn.port} -U ${pgConn.user} -d ${pgConn.database} -Atc 'show server_version' 2>/dev/null`) || 'not reachable',
    tsdbt: sh(`git -C ${repo} rev-parse --short HEAD`),
    load_at_start: loadavg(),
  };
}

// ---------------------------------------------------------------- the peer: Dataform 2.6.7
const DATAFORM_VERSION = '2.6.7';
const peerDir = join(projectsDir, `dataform-${DATAFORM_VERSION}`);
/** Installs @dataform/cli and @dataform/core into a directory of their own (once); false when npm cannot. */
function installPeer(): boolean {
  const cli = join(peerDir, 'node_modules', '.bin', 'dataform');
  if (existsSync(cli) && existsSync(join(peerDir, 'node_modules', '@dataform', 'core'))) return true;
  mkdirSync(peerDir, { recursive: true });
  writeFileSync(join(peerDir, 'package.json'), JSON.stringify({ name: 'bench-peer', private: true }));
  log(`installing @dataform/cli@${DATAFORM_VERSION} and @dataform/core@${DATAFORM_VERSION} into ${peerDir} …`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel', 'error', `@dataform/cli@${DATAFORM_VERSION}`, `@dataform/core@${DATAFORM_VERSION}`], { cwd: peerDir, encoding: 'utf8' });
  if (r.status !== 0) {
    log(`  npm install failed: ${(r.stderr ?? '').slice(-500)}`);
    return false;
  }
  return true;
}
/** Dataform's compiler loads @dataform/core from the project: copy core and its dependencies in. */
function copyCore(projectDir: string): void {
  const core = JSON.parse(readFileSync(join(peerDir, 'node_modules', '@dataform', 'core', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const src = join(peerDir, 'node_modules', name);
    if (!existsSync(src)) return;
    cpSync(src, join(projectDir, 'node_modules', name), { recursive: true });
    const pj = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const d of Object.keys(pj.dependencies ?? {})) visit(d);
  };
  visit('@dataform/core');
  for (const d of Object.keys(core.dependencies ?? {})) visit(d);
}
/** `dataform compile --json` on the same DAG; checks the table and assertion counts. */
function peerCompile(n: number, peerRuns: number): Summary | undefined {
  const dir = join(projectsDir, `dataform-project-${n}`);
  generateDataformProject(dir, n, copyCore);
  const cli = join(peerDir, 'node_modules', '.bin', 'dataform');
  return repeat(peerRuns, `dataform compile ${n}`, () => {
    const s = timed(cli, ['compile', '.', '--json', '--timeout', '30m', '--track', 'false'], dir);
    const json = s.output.slice(s.output.indexOf('\n{') + 1);
    try {
      const j = JSON.parse(json.slice(0, json.lastIndexOf('}') + 1)) as { tables: unknown[]; assertions: unknown[] };
      if (j.tables.length !== n) return { ...s, code: 1, output: `Dataform compiled ${j.tables.length} tables, expected ${n}` };
    } catch {
      return { ...s, code: s.code || 1 };
    }
    return s;
  });
}

// ---------------------------------------------------------------- compile
interface CompileFigures {
  cold: Summary;
  unchanged?: Summary;
  nodes: string;
}
function benchCompile(n: number, withUnchanged: boolean): CompileFigures {
  const dir = join(projectsDir, `project-${n}`);
  log(`generating ${n} models in ${dir}`);
  setAside(dir);
  generateProject(dir, n);
  writeFileSync(join(dir, 'profiles.yml'), profilesYml(`bench_compile_${n}`));
  const args = ['compile', '--project-dir', dir, '--profiles-dir', dir];
  let nodes = '?';
  const cold = repeat(runs, `tsdbt compile ${n} cold`, () => {
    setAside(join(dir, 'target'));
    settle();
    const s = tsdbt(args, dir);
    nodes = /Compiled (\d+) nodes/.exec(s.output)?.[1] ?? nodes;
    return s;
  });
  const unchanged = withUnchanged ? repeat(runs, `tsdbt compile ${n} unchanged`, () => tsdbt(args, dir)) : undefined;
  return { cold, unchanged, nodes };
}

// ---------------------------------------------------------------- run: independent tables vs psql -f
function benchRun(n: number): { tsdbt: Summary; psql: Summary } {
  const dir = join(projectsDir, `run-${n}`);
  const schema = `bench_run_${n}`;
  generateIndependentTables(dir, n, 100);
  writeFileSync(join(dir, 'profiles.yml'), profilesYml(schema, 1));
  psql(['-c', `drop schema if exists ${schema} cascade`, '-c', `drop schema if exists ${schema}_psql cascade`, '-c', `create schema ${schema}_psql`]);
  const args = ['run', '--threads', '1', '--project-dir', dir, '--profiles-dir', dir];
  ok(`tsdbt run ${n} (first, creates the tables)`, tsdbt(args, dir));
  const t = repeat(runs, `tsdbt run ${n} tables`, () => tsdbt(args, dir));
  // the same compiled SQL, one statement pair per model, through psql -f
  const sql: string[] = [];
  for (let i = 0; i < n; i++) {
    const compiled = readFileSync(join(dir, 'target', 'compiled', 'bench', 'models', `t_${i}.sql`), 'utf8').trim();
    sql.push(`drop table if exists ${schema}_psql.t_${i};`, `create table ${schema}_psql.t_${i} as (${compiled});`);
  }
  const file = join(dir, 'psql.sql');
  writeFileSync(file, sql.join('\n') + '\n');
  psql(['-f', file]);
  const p = repeat(runs, `psql -f ${n} tables`, () => psql(['-f', file]));
  psql(['-c', `drop schema if exists ${schema} cascade`, '-c', `drop schema if exists ${schema}_psql cascade`]);
  return { tsdbt: t, psql: p };
}

// ---------------------------------------------------------------- threads
function benchThreads(): { one: Summary; two: Summary } {
  const dir = join(projectsDir, 'threads');
  const schema = 'bench_threads';
  generateIndependentTables(dir, 8, SIZES.heavyRows, true);
  writeFileSync(join(dir, 'profiles.yml'), profilesYml(schema, 1));
  psql(['-c', `drop schema if exists ${schema} cascade`]);
  const args = (t: number) => ['run', '--threads', String(t), '--project-dir', dir, '--profiles-dir', dir];
  ok('tsdbt run 8 heavy (warm-up)', tsdbt(args(1), dir));
  const one: Sample[] = [];
  const two: Sample[] = [];
  const load = loadavg();
  for (let i = 0; i < runs; i++) {
    // alternate, so a change of load hits both
    one.push(ok('tsdbt run --threads 1', tsdbt(args(1), dir)));
    two.push(ok('tsdbt run --threads 2', tsdbt(args(2), dir)));
    log(`  8 heavy tables #${i + 1}: --threads 1 ${fmt(one[i].wall)} s, --threads 2 ${fmt(two[i].wall)} s`);
  }
  psql(['-c', `drop schema if exists ${schema} cascade`]);
  return { one: summarise(one, load), two: summarise(two, load) };
}

// ---------------------------------------------------------------- seed
async function writeSeedCsv(file: string, n: number): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.rows`) && readFileSync(`${file}.rows`, 'utf8') === String(n)) return;
  mkdirSync(dirname(file), { recursive: true });
  const ws = createWriteStream(file);
  ws.write('id,created_at,is_active,label\n');
  const base = Date.UTC(2024, 0, 1);
  let chunk = '';
  for (let i = 1; i <= n; i++) {
    const ts = new Date(base + i * 37_000).toISOString().replace('T', ' ').replace('Z', '');
    const label = i % 97 === 0 ? `"needs, quoting ${i}"` : `label ${i % 1000}`;
    chunk += `${1_000_000_000_000 + i},${ts},${i % 3 === 0 ? 'true' : 'false'},${label}\n`;
    if (chunk.length > 1 << 20) {
      if (!ws.write(chunk)) await once(ws, 'drain');
      chunk = '';
    }
  }
  ws.end(chunk);
  await once(ws, 'finish');
  writeFileSync(`${file}.rows`, String(n));
}

const SEED_COLUMNS = 'id bigint, created_at timestamp, is_active boolean, label text';

/** `tsdbt seed --full-refresh` (types inferred: no column_types) vs drop + create + `\copy` in one psql run. */
async function benchSeed(n: number): Promise<{ tsdbt: Summary; psql: Summary; loadStep?: number }> {
  const dir = join(projectsDir, `seed-${n}`);
  const schema = `bench_seed_${n}`;
  const csv = join(dir, 'seeds', 'events.csv');
  log(`writing ${n} rows to ${csv}`);
  await writeSeedCsv(csv, n);
  writeFileSync(join(dir, 'dbt_project.yml'), `name: bench\nprofile: bench\nconfig-version: 2\n`);
  writeFileSync(join(dir, 'profiles.yml'), profilesYml(schema));
  ok('psql (is PostgreSQL running at 127.0.0.1:5432?)', psql(['-c', `create schema if not exists ${schema}`]));
  const steps: number[] = [];
  const t = repeat(runs, `tsdbt seed ${n} rows`, () => {
    const s = tsdbt(['seed', '--full-refresh', '--project-dir', dir, '--profiles-dir', dir], dir);
    const step = Number(/\[\w+ \d+ in ([\d.]+)s\]/.exec(s.output)?.[1] ?? NaN);
    if (!Number.isNaN(step)) steps.push(step);
    return s;
  });
  const count = psql(['-Atc', `select count(*) from ${schema}.events`]);
  if (Number(count.output.trim()) !== n) fail(`tsdbt seed loaded ${count.output.trim()} rows, expected ${n}`, count);
  const p = repeat(runs, `psql \\copy ${n} rows`, () =>
    psql(['-c', `drop table if exists ${schema}.events_psql`, '-c', `create table ${schema}.events_psql (${SEED_COLUMNS})`, '-c', `\\copy ${schema}.events_psql from '${csv}' with (format csv, header true)`]),
  );
  psql(['-c', `drop schema ${schema} cascade`]);
  return { tsdbt: t, psql: p, loadStep: steps.length ? median(steps) : undefined };
}

// ---------------------------------------------------------------- PGlite vs PostgreSQL: the example build
function benchPglite(rowsN: number): { pglite: Summary; pg: Summary } {
  const dir = join(projectsDir, `example-${rowsN}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  for (const p of ['dbt_project.yml', 'models', 'macros', 'seeds']) cpSync(join(repo, p), join(dir, p), { recursive: true });
  cpSync(join(repo, 'tests', 'data_quality'), join(dir, 'tests', 'data_quality'), { recursive: true });
  log(`generating the example data set, ${rowsN} session rows`);
  ok('scripts/generate-seeds.ts', timed(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'generate-seeds.ts'), '--rows', String(rowsN), '--out', join(dir, 'seeds')], repo));
  // PGlite: no profiles.yml anywhere (HOME points at an empty folder, so ~/.dbt is not read either)
  const home = join(dir, 'empty-home');
  mkdirSync(home, { recursive: true });
  const pgProfiles = join(dir, 'pg-profiles');
  mkdirSync(pgProfiles, { recursive: true });
  const schema = 'bench_example';
  writeFileSync(join(pgProfiles, 'profiles.yml'), profilesYml(schema, 1).replace(/^bench:/, 'growth_analytics:'));
  for (const suffix of ['', '_raw', '_staging', '_dwh', '_mart']) psql(['-c', `drop schema if exists ${schema}${suffix} cascade`]);
  // The once-per-machine initdb (PostgreSQL's cluster was made at install): outside the timed runs, logged.
  const cacheDir = join(out, 'cache');
  const tpl = timed(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { pgliteTemplateDir } from ${JSON.stringify(join(repo, 'src', 'adapters', 'pglite-template.ts'))}; await pgliteTemplateDir(${JSON.stringify(cacheDir)});`], repo);
  ok('PGlite initdb template', tpl);
  log(`  PGlite initdb template (once per machine and PGlite version): ${fmt(tpl.wall)} s wall, ${fmt(tpl.cpu)} s CPU, ${Math.round(tpl.rss)} MB`);
  const pglite = repeat(runs, `example build on PGlite (${rowsN} rows, fresh data directory)`, () => {
    rmSync(join(dir, '.tsdbt'), { recursive: true, force: true });
    rmSync(join(dir, 'target'), { recursive: true, force: true });
    return tsdbt(['build', '--project-dir', dir], dir, { HOME: home, DBT_PROFILES_DIR: undefined, TSDBT_PROFILES_DIR: undefined, TSDBT_CACHE_DIR: cacheDir });
  });
  const pgS = repeat(runs, `example build on PostgreSQL (${rowsN} rows, schemas dropped first)`, () => {
    for (const suffix of ['', '_raw', '_staging', '_dwh', '_mart']) psql(['-c', `drop schema if exists ${schema}${suffix} cascade`]);
    rmSync(join(dir, 'target'), { recursive: true, force: true });
    return tsdbt(['build', '--project-dir', dir, '--profiles-dir', pgProfiles], dir);
  });
  for (const suffix of ['', '_raw', '_staging', '_dwh', '_mart']) psql(['-c', `drop schema if exists ${schema}${suffix} cascade`]);
  return { pglite, pg: pgS };
}

// ---------------------------------------------------------------- main
mkdirSync(out, { recursive: true });
const m = machine();
log(`tsdbt bench${quick ? ' --quick' : ''}: ${m.cpu}, ${m.cores} cores, ${m.memory}, Node ${m.node}, PostgreSQL ${m.postgres}; load ${m.load_at_start}; median of ${runs}`);
if (useBundle) log(`dist/tsdbt.mjs: ${(await buildBundle()) ? 'built' : 'build failed: runs go through tsx'}`);
const bundled = useBundle && (bundleIsFresh() as boolean);

const rowsOut: RowResult[] = [];
const scaling: Record<string, { unit: string; points: { n: number; wall: number; cpu: number; peerWall?: number }[]; slopes: ReturnType<typeof slopes> }> = {};
const raw: Record<string, unknown> = {};

if (only.has('compile')) await section('compile', async () => {
  const peerOk = usePeer && installPeer();
  const figures = new Map<number, CompileFigures>();
  for (const n of SIZES.compile) figures.set(n, benchCompile(n, n === SIZES.compileRow));
  const peer = new Map<number, Summary | undefined>();
  if (peerOk) for (const n of [SIZES.compileSmall, SIZES.compileRow]) peer.set(n, peerCompile(n, Math.min(runs, 2)));
  raw.compile = Object.fromEntries([...figures].map(([n, f]) => [n, { ...f, peer: peer.get(n) }]));
  const big = figures.get(SIZES.compileRow)!;
  const small = figures.get(SIZES.compileSmall)!;
  rowsOut.push(judge(TARGETS.compileCold, { n: SIZES.compileRow, ours: big.cold, peer: peer.get(SIZES.compileRow), note: `${big.nodes} nodes` }));
  rowsOut.push(judge(TARGETS.compileUnchanged, { n: SIZES.compileRow, ours: big.unchanged! }));
  rowsOut.push(judge(TARGETS.compileSmallCold, { n: SIZES.compileSmall, ours: small.cold, peer: peer.get(SIZES.compileSmall), note: `${small.nodes} nodes` }));
  // Issue 15: the share of PostgreSQL's parser (libpg-query: syntax check) and column lineage in the cold compile,
  // stage by stage in one process (bench/stages.ts), no target/ first.
  const stageDir = join(projectsDir, `project-${SIZES.compileRow}`);
  setAside(join(stageDir, 'target'));
  const st = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'stages.ts'), stageDir], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  try {
    const j = JSON.parse(st.stdout.trim().split('\n').pop() ?? '') as { stages: Record<string, number>; cpuStages: Record<string, number> };
    const sqlWall = (j.stages['sql parse'] ?? 0) + (j.stages['column lineage'] ?? 0);
    const totalWall = j.stages.total - (j.stages.imports ?? 0);
    const cpuAll = Object.values(j.cpuStages).reduce((a, b) => a + b, 0);
    const sqlCpu = (j.cpuStages['sql parse'] ?? 0) + (j.cpuStages['column lineage'] ?? 0);
    const share = sqlWall / totalWall;
    raw.compileStages = j;
    const stagesText = Object.entries(j.stages).filter(([k]) => k !== 'total' && k !== 'cpu').map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`).join(', ');
    log(`  stages (s): ${stagesText}`);
    rowsOut.push({
      path: 'SQL parse (libpg-query syntax check) + column lineage, share of the cold compile (issue 15)',
      size: SIZES.compileRow.toLocaleString('en'),
      ours: `${(sqlWall / 1000).toFixed(2)} s of ${(totalWall / 1000).toFixed(2)} s (CPU ${(sqlCpu / 1000).toFixed(2)} of ${(cpuAll / 1000).toFixed(2)} s)`,
      other: `stages: ${stagesText}`,
      ratio: `${(100 * share).toFixed(0)}% (CPU ${((100 * sqlCpu) / cpuAll).toFixed(0)}%)`,
      target: '≤ 20% of the compile',
      pass: share <= 0.2,
      why: share <= 0.2 ? undefined : `${(100 * share).toFixed(0)}% > 20%`,
      load: loadavg(),
      figures: { ours: { wall: sqlWall / 1000, cpu: sqlCpu / 1000, rss: 0, load: loadavg() } },
    });
  } catch {
    log(`  bench/stages.ts failed: ${st.stderr.slice(-2000)}`);
  }
  const pts = SIZES.compile.map((n) => ({ n, wall: figures.get(n)!.cold.wall, cpu: figures.get(n)!.cold.cpu, peerWall: peer.get(n)?.wall }));
  scaling.compile = { unit: 'models', points: pts, slopes: slopes(pts) };
});

if (only.has('run')) await section('run', async () => {
  const figs = new Map<number, { tsdbt: Summary; psql: Summary }>();
  for (const n of SIZES.run) figs.set(n, benchRun(n));
  raw.run = Object.fromEntries(figs);
  const r = figs.get(SIZES.runRow)!;
  rowsOut.push(judge(TARGETS.run, { n: SIZES.runRow, ours: r.tsdbt, base: r.psql }));
  const pts = SIZES.run.map((n) => ({ n, wall: figs.get(n)!.tsdbt.wall, cpu: figs.get(n)!.tsdbt.cpu, peerWall: figs.get(n)!.psql.wall }));
  scaling.run = { unit: 'tables', points: pts, slopes: slopes(pts) };
});

if (only.has('seed')) await section('seed', async () => {
  const figs = new Map<number, Awaited<ReturnType<typeof benchSeed>>>();
  for (const n of SIZES.seed) figs.set(n, await benchSeed(n));
  raw.seed = Object.fromEntries(figs);
  const r = figs.get(SIZES.seedRow)!;
  rowsOut.push(judge(TARGETS.seed, { n: SIZES.seedRow, ours: r.tsdbt, base: r.psql, note: r.loadStep !== undefined ? `load step alone ${fmt(r.loadStep)} s = ${fmt(r.loadStep / r.psql.wall)}×` : undefined }));
  const pts = SIZES.seed.map((n) => ({ n, wall: figs.get(n)!.tsdbt.wall, cpu: figs.get(n)!.tsdbt.cpu, peerWall: figs.get(n)!.psql.wall }));
  scaling.seed = { unit: 'rows', points: pts, slopes: slopes(pts) };
});

if (only.has('threads')) await section('threads', async () => {
  const r = benchThreads();
  raw.threads = r;
  rowsOut.push(judge(TARGETS.threads, { n: 8, ours: r.two, base: r.one, note: `${SIZES.heavyRows.toLocaleString('en')} rows each` }));
});

if (only.has('pglite')) await section('pglite', async () => {
  const r = benchPglite(SIZES.pgliteRows);
  raw.pglite = r;
  rowsOut.push(judge(TARGETS.pglite, { n: SIZES.pgliteRows, ours: r.pglite, base: r.pg }));
});

// ---------------------------------------------------------------- report
m.load_at_end = loadavg();
const md: string[] = [];
md.push(`# tsdbt bench${quick ? ' (--quick: small sizes, not comparable to the targets)' : ''}`);
md.push('');
md.push(`${new Date().toISOString()} · ${m.host} · ${m.cpu} · ${m.cores} cores · ${m.memory} · Node ${m.node} · PostgreSQL ${m.postgres} · tsdbt ${m.tsdbt}${bundled ? ' (dist/tsdbt.mjs)' : ' (tsx)'}`);
md.push(`load average at start ${m.load_at_start}, at end ${m.load_at_end}; median of ${runs} run(s); wall = elapsed, CPU = user + system of the process tree`);
md.push('');
md.push('| path | size | ours: wall (CPU) | peer / baseline: wall (CPU) | ratio | target | result | load at row |');
md.push('|---|---:|---|---|---|---|---|---|');
for (const r of rowsOut) md.push(`| ${r.path} | ${r.size} | ${r.ours} | ${r.other} | ${r.ratio} | ${r.target} | **${r.pass ? 'PASS' : 'MISS'}**${r.why ? ` (${r.why})` : ''} | ${r.load} |`);
for (const e of errors) md.push(`| ERROR | | ${e.replace(/\|/g, '\\|')} | | | | | |`);
md.push('');
md.push('Scaling (wall seconds; "per unit" is the marginal cost between two sizes; "step" compares it with the step before: a step well above 1 is superlinear).');
md.push('');
for (const [name, s] of Object.entries(scaling)) {
  md.push(`**${name}** (per ${s.unit.replace(/s$/, '')})`);
  md.push('');
  md.push(`| ${s.unit} | wall (s) | CPU (s) | ${name === 'compile' ? 'Dataform wall (s)' : name === 'run' ? 'psql -f wall (s)' : 'psql \\copy wall (s)'} | per unit (ms) | step |`);
  md.push('|---:|---:|---:|---:|---:|---:|');
  s.points.forEach((p, i) => {
    const sl = s.slopes[i - 1];
    md.push(`| ${p.n.toLocaleString('en')} | ${fmt(p.wall)} | ${fmt(p.cpu)} | ${fmt(p.peerWall)} | ${sl ? fmt(sl.perUnitMs, 4) : ''} | ${sl?.step !== undefined ? `${fmt(sl.step)}×${sl.step > 1.5 ? ' ⚠' : ''}` : ''} |`);
  });
  md.push('');
}
const text = md.join('\n');
console.log(text);
const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const stem = `${new Date().toISOString().slice(0, 10)}-${m.host.replace(/[^\w.-]/g, '_')}-${m.cores}c${quick ? '-quick' : ''}`;
writeFileSync(join(resultsDir, `${stem}.json`), JSON.stringify({ machine: m, quick, runs, bundled, rows: rowsOut, errors, scaling, raw }, null, 2) + '\n');
writeFileSync(join(resultsDir, `${stem}.md`), text + '\n');
log(`wrote bench/results/${stem}.json and .md`);
rmSync(trash, { recursive: true, force: true });
