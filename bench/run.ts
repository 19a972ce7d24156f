/**
 * `npm run bench`: the figures the "Performance" issue asks for, measured on
 * this machine and printed as a table.
 *
 *  1. parse + compile: `tsdbt compile` as a child process on generated
 *     projects of 1,000 and 10,000 models (bench/generate-project.ts), cold
 *     (target/ removed: no partial-parse cache, no compiled files) and
 *     re-compiled with nothing changed, plus one model edited; wall time,
 *     CPU time and peak RSS of the child (median of the runs).
 *  2. seeds: a 1,000,000-row CSV (bigint, timestamp, boolean, text) loaded on
 *     PostgreSQL by `tsdbt seed`, by `psql -c "\copy …"`, and by a dbt-style
 *     loader (dbt-postgres's method: the CSV read whole, then multi-row
 *     INSERTs of 10,000 rows with bound parameters).
 *
 * Options: --models 1000,10000  --runs 3  --rows 1000000  --no-compile
 *          --no-seed  --json FILE (also write the figures as JSON)
 *          --no-bundle (run the CLI through tsx: TSDBT_NO_BUNDLE=1; by
 *          default the bench builds dist/tsdbt.mjs first, as `npm ci` does,
 *          and counts how many runs used it: a run falls back to tsx when a
 *          file under src/ changed since the build)
 *          --dir DIR (where the generated projects go; default bench/.out)
 * Needs PostgreSQL at 127.0.0.1:5432 (user postgres, database test) for the
 * seed figures; override with PGHOST/PGPORT/PGUSER/PGDATABASE.
 * Everything is written under bench/.out/ (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync, createWriteStream } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import pg from 'pg';
import { parse as parseCsv } from 'csv-parse';
import { generateProject } from './generate-project.ts';
// @ts-expect-error plain .mjs without types
import { buildBundle, bundleIsFresh } from '../bin/bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const out = join(here, '.out');
const bin = join(repo, 'bin', 'tsdbt.mjs');
const preload = join(here, 'usage-preload.mjs');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const sizes = opt('models', '1000,10000').split(',').map(Number).filter((n) => n > 0);
const runs = Math.max(1, Number(opt('runs', '3')));
const rows = Number(opt('rows', '1000000'));
const doCompile = !argv.includes('--no-compile');
const doSeed = !argv.includes('--no-seed');
const jsonOut = opt('json', '');
const useBundle = !argv.includes('--no-bundle');
/** Where the generated projects go (default bench/.out; e.g. --dir /tmp/tsdbt-bench to measure another directory's file-creation cost). */
const projectsDir = resolve(opt('dir', out));

const pgConn = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};

// ---------------------------------------------------------------- helpers
interface Sample {
  wall: number; // s
  cpu: number; // s (user + system)
  rss: number; // MB
  code: number;
  stderr: string;
  /** bin/tsdbt.mjs ran dist/tsdbt.mjs (the bundle was fresh when the run started). */
  bundled: boolean;
}

/** Runs `node [--import preload] args` in `cwd`; wall time measured here, CPU and peak RSS reported by the child. */
function timeNode(args: string[], cwd: string): Sample {
  const usageFile = join(out, `usage-${process.pid}.json`);
  rmSync(usageFile, { force: true });
  const bundled = useBundle && (bundleIsFresh() as boolean);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', preload, ...args], {
    cwd,
    env: { ...process.env, TSDBT_BENCH_USAGE: usageFile, NO_COLOR: '1', ...(useBundle ? {} : { TSDBT_NO_BUNDLE: '1' }) },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  let u = { maxRSS: 0, user: 0, system: 0 };
  try {
    u = JSON.parse(readFileSync(usageFile, 'utf8'));
  } catch {
    /* the child died before exit handlers ran */
  }
  rmSync(usageFile, { force: true });
  return { wall, cpu: (u.user + u.system) / 1e6, rss: u.maxRSS / 1024, code: r.status ?? -1, stderr: `${r.stdout ?? ''}${r.stderr ?? ''}`, bundled };
}

