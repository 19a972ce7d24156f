/**
 * Column-level lineage (issue 15) for the example star schema (the repository
 * root project) and for a jaffle_shop-style project (tests/fixtures/jaffle-lineage),
 * against golden files a person has read column by column
 * (tests/fixtures/lineage-golden/*.json; UPDATE_GOLDEN=1 rewrites them — then read
 * the diff). Pure: compile without a database, parse, analyse; no engine involved.
 * The explicit assertions below name the constructs: select *, CTE chains, joins,
 * a Jinja loop, union all, window functions, aggregates, casts.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FIXTURES, REPO_ROOT } from '../integration/harness.ts';
import { createConsole } from '../../src/cli/console.ts';
import { openSession, parseSession } from '../../src/cli/pipeline.ts';
import { sessionLineage, displayName } from '../../src/cli/lineage.ts';
import { columnTree, type ProjectLineage } from '../../src/sql/index.ts';
import type { Manifest } from '../../src/parse/manifest.ts';

const GOLDEN = join(FIXTURES, 'lineage-golden');
const dirs: string[] = [];

/** Copies a project to a temp dir and computes its lineage in-process; returns the lineage, manifest and what was printed. */
async function lineageOf(src: string, parts: readonly string[]): Promise<{ lineage: ProjectLineage; manifest: Manifest; printed: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-lineage-'));
  dirs.push(dir);
  for (const p of parts) if (existsSync(join(src, p))) cpSync(join(src, p), join(dir, p), { recursive: true });
  let printed = '';
  const sink = new Writable({ write: (c, _e, cb) => ((printed += String(c)), cb()) }) as unknown as NodeJS.WriteStream;
  const out = createConsole({ color: false, stdout: sink, stderr: sink });
  const s = openSession({ projectDir: dir }, out);
  const p = parseSession(s, out);
  const lineage = await sessionLineage(s, p, out);
  return { lineage, manifest: p.parsed.manifest, printed };
}

/** The golden form: model → { columns: { col: "kind ← parent.col (kind), …" }, filters: [...] }. */
function readable(l: ProjectLineage, m: Manifest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, n] of [...l].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const columns: Record<string, string> = {};
    for (const [col, c] of Object.entries(n.columns)) columns[col] = `${c.kind} <- ${c.upstream.map((u) => `${displayName(m, u.node)}.${u.column} (${u.kind})`).join(', ') || '(none)'}`;
    out[displayName(m, id)] = { columns, filters: n.filters.map((f) => `${displayName(m, f.node)}.${f.column}`), ...(n.complete ? {} : { incomplete: n.notes }) };
  }
  return out;
}

function checkGolden(name: string, actual: Record<string, unknown>): void {
  const file = join(GOLDEN, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, JSON.stringify(actual, null, 2) + '\n');
  }
  assert.deepEqual(actual, JSON.parse(readFileSync(file, 'utf8')), `${file} differs (UPDATE_GOLDEN=1 rewrites it; read the diff)`);
}

const up = (l: ProjectLineage, m: Manifest, model: string, col: string): string[] => {
  const id = Object.values(m.nodes).find((n) => n.name === model)!.unique_id;
  const c = l.get(id)?.columns[col];
  assert.ok(c, `${model}.${col} has lineage`);
  return c.upstream.map((u) => `${displayName(m, u.node)}.${u.column}:${u.kind}`);
};
const kind = (l: ProjectLineage, m: Manifest, model: string, col: string) => l.get(Object.values(m.nodes).find((n) => n.name === model)!.unique_id)!.columns[col].kind;

