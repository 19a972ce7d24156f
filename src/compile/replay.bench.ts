/**
 * Replay cost: rendering a model that makes k database calls (k + 1 renders)
 * against an in-memory database answering at once, vs the same model with the
 * answers inlined (1 render). Prints ms per node. `node --import tsx src/compile/replay.bench.ts`
 */
import { JinjaEnv } from '../jinja/index.ts';
import { ReplayLog, renderWithDatabase, type LiveDatabase } from './live.ts';

const env = new JinjaEnv({});
const model = (k: number) =>
  Array.from({ length: k }, (_, i) => `{% set r${i} = q('select ${i}') %}`).join('\n') +
  "\nselect {{ ref('a') }} as a, {{ config.get('x') }} as x\n" +
  Array.from({ length: k }, (_, i) => `, {{ r${i} }} as c${i}`).join('') +
  '\nfrom t where 1 = 1 {% for i in range(10) %} and c{{ i }} > 0{% endfor %}\n';
const db: LiveDatabase = { query: async (sql) => ({ rows: [{ v: sql }], rowCount: 1, command: 'SELECT', fields: [{ name: 'v', dataTypeID: 25 }] }) };
const ctx = (log: ReplayLog) => ({
  ref: (n: string) => `"s"."${n}"`,
  config: { get: () => 1 },
  q: (sql: string) => log.call('run_query', sql, async (d) => (await d.query(sql)).rows[0].v),
});
for (const k of [0, 1, 3, 10]) {
  const src = model(k);
  const n = 2000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await renderWithDatabase((log) => env.render(src, ctx(log), { file: `m${i % 50}.sql` }), db);
  const replay = (performance.now() - t) / n;
  t = performance.now();
  const inline = { ref: (x: string) => x, config: { get: () => 1 }, q: (s: string) => s };
  for (let i = 0; i < n; i++) env.render(src, inline, { file: `m${i % 50}.sql` });
  const once = (performance.now() - t) / n;
  console.log(`${k} database calls: replay ${replay.toFixed(3)} ms/node (${k + 1} renders), one render ${once.toFixed(3)} ms/node`);
}