/** Runs a command; wall time. */
function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { wall: number; code: number; output: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { wall: (performance.now() - t0) / 1000, code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * "Cold" means no target/. Deleting 12,000 files right before a run makes
 * that run's file creation wait on the filesystem freeing the old blocks (on
 * this VM's ext4, mounted with `discard`, 12,000 new files then take ~3.5 s
 * instead of ~0.2 s). So target/ is renamed aside (no blocks freed), the
 * set-aside copies are deleted once every figure is taken, and each cold run
 * waits for {@link settle}.
 */
const trash = join(projectsDir, '.trash');
let trashed = 0;
function setAside(path: string): void {
  if (!existsSync(path)) return;
  mkdirSync(trash, { recursive: true });
  renameSync(path, join(trash, `${process.pid}-${trashed++}`));
}

/**
 * Lets the filesystem finish freeing blocks from earlier runs (rewritten
 * files, a replaced manifest.json) before a cold run: `sync`, then 6 s (more
 * than ext4's 5 s journal commit interval).
 */
function settle(): void {
  spawnSync('sync');
  spawnSync('sleep', ['6']);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x: number, d = 2) => x.toFixed(d);

function fail(what: string, s: { code: number; stderr?: string; output?: string }): never {
  console.error(`bench: ${what} failed (exit ${s.code}):\n${(s.stderr ?? s.output ?? '').slice(-3000)}`);
  process.exit(1);
}

function profilesYml(schema: string): string {
  return `bench:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: ${pgConn.host}\n      port: ${pgConn.port}\n      user: ${pgConn.user}\n      dbname: ${pgConn.database}\n      schema: ${schema}\n      threads: 4\n`;
}

function machine(): Record<string, string> {
  const sh = (c: string) => spawnSync('sh', ['-c', c], { encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: sh('nproc') || String(cpus().length),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    postgres: sh(`psql -h ${pgConn.host} -p ${pgConn.port} -U ${pgConn.user} -d ${pgConn.database} -Atc 'show server_version' 2>/dev/null`) || 'not reachable',
    load: sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' '),
  };
}

const results: Record<string, unknown> = { machine: machine(), runs };

// ---------------------------------------------------------------- compile
interface CompileRow {
  models: number;
  nodes: string;
  case: string;
  wall: number;
  cpu: number;
  rss: number;
  walls: number[];
  /** How many of the runs used dist/tsdbt.mjs (the rest went through tsx). */
  bundled: string;
}

function benchCompile(n: number): CompileRow[] {
  const dir = join(projectsDir, `project-${n}`);
  process.stderr.write(`generating ${n} models in ${dir} … `);
  setAside(dir);
  generateProject(dir, n);
  writeFileSync(join(dir, 'profiles.yml'), profilesYml(`bench_compile_${n}`));
  process.stderr.write('done\n');
  const args = [bin, 'compile', '--project-dir', dir, '--profiles-dir', dir];
  const rowsOut: CompileRow[] = [];
  const record = (label: string, samples: Sample[], nodes: string) => {
    rowsOut.push({
      models: n,
      nodes,
      case: label,
      wall: median(samples.map((s) => s.wall)),
      cpu: median(samples.map((s) => s.cpu)),
      rss: Math.max(...samples.map((s) => s.rss)),
      walls: samples.map((s) => s.wall),
      bundled: `${samples.filter((s) => s.bundled).length}/${samples.length}`,
    });
  };
  const nodesOf = (s: Sample) => /Compiled (\d+) nodes/.exec(s.stderr)?.[1] ?? '?';

  // cold: no target/ at all
  const cold: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    setAside(join(dir, 'target'));
    settle();
    const s = timeNode(args, dir);
    if (s.code !== 0) fail(`tsdbt compile (${n} models, cold)`, s);
    cold.push(s);
    process.stderr.write(`  ${n} cold #${i + 1}: ${fmt(s.wall)} s\n`);
  }
  const nodes = nodesOf(cold[0]);
  record('cold (no target/)', cold, nodes);

  // unchanged: target/ from the previous run kept
  const warm: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const s = timeNode(args, dir);
    if (s.code !== 0) fail(`tsdbt compile (${n} models, unchanged)`, s);
    warm.push(s);
    process.stderr.write(`  ${n} unchanged #${i + 1}: ${fmt(s.wall)} s\n`);
  }
  record('unchanged', warm, nodes);

  // one model edited (appends a comment: re-read, re-extracted, re-written)
  const edited: Sample[] = [];
  const victim = join(dir, 'models', 'layer_0', 'm_42.sql');
  for (let i = 0; i < runs; i++) {
    appendFileSync(victim, `-- edit ${i}\n`);
    const s = timeNode(args, dir);
    if (s.code !== 0) fail(`tsdbt compile (${n} models, one edited)`, s);
    edited.push(s);
    const compiled = readFileSync(join(dir, 'target', 'compiled', 'bench', 'models', 'layer_0', 'm_42.sql'), 'utf8');
    if (!compiled.includes(`-- edit ${i}`)) fail(`the edited model was not re-compiled (${n} models)`, { code: 0, stderr: compiled });
    process.stderr.write(`  ${n} one edited #${i + 1}: ${fmt(s.wall)} s\n`);
  }
  record('one model edited', edited, nodes);
  return rowsOut;
}

