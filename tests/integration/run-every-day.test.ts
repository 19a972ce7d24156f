/**
 * Issue 13, "Running it every day": every recipe of README.md's "Run it every day" section, run as
 * written. The code blocks are read from the README (nothing is copied here), `/srv/analytics` is
 * replaced by a temporary project with tsdbt installed as `node_modules/.bin/tsdbt`, and:
 *  - the cron line: five schedule fields, its command through `sh -c` (quiet when all is well, the
 *    error when not; `tsdbt retry` then rebuilds only what failed);
 *  - the systemd units: `systemd-analyze verify` when present, and ExecStart run in WorkingDirectory
 *    with the Environment= variables;
 *  - the GitHub Actions workflow: a `schedule:` trigger, and each `run:` step with tsdbt or jq, in order,
 *    under `bash -eo pipefail` as Actions runs them, the `if:` conditions honoured;
 *  - the Airflow DAGs (parsed by python3's ast): the BashOperator's bash_command with its env, and the
 *    command lines Cosmos runs with `dbt_executable_path` (astronomer-cosmos's dbt/graph.py
 *    `run_dbt_ls`: `ls --output json` plus --project-dir/--profiles-dir/--profile/--target and
 *    DBT_LOG_PATH/DBT_TARGET_PATH; then `run --select <model>` per task);
 *  - the monitoring, layer and retry lines; on PostgreSQL also the overlap messages of the run lock and a
 *    transient connection failure retried per the profile's `retries` (dbt-postgres's setting).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeEngines, Project, projectYml, REPO_ROOT, type Files } from './harness.ts';

const SRV = '/srv/analytics';

/** The fenced blocks of README's "Run it every day" section, with the heading they sit under. */
function recipes(): { heading: string; lang: string; body: string }[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Run it every day');
  assert.ok(start >= 0, 'README has a "Run it every day" section');
  const end = readme.indexOf('\n## ', start + 5);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const out: { heading: string; lang: string; body: string }[] = [];
  let heading = 'Run it every day';
  const re = /^(#{3} .*)$|^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(section); m; m = re.exec(section)) {
    if (m[1]) heading = m[1].replace(/^#+ /, '');
    else out.push({ heading, lang: m[2], body: m[3] });
  }
  return out;
}

const block = (pred: (b: { heading: string; lang: string; body: string }) => boolean, what: string) => {
  const b = recipes().find(pred);
  assert.ok(b, `README block: ${what}`);
  return b;
};

const FILES: Files = {
  'dbt_project.yml': projectYml('analytics'),
  'models/staging/stg_users.sql': 'select 1 as user_id union all select 2\n',
  'models/marts/dim_users.sql': "{{ config(materialized='table') }}\nselect * from {{ ref('stg_users') }}\n",
  'models/marts/schema.yml': 'version: 2\nmodels:\n  - name: dim_users\n    columns:\n      - name: user_id\n        data_tests: [unique, not_null]\n',
};

function sh(cmd: string, cwd: string, env: Record<string, string> = {}, shell: readonly string[] = ['sh', '-c']): SpawnSyncReturns<string> {
  const base = { ...process.env };
  for (const k of ['DBT_PROFILES_DIR', 'TSDBT_PROFILES_DIR', 'GITHUB_ACTIONS', 'FORCE_COLOR', 'DBT_TARGET']) delete base[k];
  return spawnSync(shell[0], [...shell.slice(1), cmd], { cwd, env: { ...base, NO_COLOR: '1', ...env }, encoding: 'utf8', timeout: 300_000 });
}

/** Python's ast of a README block: the keyword arguments (literal values) of every call named `name`. */
function pythonCallKwargs(source: string, name: string): Record<string, unknown>[] {
  const py = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
out = []
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, 'id', getattr(node.func, 'attr', None)) == ${JSON.stringify(name)}:
        kw = {}
        for k in node.keywords:
            try:
                kw[k.arg] = ast.literal_eval(k.value)
            except Exception:
                kw[k.arg] = ast.unparse(k.value)
        kw['__args__'] = [ast.literal_eval(a) if isinstance(a, ast.Constant) else ast.unparse(a) for a in node.args]
        out.append(kw)
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', py], { input: source, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

await describeEngines('README "Run it every day" recipes, run as written', (engine) => {
  let p: Project;
  let home: string;
  const here = (text: string) => text.replaceAll(SRV, p.dir);
  before(async () => {
    p = await Project.create(engine, FILES, { threads: 2 });
    // The recipes' setup: a `prod` target of profile `analytics`, tsdbt installed in node_modules.
    writeFileSync(join(p.dir, 'profiles.yml'), p.read('profiles.yml')!.replace('target: dev', 'target: prod').replace('    dev:\n', '    prod:\n'));
    mkdirSync(join(p.dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(REPO_ROOT, join(p.dir, 'node_modules', 'tsdbt'));
    symlinkSync('../tsdbt/bin/tsdbt.mjs', join(p.dir, 'node_modules', '.bin', 'tsdbt'));
    writeFileSync(join(p.dir, 'package.json'), JSON.stringify({ name: 'analytics', private: true, devDependencies: { tsdbt: '*' } }));
    home = mkdtempSync(join(tmpdir(), 'tsdbt-home-'));
  });
  after(async () => {
    rmSync(home, { recursive: true, force: true });
    await p?.cleanup();
  });

  it('cron: a valid schedule; quiet when all is well, the error on stdout (cron mails it) when not; tsdbt retry rebuilds only what failed', () => {
    const b = block((x) => x.heading === 'cron', 'the crontab line');
    const line = b.body.trim();
    const fields = line.split(/\s+/);
    for (const f of fields.slice(0, 5)) assert.match(f, /^(\*|\d+)(\/\d+)?$/, `schedule field ${f}`);
    const command = here(fields.slice(5).join(' '));
    let r = sh(command, home, { HOME: home });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '', 'nothing to mail');
    assert.ok(existsSync(join(p.dir, 'logs', 'dbt.log')), 'the full log is in logs/dbt.log');
    // A broken model: the failure is printed (mailed), the build and its retry both exit non-zero.
    p.write({ 'models/marts/broken.sql': 'select * from missing_table\n' });
    r = sh(command, home, { HOME: home });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /ERROR creating sql view model \S+\.broken/);
    assert.match(r.stdout, /Failure in model broken \(models\/marts\/broken\.sql\)/);
    // Fixed: the README's retry line rebuilds exactly what failed.
    p.write({ 'models/marts/broken.sql': 'select 1 as fixed\n' });
    const retry = block((x) => x.body.trim().endsWith('tsdbt retry --target prod'), 'the retry line');
    r = sh(retry.body.trim(), p.dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Retrying 1 node from the last 'build'/);
    assert.match(r.stdout, /Done\. PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=1/);
    p.write({ 'models/marts/broken.sql': null });
  });

  it('systemd: the units verify, and ExecStart runs in WorkingDirectory with the Environment= variables', () => {
    const units = recipes().filter((x) => x.lang === 'ini');
    assert.equal(units.length, 2, 'a service and a timer');
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-systemd-'));
    try {
      const files = units.map((u) => {
        const name = /^# \/etc\/systemd\/system\/(\S+)$/m.exec(u.body)![1];
        writeFileSync(join(dir, name), here(u.body));
        return name;
      });
      assert.deepEqual(files.sort(), ['tsdbt-nightly.service', 'tsdbt-nightly.timer']);
      const timer = readFileSync(join(dir, 'tsdbt-nightly.timer'), 'utf8');
      assert.match(timer, /^OnCalendar=\S+ \d\d:\d\d:\d\d$/m);
      if (spawnSync('systemd-analyze', ['--version']).status === 0) {
        const v = spawnSync('systemd-analyze', ['verify', '--man=no', ...files.map((f) => join(dir, f))], { encoding: 'utf8' });
        assert.equal(v.status, 0, v.stdout + v.stderr);
      }
      const service = readFileSync(join(dir, 'tsdbt-nightly.service'), 'utf8');
      const cwd = /^WorkingDirectory=(.+)$/m.exec(service)![1];
      const env = Object.fromEntries([...service.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
      const exec = /^ExecStart=(.+)$/m.exec(service)![1];
      const r = sh(exec, cwd, { ...env, HOME: home });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { info: { name: string }; data: { stats?: Record<string, number> } });
      assert.deepEqual(events.find((e) => e.info.name === 'StatsLine')!.data.stats, { pass: 4, warn: 0, error: 0, skip: 0, noop: 0, total: 4 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('GitHub Actions: a schedule trigger; the run: steps with tsdbt and jq, in order, as Actions runs them', () => {
    const wf = parseYaml(block((x) => x.heading === 'GitHub Actions', 'the workflow').body) as {
      on: { schedule: { cron: string }[] };
      jobs: Record<string, { steps: { run?: string; if?: string; name?: string }[] }>;
    };
    assert.equal(wf.on.schedule[0].cron.split(' ').length, 5);
    let failed = false;
    let ran = 0;
    let summary = '';
    for (const step of Object.values(wf.jobs)[0].steps) {
      if (!step.run || !/tsdbt|jq/.test(step.run)) continue; // checkout, setup-node, npm ci, upload
      const cond = step.if ?? 'success()';
      if ((cond === 'failure()' && !failed) || (cond === 'success()' && failed)) continue;
      const r = sh(step.run, p.dir, { HOME: home }, ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c']);
      ran++;
      if (r.status !== 0) failed = true;
      if (step.name === 'summary') summary = r.stdout;
      assert.equal(r.status, 0, `${step.name ?? step.run}: ${r.stdout}${r.stderr}`);
    }
    assert.equal(ran, 2, 'build and summary ran; the retry step only runs after a failure');
    assert.deepEqual(JSON.parse(summary), { error: 0, noop: 0, pass: 4, skip: 0, total: 4, warn: 0 });
  });

  it('Airflow BashOperator: its bash_command (with its env) builds the project', () => {
    const b = block((x) => x.lang === 'python' && x.body.includes('BashOperator('), 'the BashOperator DAG');
    const [op] = pythonCallKwargs(b.body, 'BashOperator');
    const env = op.env as Record<string, string>;
    assert.equal(op.append_env, true, 'the task keeps PATH etc.');
    const r = sh(here(String(op.bash_command)), home, { ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, here(v)])), HOME: home });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.trim().split('\n').every((l) => JSON.parse(l)), 'JSON events in the task log');
  });

  it('Astronomer Cosmos: `ls --output json` as Cosmos calls it parses into its DbtNode fields; a model task runs', () => {
    const b = block((x) => x.lang === 'python' && x.body.includes('DbtDag('), 'the Cosmos DAG');
    const exe = here(String(pythonCallKwargs(b.body, 'ExecutionConfig')[0].dbt_executable_path));
    const profile = pythonCallKwargs(b.body, 'ProfileConfig')[0];
    const project = here(String((pythonCallKwargs(b.body, 'ProjectConfig')[0].__args__ as string[])[0]));
    const profilesDir = here(String(profile.profiles_yml_filepath)).replace(/\/profiles\.yml$/, '');
    const logDir = mkdtempSync(join(tmpdir(), 'tsdbt-cosmos-'));
    try {
      const flags = ['--project-dir', project, '--profiles-dir', profilesDir, '--profile', String(profile.profile_name), '--target', String(profile.target_name)];
      const env: NodeJS.ProcessEnv = { ...process.env, DBT_LOG_PATH: join(logDir, 'logs'), DBT_TARGET_PATH: join(logDir, 'target'), HOME: home };
      delete env.DBT_PROFILES_DIR;
      // cosmos/dbt/graph.py run_dbt_ls, with and without the --output-keys newer Cosmos adds.
      for (const extra of [[], ['--output-keys', 'name', 'unique_id', 'resource_type', 'depends_on', 'original_file_path', 'tags', 'config', 'freshness']]) {
        const ls = spawnSync(exe, ['ls', '--output', 'json', ...extra, ...flags], { cwd: logDir, env, encoding: 'utf8' });
        assert.equal(ls.status, 0, ls.stderr);
        assert.ok(!ls.stdout.includes('Error'), 'Cosmos treats "Error" on stdout as a failure');
        const nodes = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
        const dim = nodes.find((n) => n.unique_id === 'model.analytics.dim_users')!;
        assert.equal(dim.resource_type, 'model');
        assert.deepEqual(dim.depends_on.nodes, ['model.analytics.stg_users']);
        assert.equal(dim.original_file_path, 'models/marts/dim_users.sql');
        assert.ok(Array.isArray(dim.tags) && typeof dim.config === 'object');
      }
      assert.ok(existsSync(join(logDir, 'logs', 'dbt.log')), 'DBT_LOG_PATH is honoured');
      // One Airflow task per model, upstream first, as the Cosmos DAG orders them.
      for (const model of ['stg_users', 'dim_users']) {
        const run = spawnSync(exe, ['run', '--select', model, ...flags], { cwd: logDir, env, encoding: 'utf8' });
        assert.equal(run.status, 0, run.stdout + run.stderr);
      }
      assert.ok(existsSync(join(logDir, 'target', 'run_results.json')), 'DBT_TARGET_PATH is honoured');
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  it('monitoring: the StatsLine summary through jq; a layer with --fail-fast stops at its first failure', () => {
    const mon = block((x) => x.body.includes('StatsLine') && x.lang === 'sh', 'the monitoring line');
    const [cmd, expected] = mon.body.trim().split('\n');
    const r = sh(cmd, p.dir, { HOME: home }, ['bash', '-eo', 'pipefail', '-c']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout)), Object.keys(JSON.parse(expected.replace(/^#\s*/, ''))));
    const layer = block((x) => x.body.includes('--fail-fast'), 'the layer line').body.trim();
    let l = sh(layer, p.dir);
    assert.equal(l.status, 0, l.stdout + l.stderr);
    assert.match(l.stdout, /Done\. PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=1/, 'only the staging layer');
    p.write({ 'models/staging/a_broken.sql': 'select * from missing_table\n', 'models/staging/z_after.sql': "select * from {{ ref('stg_users') }}\n" });
    try {
      l = sh(layer.replace('--target prod', '--target prod --threads 1'), p.dir);
      assert.equal(l.status, 1);
      assert.match(l.stdout, /SKIP relation \S+\.z_after|SKIP relation \S+\.stg_users/, 'fail fast skips the rest of the layer');
    } finally {
      p.write({ 'models/staging/a_broken.sql': null, 'models/staging/z_after.sql': null });
    }
  });

  it('overlap: a second run waits and says so; with --no-wait it stops at once with exit 1 (the README\'s messages)', { skip: engine.name === 'pglite' && 'the run lock is a PostgreSQL advisory lock; PGlite admits one process per data directory anyway' }, async () => {
    const msgs = recipes().filter((x) => x.lang === '' && /another tsdbt run/.test(x.body));
    assert.equal(msgs.length, 2);
    // A README line with its run-specific parts (pid, host, time, schema, database) as patterns.
    const pattern = (text: string) =>
      new RegExp(
        text
          .trim()
          .split('\n')[0]
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/pid 4242 on etl-1, since 2026-01-01 03:15:02 UTC/g, 'pid \\d+ on \\S+, since \\S+ \\S+ UTC')
          .replace(/analytics/g, '\\S+'),
      );
    p.write({ 'models/marts/slow.sql': "{{ config(materialized='table') }}\nselect 1 as x from (select pg_sleep(40)) s\n" });
    try {
      const first = spawn(join(p.dir, 'node_modules', '.bin', 'tsdbt'), ['run', '--select', 'slow', '--target', 'prod'], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      first.stdout.on('data', (d) => (out += d));
      const done = new Promise<number>((res) => first.on('close', (c) => res(c ?? 1)));
      for (let i = 0; i < 600 && !/START sql table model \S+\.slow/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /START sql table model/, 'the first run started');
      const noWait = sh('./node_modules/.bin/tsdbt run --select stg_users --target prod --no-wait', p.dir);
      assert.equal(noWait.status, 1, noWait.stdout + noWait.stderr);
      assert.match(noWait.stderr, pattern(msgs[1].body));
      assert.match(noWait.stderr, /hint: wait for it to finish, or run without --no-wait/);
      const waiting = sh('./node_modules/.bin/tsdbt run --select stg_users --target prod', p.dir);
      assert.equal(waiting.status, 0, waiting.stdout + waiting.stderr);
      assert.match(waiting.stderr, pattern(msgs[0].body));
      assert.equal(await done, 0, out);
    } finally {
      p.write({ 'models/marts/slow.sql': null });
    }
  });

  it("transient connection errors: the README profile's retries get through a server that drops the first connections", { skip: engine.name === 'pglite' && 'PGlite is in-process: there is no connection to lose' }, async () => {
    const profileBlock = parseYaml(block((x) => x.lang === 'yaml' && x.body.includes('retries:'), 'the retries profile').body) as { analytics: { outputs: { prod: Record<string, unknown> } } };
    const readme = profileBlock.analytics.outputs.prod;
    assert.equal(readme.retries, 3);
    // A TCP proxy to the test server that closes the first two connections at once (a server restarting, a flaky NAT).
    let dropped = 0;
    const sockets = new Set<Socket>();
    const proxy: Server = createServer((client) => {
      sockets.add(client);
      if (dropped < 2) {
        dropped++;
        client.destroy();
        return;
      }
      const upstream = connect(p.target.port!, p.target.host!);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => (client.destroy(), upstream.destroy());
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    const profile = (retries: unknown) =>
      `analytics:\n  target: prod\n  outputs:\n    prod:\n${Object.entries({ ...readme, retries, host: '127.0.0.1', port, user: p.target.user, password: 'unused', dbname: p.target.dbname, schema: p.schema })
        .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
        .join('\n')}\n`;
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-flaky-'));
    try {
      writeFileSync(join(dir, 'profiles.yml'), profile(readme.retries));
      let r = await runAsync(['run', '--select', 'stg_users', '--project-dir', p.dir, '--profiles-dir', dir]);
      assert.equal(r.code, 0, r.out);
      assert.equal(dropped, 2, 'two connections were dropped and retried');
      dropped = 0;
      writeFileSync(join(dir, 'profiles.yml'), profile(0));
      r = await runAsync(['run', '--select', 'stg_users', '--project-dir', p.dir, '--profiles-dir', dir]);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /127\.0\.0\.1:\d+/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The CLI as a child process without blocking this process (the proxy above serves it). */
function runAsync(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.DBT_PROFILES_DIR;
    const c = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), ...args], { env });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => res({ code: code ?? 1, out }));
  });
}
