/**
 * `tsdbt clean` and `tsdbt parse`, as dbt's CleanTask and `dbt parse`: clean deletes
 * clean-targets, refuses source paths and (unless --no-clean-project-files-only) paths
 * outside the project, exit 2 and nothing deleted; parse writes manifest.json and
 * perf_info.json and prints its timings. (Neither touches the database; run on both
 * engines' profiles all the same.)
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const FILES: Files = {
  'dbt_project.yml': projectYml('cp'),
  'models/a.sql': 'select 1 as id\n',
  'models/b.sql': "select * from {{ ref('a') }}\n",
  'seeds/s.csv': 'id\n1\n',
};

await describeEngines('clean and parse', (engine) => {
  let p: Project;
  before(async () => {
    p = await Project.create(engine, FILES);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('parse writes manifest.json and perf_info.json and prints the timings', async () => {
    const r = await p.cli('parse');
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Parsed 2 models, 1 seeds, 0 data tests/);
    assert.match(r.stdout, /parse and write manifest\.json: \d+ ms/);
    const m = p.json('target/manifest.json');
    assert.deepEqual(Object.keys(m.nodes).sort(), ['model.cp.a', 'model.cp.b', 'seed.cp.s']);
    const perf = p.json('target/perf_info.json');
    assert.equal(typeof perf.load_all_elapsed, 'number');
    assert.equal(perf.projects[0].nodes, 3);
  });

  it('clean deletes target/ (the default clean-targets)', async () => {
    assert.ok(existsSync(join(p.dir, 'target')));
    const r = await p.cli('clean');
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Cleaned target\//);
    assert.equal(existsSync(join(p.dir, 'target')), false);
    assert.ok(existsSync(join(p.dir, 'models/a.sql')));
  });

  it('clean refuses a source path among clean-targets (exit 2, nothing deleted)', async () => {
    mkdirSync(join(p.dir, 'target'), { recursive: true });
    p.write({ 'dbt_project.yml': projectYml('cp', 'clean-targets: [target, models]\n') });
    const r = await p.cli('clean');
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /will not clean these source paths: models/);
    assert.ok(existsSync(join(p.dir, 'models/a.sql')));
    assert.ok(existsSync(join(p.dir, 'target')));
  });

  it('clean refuses a path outside the project unless --no-clean-project-files-only', async () => {
    const outside = join(p.dir, '..', `${basename(p.dir)}-outside`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'x');
    try {
      p.write({ 'dbt_project.yml': projectYml('cp', `clean-targets: [target, "../${basename(outside)}"]\n`) });
      const r = await p.cli('clean');
      assert.equal(r.code, 2, r.output);
      assert.match(r.stderr, /will not clean these directories outside the project/);
      assert.ok(existsSync(join(outside, 'keep.txt')));
      assert.ok(existsSync(join(p.dir, 'target')));
      const r2 = await p.cli('clean', ['--no-clean-project-files-only']);
      assert.equal(r2.code, 0, r2.output);
      assert.equal(existsSync(outside), false);
      assert.equal(existsSync(join(p.dir, 'target')), false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