/**
 * The same pipeline in-process (bench/stages.ts), stage by stage: median ms
 * per stage, cold and unchanged, plus the whole process's wall time measured
 * from outside. `bundled`: run from a one-file esbuild bundle (no tsx), i.e.
 * what `tsdbt compile` would cost if shipped bundled and writing only the
 * compiled files that changed.
 */
type StageRow = { case: string; stages: Record<string, number>; rss: number; wall: number; written: unknown };
function benchStages(n: number, bundled: string | null): StageRow[] {
  const dir = join(projectsDir, `project-${n}`);
  const args = bundled ? [bundled, dir] : ['--import', 'tsx', join(here, 'stages.ts'), dir];
  const runOnce = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) fail('bench/stages.ts', { code: r.status ?? -1, stderr: r.stderr });
    return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as { stages: Record<string, number>; rss: number; written: unknown }), wall };
  };
  const summarise = (label: string, samples: ReturnType<typeof runOnce>[]): StageRow => {
    const stages: Record<string, number> = {};
    for (const k of Object.keys(samples[0].stages)) stages[k] = median(samples.map((s) => s.stages[k]));
    return { case: label, stages, rss: Math.max(...samples.map((s) => s.rss)), wall: median(samples.map((s) => s.wall)), written: samples[samples.length - 1].written };
  };
  const cold = [];
  for (let i = 0; i < runs; i++) {
    setAside(join(dir, 'target'));
    settle();
    cold.push(runOnce());
  }
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(runOnce());
  return [summarise('cold', cold), summarise('unchanged', warm)];
}

/** Bundles `entry` into `outfile` with esbuild (installed with tsx); null when esbuild is not there. */
async function bundle(entry: string, outfile: string): Promise<string | null> {
  try {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    mkdirSync(dirname(outfile), { recursive: true });
    await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
    return outfile;
  } catch (e) {
    process.stderr.write(`(no bundle: ${(e as Error).message.split('\n')[0]})\n`);
    return null;
  }
}

// ---------------------------------------------------------------- seeds
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

