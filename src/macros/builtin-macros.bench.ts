/**
 * Micro-benchmark: what dbt's built-in macros (src/macros/dbt) cost.
 * 1. Registering them in a fresh JinjaEnv, as parse does (lazy) and compiled
 *    up front (eager) — run in a fresh process, the first registration is what
 *    a `tsdbt parse` pays.
 * 2. Rendering 10,000 small models (two refs + config) with and without them
 *    registered, and 10,000 models that call dbt.datediff / dbt.date_trunc.
 * Run: node --import tsx src/macros/builtin-macros.bench.ts
 */
import { JinjaEnv, splitArgs } from '../jinja/index.ts';
import { builtinMacroFiles } from './builtin-macros.ts';

const files = builtinMacroFiles();
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

function register(lazy: boolean): { env: JinjaEnv; ms: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const env = new JinjaEnv({ rootPackage: 'bench' });
  for (const f of files) env.addMacroFile(f.source, f.file, 'dbt', { lazy });
  return { env, ms: performance.now() - t0, cpu: cpuMs(process.cpuUsage(c0)) };
}

const first = register(true);
console.log(`register ${files.length} files lazily (first in process): ${first.ms.toFixed(1)} ms wall, ${first.cpu.toFixed(1)} ms cpu`);
const eager = register(false);
console.log(`register ${files.length} files eagerly (compiler already warm):   ${eager.ms.toFixed(1)} ms wall, ${eager.cpu.toFixed(1)} ms cpu`);
const lazy2 = register(true);
console.log(`register ${files.length} files lazily (again):                    ${lazy2.ms.toFixed(1)} ms wall, ${lazy2.cpu.toFixed(1)} ms cpu`);

function renderAll(env: JinjaEnv, models: string[], dispatchFrom: JinjaEnv | null): number {
  const ctx = {
    ref: (...a: unknown[]) => `"analytics"."${String(splitArgs(a).positional[0])}"`,
    config: () => '',
    this: '"analytics"."m"',
    adapter: { dispatch: (name: string, ns: string | null = null) => (dispatchFrom ?? env).dispatch(name, ns) },
  };
  for (let i = 0; i < 300; i++) env.render(models[i].replace('select', 'select /* warm */'), ctx, { file: `models/w${i}.sql` });
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < models.length; i++) bytes += env.render(models[i], ctx, { file: `models/m${i}.sql` }).length;
  if (bytes === 0) throw new Error('nothing rendered');
  return performance.now() - t0;
}

const N = 10_000;
const plain: string[] = [];
const calling: string[] = [];
for (let i = 0; i < N; i++) {
  plain.push(`{{ config(materialized='table', tags=['t${i}']) }}
select o.id, o.amount_${i}, c.name
from {{ ref('orders_${i}') }} o
join {{ ref('customers_${i % 50}') }} c on c.id = o.customer_id
where o.amount > ${i}`);
  calling.push(`select {{ dbt.datediff('o.created_at', 'o.shipped_at', 'day') }} as days_${i},
  {{ dbt.date_trunc('month', 'o.created_at') }} as month
from {{ ref('orders_${i}') }} o`);
}
const none = renderAll(new JinjaEnv(), plain, null);
console.log(`${N} models, no built-ins:           ${none.toFixed(0)} ms (${((none / N) * 1000).toFixed(1)} µs per model)`);
const withBuiltins = renderAll(register(true).env, plain, null);
console.log(`${N} models, built-ins registered:   ${withBuiltins.toFixed(0)} ms (${((withBuiltins / N) * 1000).toFixed(1)} µs per model)`);
const env = register(true).env;
const calls = renderAll(env, calling, env);
console.log(`${N} models calling dbt.datediff + dbt.date_trunc: ${calls.toFixed(0)} ms (${((calls / N) * 1000).toFixed(1)} µs per model)`);
