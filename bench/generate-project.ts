/**
 * Writes a synthetic project of N models for benchmarks, as one DAG with two
 * outputs: a dbt project (for tsdbt) and a Dataform 2.x project (the peer in
 * `npm run bench`). The DAG: a source, then layers of models each ref'ing one
 * to three earlier models, a table materialization and a tag on every third
 * model, and not_null / unique tests on `id` for every tenth model.
 * Deterministic for a given N: both outputs describe exactly the same graph.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One model of the generated DAG. */
export interface GeneratedModel {
  readonly name: string;
  /** Folder under models/ (dbt) or definitions/ (Dataform): `layer_<i / 500>`. */
  readonly folder: string;
  /** Indices of the models it refs (empty: it reads the source). */
  readonly parents: readonly number[];
  /** Materialized as a table (else a view), with tag `t<i % 7>`. */
  readonly table: boolean;
  /** Has not_null + unique tests on `id` (and a description). */
  readonly tested: boolean;
}

/** The DAG both outputs are written from; deterministic for a given `models`. */
export function generateDag(models: number): GeneratedModel[] {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out: GeneratedModel[] = [];
  for (let i = 0; i < models; i++) {
    const parents = new Set<number>();
    if (i >= 10) {
      const k = 1 + Math.floor(rand() * 3);
      while (parents.size < k) parents.add(Math.floor(rand() * i));
    }
    out.push({ name: `m_${i}`, folder: `layer_${Math.floor(i / 500)}`, parents: [...parents], table: i % 3 === 0, tested: i % 10 === 0 });
  }
  return out;
}

/** The model's SQL body, with `refOf(parent index)` and `source` spliced in as each tool spells them. */
function body(m: GeneratedModel, i: number, refOf: (p: number) => string, source: string): string[] {
  if (m.parents.length === 0) return [`select id, ts, amount, '${m.name}' as src from ${source}`];
  const ps = m.parents;
  const lines = [`with p0 as (select * from ${refOf(ps[0])})`];
  for (let j = 1; j < ps.length; j++) lines.push(`, p${j} as (select * from ${refOf(ps[j])})`);
  lines.push('select p0.id, p0.ts, p0.amount + ' + i + ' as amount, p0.src');
  lines.push('from p0');
  for (let j = 1; j < ps.length; j++) lines.push(`left join p${j} on p${j}.id = p0.id`);
  lines.push('where p0.amount is not null');
  return lines;
}

/** Creates the dbt project at `dir` (emptied first). Returns `dir`. */
export function generateProject(dir: string, models: number): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(
    join(dir, 'dbt_project.yml'),
    `name: bench\nprofile: bench\nconfig-version: 2\nmodels:\n  bench:\n    +materialized: view\n    layer_1:\n      +schema: l1\n`,
  );
  const dag = generateDag(models);
  const yml: string[] = ['version: 2', 'sources:', '  - name: raw', '    tables:', '      - name: events', 'models:'];
  const made = new Set<string>();
  dag.forEach((m, i) => {
    if (!made.has(m.folder)) mkdirSync(join(dir, 'models', m.folder), { recursive: true }), made.add(m.folder);
    const lines: string[] = [];
    if (m.table) lines.push(`{{ config(materialized='table', tags=['t${i % 7}']) }}`);
    lines.push(...body(m, i, (p) => `{{ ref('m_${p}') }}`, `{{ source('raw', 'events') }}`));
    writeFileSync(join(dir, 'models', m.folder, `${m.name}.sql`), lines.join('\n') + '\n');
    if (m.tested) yml.push(`  - name: ${m.name}`, `    description: model number ${i}`, '    columns:', '      - name: id', '        tests: [not_null, unique]');
  });
  writeFileSync(join(dir, 'models', 'schema.yml'), yml.join('\n') + '\n');
  return dir;
}

/**
 * Creates the same DAG as a Dataform 2.x project at `dir` (emptied first):
 * `dataform.json`, a declaration for the source, one `.sqlx` per model with
 * `config { type, tags, description, assertions: { uniqueKey, nonNull } }`
 * (Dataform's spelling of the same tests). `copyCore(dir)` puts @dataform/core
 * and its dependencies under the project's node_modules, because Dataform's
 * compiler loads core from the project itself.
 * Returns `dir`.
 */
export function generateDataformProject(dir: string, models: number, copyCore: (projectDir: string) => void): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'definitions'), { recursive: true });
  writeFileSync(
    join(dir, 'dataform.json'),
    JSON.stringify({ warehouse: 'bigquery', defaultDatabase: 'bench', defaultSchema: 'bench', defaultLocation: 'US', assertionSchema: 'bench_assertions' }, null, 2),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true, dependencies: { '@dataform/core': '2.6.7' } }, null, 2));
  writeFileSync(join(dir, 'definitions', 'events.sqlx'), 'config { type: "declaration", schema: "raw", name: "events" }\n');
  const dag = generateDag(models);
  const made = new Set<string>();
  dag.forEach((m, i) => {
    if (!made.has(m.folder)) mkdirSync(join(dir, 'definitions', m.folder), { recursive: true }), made.add(m.folder);
    const cfg: string[] = [`type: "${m.table ? 'table' : 'view'}"`];
    if (m.table) cfg.push(`tags: ["t${i % 7}"]`);
    if (m.tested) cfg.push(`description: "model number ${i}"`, 'assertions: { uniqueKey: ["id"], nonNull: ["id"] }');
    const lines = [`config { ${cfg.join(', ')} }`, ...body(m, i, (p) => '${ref("m_' + p + '")}', '${ref("events")}')];
    writeFileSync(join(dir, 'definitions', m.folder, `${m.name}.sqlx`), lines.join('\n') + '\n');
  });
  copyCore(dir);
  return dir;
}

/**
 * A project of `models` independent small tables (no refs between them), for
 * the `tsdbt run` vs `psql -f` row: each model is `select g as id, … from
 * generate_series(1, rowsPerModel) g`. `heavy` models are larger
 * (`rowsPerModel` rows with an md5 and a sort) for the threads row.
 */
export function generateIndependentTables(dir: string, models: number, rowsPerModel: number, heavy = false): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(join(dir, 'dbt_project.yml'), `name: bench\nprofile: bench\nconfig-version: 2\nmodels:\n  bench:\n    +materialized: table\n`);
  for (let i = 0; i < models; i++) {
    const sql = heavy
      ? `select g as id, md5(g::text || '${i}') as h, (g * ${i + 1}) % 1000 as k from generate_series(1, ${rowsPerModel}) g order by md5(g::text)`
      : `select g as id, 'row ' || g as label, ${i} as model from generate_series(1, ${rowsPerModel}) g`;
    writeFileSync(join(dir, 'models', `t_${i}.sql`), sql + '\n');
  }
  return dir;
}