/** dbt-postgres's seed method: read the whole CSV, then `insert … values (…), (…)` with 10,000 rows (40,000 bound parameters) per statement. */
async function dbtStyleLoad(file: string, schema: string): Promise<number> {
  const client = new pg.Client(pgConn);
  await client.connect();
  try {
    await client.query(`drop table if exists "${schema}"."events_dbt_style"`);
    await client.query(`create table "${schema}"."events_dbt_style" (${SEED_COLUMNS})`);
    const records: string[][] = [];
    const parser = createReadStream(file).pipe(parseCsv({ from_line: 2 }));
    for await (const rec of parser) records.push(rec as string[]);
    const batch = 10_000;
    for (let at = 0; at < records.length; at += batch) {
      const slice = records.slice(at, at + batch);
      const values: string[] = [];
      const params: (string | null)[] = [];
      for (const r of slice) {
        const base = params.length;
        values.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4})`);
        for (const v of r) params.push(v === '' ? null : v);
      }
      await client.query(`insert into "${schema}"."events_dbt_style" (id, created_at, is_active, label) values ${values.join(', ')}`, params);
    }
    return records.length;
  } finally {
    await client.end();
  }
}

async function countRows(relation: string): Promise<number> {
  const client = new pg.Client(pgConn);
  await client.connect();
  try {
    return Number((await client.query(`select count(*)::bigint as n from ${relation}`)).rows[0].n);
  } finally {
    await client.end();
  }
}

interface SeedRow {
  loader: string;
  wall: number;
  walls: number[];
  rss?: number;
}

async function benchSeed(): Promise<SeedRow[]> {
  const dir = join(projectsDir, 'seed-project');
  const schema = 'bench_seed';
  const csv = join(dir, 'seeds', 'events.csv');
  process.stderr.write(`writing ${rows} rows to ${csv} … `);
  await writeSeedCsv(csv, rows);
  process.stderr.write(`done (${(statSync(csv).size / 2 ** 20).toFixed(0)} MB)\n`);
  writeFileSync(
    join(dir, 'dbt_project.yml'),
    `name: bench\nprofile: bench\nconfig-version: 2\nseeds:\n  bench:\n    +column_types: {id: bigint, created_at: timestamp, is_active: boolean, label: text}\n`,
  );
  writeFileSync(join(dir, 'profiles.yml'), profilesYml(schema));
  const psql = ['-h', pgConn.host, '-p', String(pgConn.port), '-U', pgConn.user, '-d', pgConn.database, '-v', 'ON_ERROR_STOP=1', '-q'];
  const setup = timeCommand('psql', [...psql, '-c', `create schema if not exists ${schema}`]);
  if (setup.code !== 0) fail('psql (is PostgreSQL running at 127.0.0.1:5432?)', setup);

  const loaded: SeedRow[] = [];
  // tsdbt seed (--full-refresh: drop and re-create every time, as the others do)
  const t: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const s = timeNode([bin, 'seed', '--full-refresh', '--project-dir', dir, '--profiles-dir', dir], dir);
    if (s.code !== 0) fail('tsdbt seed', s);
    t.push(s);
    process.stderr.write(`  tsdbt seed #${i + 1}: ${fmt(s.wall)} s\n`);
  }
  const n1 = await countRows(`${schema}.events`);
  if (n1 !== rows) fail(`tsdbt seed loaded ${n1} rows, expected ${rows}`, { code: 0 });
  loaded.push({ loader: 'tsdbt seed (whole command)', wall: median(t.map((s) => s.wall)), walls: t.map((s) => s.wall), rss: Math.max(...t.map((s) => s.rss)) });
  // the load step alone (create + COPY), as tsdbt's own log line reports it: `[CREATE 1000000 in 0.93s]`
  const steps = t.map((s) => Number(/\[\w+ \d+ in ([\d.]+)s\]/.exec(s.stderr)?.[1] ?? NaN)).filter((x) => !Number.isNaN(x));
  if (steps.length) loaded.push({ loader: 'tsdbt seed, load step only (its log line)', wall: median(steps), walls: steps });

  // psql \copy (drop + create + \copy in one psql run)
  const p: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = timeCommand('psql', [
      ...psql,
      '-c', `drop table if exists ${schema}.events_psql`,
      '-c', `create table ${schema}.events_psql (${SEED_COLUMNS})`,
      '-c', `\\copy ${schema}.events_psql from '${csv}' with (format csv, header true)`,
    ]);
    if (r.code !== 0) fail('psql \\copy', r);
    p.push(r.wall);
    process.stderr.write(`  psql \\copy #${i + 1}: ${fmt(r.wall)} s\n`);
  }
  const n2 = await countRows(`${schema}.events_psql`);
  if (n2 !== rows) fail(`psql loaded ${n2} rows`, { code: 0 });
  loaded.push({ loader: 'psql \\copy', wall: median(p), walls: p });

  // dbt-style batched INSERT
  const d: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const n = await dbtStyleLoad(csv, schema);
    d.push((performance.now() - t0) / 1000);
    if (n !== rows) fail(`dbt-style loader read ${n} rows`, { code: 0 });
    process.stderr.write(`  dbt-style INSERT #${i + 1}: ${fmt(d[d.length - 1])} s\n`);
  }
  const n3 = await countRows(`${schema}.events_dbt_style`);
  if (n3 !== rows) fail(`dbt-style loader loaded ${n3} rows`, { code: 0 });
  loaded.push({ loader: 'dbt-style INSERT, 10,000-row batches', wall: median(d), walls: d });
  timeCommand('psql', [...psql, '-c', `drop schema ${schema} cascade`]);
  return loaded;
}

