/**
 * Writes a synthetic dbt project of N models for benchmarks: a source, then
 * layers of models each ref'ing one to three earlier models, a config() call
 * in every third model, and a properties file describing every tenth model
 * with not_null / unique tests. Deterministic for a given N.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Creates the project at `dir` (emptied first). Returns `dir`. */
export function generateProject(dir: string, models: number): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(
    join(dir, 'dbt_project.yml'),
    `name: bench\nprofile: bench\nconfig-version: 2\nmodels:\n  bench:\n    +materialized: view\n    layer_1:\n      +schema: l1\n`,
  );
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const perFolder = 500;
  const yml: string[] = ['version: 2', 'sources:', '  - name: raw', '    tables:', '      - name: events', 'models:'];
  for (let i = 0; i < models; i++) {
    const folder = `layer_${Math.floor(i / perFolder)}`;
    mkdirSync(join(dir, 'models', folder), { recursive: true });
    const name = `m_${i}`;
    const lines: string[] = [];
    if (i % 3 === 0) lines.push(`{{ config(materialized='table', tags=['t${i % 7}']) }}`);
    if (i < 10) {
      lines.push(`select id, ts, amount, '${name}' as src from {{ source('raw', 'events') }}`);
    } else {
      const k = 1 + Math.floor(rand() * 3);
      const parents = new Set<number>();
      while (parents.size < k) parents.add(Math.floor(rand() * i));
      const ps = [...parents];
      lines.push(`with p0 as (select * from {{ ref('m_${ps[0]}') }})`);
      for (let j = 1; j < ps.length; j++) lines.push(`, p${j} as (select * from {{ ref('m_${ps[j]}') }})`);
      lines.push('select p0.id, p0.ts, p0.amount + ' + i + ' as amount, p0.src');
      lines.push('from p0');
      for (let j = 1; j < ps.length; j++) lines.push(`left join p${j} on p${j}.id = p0.id`);
      lines.push('where p0.amount is not null');
    }
    writeFileSync(join(dir, 'models', folder, `${name}.sql`), lines.join('\n') + '\n');
    if (i % 10 === 0) {
      yml.push(`  - name: ${name}`, `    description: model number ${i}`, '    columns:', '      - name: id', '        tests: [not_null, unique]');
    }
  }
  writeFileSync(join(dir, 'models', 'schema.yml'), yml.join('\n') + '\n');
  return dir;
}
