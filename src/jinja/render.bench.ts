/**
 * Micro-benchmark: render 10,000 different small models (two refs and a
 * config call) with 100 macros registered, then the same with none.
 * Run: node --import tsx src/jinja/render.bench.ts
 */
import { JinjaEnv, splitArgs } from './index.ts';

function run(macroCount: number, n: number): number {
  const env = new JinjaEnv();
  let lib = '';
  for (let i = 0; i < macroCount; i++) lib += `{% macro m${i}(x, y=none) %}{% if y is none %}{{ x }}{% else %}{{ y }}{% endif %}{% endmacro %}\n`;
  if (macroCount) env.addMacroFile(lib, 'macros/lib.sql', 'proj');
  const ctx = {
    ref: (...a: unknown[]) => `"analytics"."${String(splitArgs(a).positional[0])}"`,
    config: () => '',
    this: '"analytics"."m"',
  };
  const models: string[] = [];
  for (let i = 0; i < n; i++) {
    models.push(`{{ config(materialized='table', tags=['t${i}']) }}
select o.id, o.amount_${i}, c.name
from {{ ref('orders_${i}') }} o
join {{ ref('customers_${i % 50}') }} c on c.id = o.customer_id
where o.amount > ${i}`);
  }
  // Warm up the JIT on other text.
  for (let i = 0; i < 500; i++) env.render(models[i].replace('select', 'select /* warm */'), ctx, { file: `models/w${i}.sql` });
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += env.render(models[i], ctx, { file: `models/m${i}.sql` }).length;
  const ms = performance.now() - t0;
  if (bytes === 0) throw new Error('nothing rendered');
  return ms;
}

const N = 10_000;
for (const macros of [0, 100]) {
  const ms = run(macros, N);
  console.log(`${N} models, ${String(macros).padStart(3)} macros registered: ${ms.toFixed(0)} ms total, ${((ms / N) * 1000).toFixed(1)} µs per model`);
}