// ---------------------------------------------------------------- main
mkdirSync(out, { recursive: true });
const m = results.machine as Record<string, string>;
console.log(`tsdbt bench — projects in ${projectsDir}; ${m.cpu}, ${m.cores} cores, ${m.memory}, Node ${m.node}, PostgreSQL ${m.postgres}; load average at start ${m.load}; median of ${runs} run(s)\n`);

/** Start-up alone: `tsdbt --version` through tsx (as shipped) and, when esbuild is installed (tsx brings it), from a one-file bundle. */
async function benchStartup(): Promise<{ how: string; wall: number; rss: number; bundled: string }[]> {
  const rowsOut: { how: string; wall: number; rss: number; bundled: string }[] = [];
  const sample = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const xs: { wall: number; rss: number; bundled: boolean }[] = [];
    for (let i = 0; i < Math.max(3, runs); i++) {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        xs.push(timeNode(args, repo));
      } finally {
        for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
      }
    }
    return { wall: median(xs.map((x) => x.wall)), rss: Math.max(...xs.map((x) => x.rss)), bundled: `${xs.filter((x) => x.bundled && !env.TSDBT_NO_BUNDLE).length}/${xs.length}` };
  };
  if (useBundle) rowsOut.push({ how: 'node bin/tsdbt.mjs --version (dist/tsdbt.mjs, as after npm ci)', ...sample([bin, '--version']) });
  rowsOut.push({ how: 'TSDBT_NO_BUNDLE=1 node bin/tsdbt.mjs --version (tsx: no bundle, or src/ edited since)', ...sample([bin, '--version'], { TSDBT_NO_BUNDLE: '1' }) });
  return rowsOut;
}

if (useBundle && (doCompile || doSeed)) {
  process.stderr.write('building dist/tsdbt.mjs (bin/bundle.mjs, as npm ci does) … ');
  process.stderr.write((await buildBundle()) ? 'done\n' : 'failed: runs go through tsx\n');
}

