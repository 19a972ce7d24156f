/**
 * The Citus row of the benchmarks (README, "Scaling out with Citus"): the example project (repository root)
 * built with `tsdbt build` on one PostgreSQL server (127.0.0.1:5432, database test) and on the local 3-node
 * Citus cluster (coordinator 127.0.0.1:5601, ../shared/citus/citus-cluster.sh), at each raw size given,
 * with the same `dist` configs (ignored on the plain server, honoured on the cluster). Prints a table of wall
 * times and the EXPLAIN of the attribution mart's query on the cluster, which shows the join of the colocated
 * facts pushed down to the workers (one task per shard pair).
 *
 *   node --import tsx bench/citus.ts [--rows 100000,1000000] [--runs 1] [--json FILE]
 *
 * One machine cannot show the speed-up of real nodes: the workers share its two cores and its disk, so the
 * cluster pays for the distribution (routing, per-shard tasks) without more hardware. Everything is written
 * under bench/.out/citus (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const sizes = opt('rows', '100000').split(',').map(Number).filter((n) => n > 0);
const runs = Math.max(1, Number(opt('runs', '1')));
const jsonOut = opt('json', '');
const servers = {
  postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', dbname: 'test' },
  citus: { host: '127.0.0.1', port: Number(process.env.CITUS_PORT || 5601), user: 'postgres', dbname: 'postgres' },
};
const schema = `bench_citus_${process.pid}`;

async function query(server: (typeof servers)['citus'], text: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ ...server, database: server.dbname });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

async function dropSchemas(server: (typeof servers)['citus']): Promise<void> {
  const rows = await query(server, `select nspname from pg_namespace where nspname = '${schema}' or starts_with(nspname, '${schema}_')`);
  for (const r of rows) await query(server, `drop schema if exists "${String(r.nspname)}" cascade`);
}

const results: { rows: number; target: string; wall: number[] }[] = [];
let plan = '';
for (const rows of sizes) {
  const dir = join(here, '.out', 'citus', String(rows));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['dbt_project.yml', 'models', 'macros', 'tests/data_quality', 'seeds/_seeds.yml']) cpSync(join(repo, f), join(dir, f), { recursive: true });
  const gen = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'generate-seeds.ts'), '--rows', String(rows), '--out', join(dir, 'seeds')], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(gen.stderr);
  const target = (s: (typeof servers)['citus']) => `      type: postgres\n      host: ${s.host}\n      port: ${s.port}\n      user: ${s.user}\n      dbname: ${s.dbname}\n      schema: ${schema}\n      threads: 4\n`;
  writeFileSync(join(dir, 'profiles.yml'), `growth_analytics:\n  target: postgres\n  outputs:\n    postgres:\n${target(servers.postgres)}    citus:\n${target(servers.citus)}`);
  for (const name of ['postgres', 'citus'] as const) {
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      await dropSchemas(servers[name]);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(repo, 'bin', 'tsdbt.mjs'), 'build', '--target', name, '--project-dir', dir, '--profiles-dir', dir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      wall.push((performance.now() - t0) / 1000);
      if (r.status !== 0) throw new Error(`build on ${name} failed:\n${r.stdout}\n${r.stderr}`);
    }
    results.push({ rows, target: name === 'citus' ? 'Citus, coordinator + 2 workers (same machine)' : 'PostgreSQL, one server', wall });
    if (name === 'citus' && rows === sizes[sizes.length - 1]) {
      const explain = await query(
        servers.citus,
        `explain select count(*) from "${schema}_dwh".fact_registrations r join "${schema}_dwh".fact_sessions s on s.user_key = r.user_key and s.time_started <= r.registration_time`,
      );
      plan = explain.map((x) => String(x['QUERY PLAN'])).join('\n');
    }
    await dropSchemas(servers[name]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('| raw session rows | where | tsdbt build wall (s) |');
console.log('|---:|---|---:|');
for (const r of results) console.log(`| ${r.rows.toLocaleString('en-US')} | ${r.target} | ${median(r.wall).toFixed(2)} |`);
console.log('\nThe facts\' join on the cluster (EXPLAIN, largest size):\n');
console.log(plan);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ results, plan }, null, 2));