let star: Awaited<ReturnType<typeof lineageOf>>;
let jaffle: Awaited<ReturnType<typeof lineageOf>>;
before(async () => {
  star = await lineageOf(REPO_ROOT, ['dbt_project.yml', 'models', 'seeds', 'macros']);
  jaffle = await lineageOf(join(FIXTURES, 'jaffle-lineage'), ['dbt_project.yml', 'models', 'seeds', 'macros']);
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('example star schema: golden file', () => checkGolden('growth-analytics', readable(star.lineage, star.manifest)));

it('example star schema: columns through staging, dims and facts', () => {
  const { lineage: l, manifest: m } = star;
  assert.deepEqual(up(l, m, 'fact_sessions', 'user_key'), ['dim_user.user_key:direct']);
  assert.deepEqual(up(l, m, 'dim_user', 'first_session_channel'), ['stg_sessions.channel:direct']);
  assert.deepEqual(up(l, m, 'dim_user', 'session_count'), [], 'count(*): no column');
  assert.equal(kind(l, m, 'dim_user', 'session_count'), 'aggregated');
  assert.equal(kind(l, m, 'dim_user', 'first_session_at'), 'aggregated');
  // a seed's columns (CSV header) are the leaves
  assert.ok(up(l, m, 'stg_sessions', 'userid').every((u) => u.startsWith('sessions.')));
  // the whole path of one column, upstream
  const tree = columnTree(l, { node: 'model.growth_analytics.mart_channel_attribution', column: 'userid' }, 'up');
  const flat: string[] = [];
  const walk = (t: typeof tree) => t.children.forEach((c) => (flat.push(`${displayName(m, c.node)}.${c.column}`), walk(c)));
  walk(tree);
  assert.deepEqual(flat, ['fact_registrations.userid', 'stg_conversions.userid', 'conversions.userid']);
});

it('jaffle_shop: golden file', () => checkGolden('jaffle-lineage', readable(jaffle.lineage, jaffle.manifest)));

it('jaffle_shop: select * through CTE chains, renames, macros, a Jinja loop, joins', () => {
  const { lineage: l, manifest: m } = jaffle;
  // select * from renamed ← select id as customer_id from source ← select * from raw_customers
  assert.deepEqual(Object.keys(l.get('model.jaffle_lineage.stg_customers')!.columns), ['customer_id', 'first_name', 'last_name']);
  assert.deepEqual(up(l, m, 'stg_customers', 'customer_id'), ['raw_customers.id:direct']);
  // the macro's cast: derived
  assert.deepEqual(up(l, m, 'stg_payments', 'amount'), ['raw_payments.amount:derived']);
  // the loop's pivot: aggregated, from amount (value) and payment_method (in the case)
  assert.deepEqual(up(l, m, 'orders', 'coupon_amount'), ['stg_payments.amount:aggregated', 'stg_payments.payment_method:aggregated']);
  assert.deepEqual(Object.keys(l.get('model.jaffle_lineage.orders')!.columns), [
    'order_id', 'customer_id', 'order_date', 'status', 'credit_card_amount', 'coupon_amount', 'bank_transfer_amount', 'gift_card_amount', 'amount',
  ]);
  assert.deepEqual(up(l, m, 'customers', 'customer_lifetime_value'), ['stg_payments.amount:aggregated']);
  assert.deepEqual(up(l, m, 'customers', 'number_of_orders'), ['stg_orders.order_id:aggregated']);
  assert.deepEqual(up(l, m, 'customers', 'first_name'), ['stg_customers.first_name:direct']);
  // join keys and group by are filter/join keys, not column sources
  const f = l.get('model.jaffle_lineage.customers')!.filters.map((x) => `${displayName(m, x.node)}.${x.column}`);
  assert.ok(f.includes('stg_customers.customer_id') && f.includes('stg_payments.order_id') && f.includes('stg_orders.customer_id'), f.join(', '));
});

it('jaffle_shop: window functions, join using, union all, casts', () => {
  const { lineage: l, manifest: m } = jaffle;
  assert.deepEqual(up(l, m, 'customer_order_history', 'running_amount'), ['orders.amount:aggregated', 'orders.customer_id:derived', 'orders.order_date:derived']);
  assert.deepEqual(up(l, m, 'customer_order_history', 'order_seq'), ['orders.customer_id:derived', 'orders.order_date:derived']);
  assert.deepEqual(up(l, m, 'customer_order_history', 'customer_name'), ['customers.first_name:derived', 'customers.last_name:derived']);
  assert.ok(l.get('model.jaffle_lineage.customer_order_history')!.filters.some((x) => x.column === 'status'), 'the where clause');
  // union all: both branches, by position; the second branch's cast is derived
  assert.deepEqual(up(l, m, 'payment_events', 'amount'), ['orders.amount:derived', 'stg_payments.amount:direct']);
  assert.equal(kind(l, m, 'payment_events', 'amount'), 'derived');
  assert.deepEqual(up(l, m, 'payment_events', 'order_id'), ['orders.order_id:direct', 'stg_payments.order_id:direct']);
});

it('a column documented in properties that the model does not produce is a warning naming file and line', () => {
  assert.match(jaffle.printed, /models\/schema\.yml:11 \[column-not-produced\] column 'shipping_fee' is documented for model 'orders'/);
  assert.doesNotMatch(jaffle.printed, /'customer_lifetime_value' is documented/);
});