if (doCompile) {
  const su = await benchStartup();
  results.startup = su;
  console.log('start-up (no project work)');
  console.log('| how | wall (s) | peak RSS (MB) |');
  console.log('|---|---:|---:|');
  for (const r of su) console.log(`| ${r.how} | ${fmt(r.wall)} | ${fmt(r.rss, 0)} |${r.bundled.startsWith('0/') ? '' : ` (bundle used in ${r.bundled} runs)`}`);
  console.log('');

  const rowsC: CompileRow[] = [];
  for (const n of sizes) rowsC.push(...benchCompile(n));
  results.compile = rowsC;
  console.log('parse + compile (`tsdbt compile`, child process, wall time incl. Node/tsx start-up)');
  console.log('| models | nodes compiled | case | wall (s) | CPU (s) | peak RSS (MB) | runs via dist/tsdbt.mjs | target |');
  console.log('|---:|---:|---|---:|---:|---:|---:|---|');
  for (const r of rowsC) {
    let target = '';
    if (r.models === 10000 && r.case.startsWith('cold')) target = `≤ 1.5 s, ≤ 500 MB: ${r.wall <= 1.5 && r.rss <= 500 ? 'met' : 'NOT met'}`;
    if (r.models === 10000 && r.case === 'unchanged') target = `≤ 0.5 s, ≤ 500 MB: ${r.wall <= 0.5 && r.rss <= 500 ? 'met' : 'NOT met'}`;
    console.log(`| ${r.models} | ${r.nodes} | ${r.case} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${fmt(r.rss, 0)} | ${r.bundled} | ${target} |`);
  }
  console.log('');

  const largest = Math.max(...sizes);
  const stageRuns: { how: string; rows: StageRow[] }[] = [{ how: 'tsx', rows: benchStages(largest, null) }];
  const bundledStages = await bundle(join(here, 'stages.ts'), join(out, 'dist', 'stages.mjs'));
  if (bundledStages) stageRuns.push({ how: 'one-file bundle (as bin/tsdbt.mjs runs after npm ci)', rows: benchStages(largest, bundledStages) });
  results.stages = stageRuns;
  const keys = Object.keys(stageRuns[0].rows[0].stages);
  console.log(`where the time goes: the same pipeline in-process (bench/stages.ts: writes only changed compiled files), ${largest} models, ms, median`);
  console.log(`| run from | case | process wall (s) | ${keys.join(' | ')} | peak RSS (MB) |`);
  console.log(`|---|---|---:|${keys.map(() => '---:').join('|')}|---:|`);
  for (const sr of stageRuns) {
    for (const r of sr.rows) console.log(`| ${sr.how} | ${r.case} | ${fmt(r.wall)} | ${keys.map((k) => fmt(r.stages[k], 0)).join(' | ')} | ${fmt(r.rss, 0)} |`);
  }
  console.log('');
}

if (doSeed) {
  const rowsS = await benchSeed();
  results.seed = rowsS;
  const copy = rowsS.find((r) => r.loader.startsWith('psql'))!.wall;
  const ins = rowsS.find((r) => r.loader.startsWith('dbt-style'))!.wall;
  const ts = rowsS[0].wall;
  const step = rowsS.find((r) => r.loader.includes('load step'))?.wall;
  console.log(`seed: ${rows.toLocaleString('en')} rows (bigint, timestamp, boolean, text) on PostgreSQL`);
  console.log('| loader | wall (s) | vs psql \\copy | vs dbt-style INSERT |');
  console.log('|---|---:|---:|---:|');
  for (const r of rowsS) console.log(`| ${r.loader} | ${fmt(r.wall)} | ${fmt(r.wall / copy)}× | ${fmt(ins / r.wall, 1)}× faster |`);
  console.log('');
  console.log(`targets (whole command): within 1.2× of psql \\copy: ${ts <= 1.2 * copy ? 'met' : 'NOT met'} (${fmt(ts / copy)}×); ≥ 20× faster than the batched INSERT: ${ins / ts >= 20 ? 'met' : 'NOT met'} (${fmt(ins / ts, 1)}×)`);
  if (step !== undefined) console.log(`targets (load step): within 1.2× of psql \\copy: ${step <= 1.2 * copy ? 'met' : 'NOT met'} (${fmt(step / copy)}×); ≥ 20× faster than the batched INSERT: ${ins / step >= 20 ? 'met' : 'NOT met'} (${fmt(ins / step, 1)}×)`);
  console.log(`tsdbt seed peak RSS: ${fmt(rowsS[0].rss ?? 0, 0)} MB`);
}

if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
rmSync(trash, { recursive: true, force: true });
