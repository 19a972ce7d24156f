/**
 * `tsdbt docs generate | serve | lineage` through the real CLI on a small
 * PGlite project: artifacts, flags, text formats, the server, and secrets
 * kept out of everything the site contains.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freshPgliteDir, pgliteTargetForDir } from '../../src/adapters/testing.ts';
import { createAdapter } from '../../src/adapters/index.ts';
import { browserSkipReason, launchBrowser, REPO_ROOT, tsdbt } from './helpers.ts';
import { pathToFileURL } from 'node:url';

const SECRET = 'sk-live-7f3a9c2e51';

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** The DocsData embedded in index.html. */
function embedded(html: string): any {
  const m = /<script id="tsdbt-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'index.html embeds the docs data');
  return JSON.parse(m[1]!);
}

describe('tsdbt docs (CLI)', () => {
  let dir: string;
  let db: string;
  const env = { DBT_ENV_SECRET_API_TOKEN: SECRET };

  before(async () => {
    db = await freshPgliteDir();
    dir = mkdtempSync(join(tmpdir(), 'tsdbt-docs-cli-'));
    write(dir, {
      'dbt_project.yml': "name: shop\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n",
      'profiles.yml': `shop:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: ${JSON.stringify(db)}\n      schema: main\n      threads: 1\n`,
      'seeds/raw_orders.csv': 'id,amount\n1,10\n2,20\n3,30\n',
      // A DBT_ENV_SECRET_ value is set in the environment (models may not read it: src/secrets.ts); none of the files may hold it.
      'models/stg_orders.sql': "select id, amount, 'tok' as token from {{ ref('raw_orders') }}",
      'models/orders.sql': "select id, amount * 2 as amount from {{ ref('stg_orders') }}",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: orders\n    description: "Orders, **doubled**. <script>alert(1)</script>"\n    columns:\n      - name: id\n        description: The key.\n        data_tests: [unique, not_null]\n',
    });
    const build = await tsdbt(dir, ['build'], env);
    assert.equal(build.code, 0, build.output);
    // The database's own comment reaches catalog.json as written.
    const adapter = await createAdapter(pgliteTargetForDir(db, 'main'));
    try {
      await adapter.query(`comment on table main.orders is 'token note'`);
    } finally {
      await adapter.close();
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (db) rmSync(db, { recursive: true, force: true });
  });

  it('generate writes index.html, manifest.json and catalog.json with no secret in any of them', async () => {
    const r = await tsdbt(dir, ['docs', 'generate'], env);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Catalog written to .*catalog\.json \(3 relations\)/);
    assert.match(r.stdout, /Docs site written to .*index\.html \(3 nodes/);
    const html = readFileSync(join(dir, 'target', 'index.html'), 'utf8');
    const catalog = readFileSync(join(dir, 'target', 'catalog.json'), 'utf8');
    const manifest = readFileSync(join(dir, 'target', 'manifest.json'), 'utf8');
    for (const [name, text] of [['index.html', html], ['catalog.json', catalog], ['manifest.json', manifest]]) {
      assert.ok(!text!.includes(SECRET), `${name} contains the secret`);
    }
    // Compiled SQL and the table comment are embedded as they are.
    const data = embedded(html);
    const stg = data.nodes.find((n: any) => n.name === 'stg_orders');
    assert.match(stg.compiledCode, /'tok' as token/);
    assert.equal(JSON.parse(catalog).nodes['model.shop.orders'].metadata.comment, 'token note');
    // Column lineage of the compiled SQL: on each column (upstream node as an index), and in lineage.json.
    const orders = data.nodes.find((n: any) => n.name === 'orders');
    const stgIndex = data.nodes.indexOf(stg);
    assert.deepEqual(Object.fromEntries(orders.columns.map((c: any) => [c.name, c.lineage])), {
      id: { kind: 'direct', upstream: [{ node: stgIndex, column: 'id', kind: 'direct' }] },
      amount: { kind: 'derived', upstream: [{ node: stgIndex, column: 'amount', kind: 'derived' }] },
    });
    assert.ok(existsSync(join(dir, 'target', 'lineage.json')));
    // Self-contained: no external script, style or font.
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import|https?:\/\/[^"'\s]*\.(js|css|woff2?)\b/);
  });

  it('renders descriptions as Markdown and strips scripts from them', { skip: browserSkipReason() }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`${pathToFileURL(join(dir, 'target', 'index.html')).href}#!/model/model.shop.orders`);
      await page.locator('#panel h1', { hasText: 'orders' }).waitFor();
      const md = page.locator('#panel .md').first();
      assert.equal(await md.locator('strong').textContent(), 'doubled');
      assert.equal(await page.locator('#panel script').count(), 0);
      assert.deepEqual(dialogs, []);
    } finally {
      await browser.close();
    }
  });

  it('catalog.json is dbt catalog v1: columns with types and positions, row counts', async () => {
    const catalog = JSON.parse(readFileSync(join(dir, 'target', 'catalog.json'), 'utf8'));
    assert.equal(catalog.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/catalog/v1.json');
    assert.deepEqual(Object.keys(catalog.nodes).sort(), ['model.shop.orders', 'model.shop.stg_orders', 'seed.shop.raw_orders']);
    const orders = catalog.nodes['model.shop.orders'];
    assert.deepEqual(orders.columns.id, { type: 'integer', index: 1, name: 'id', comment: null });
    assert.equal(orders.columns.amount.index, 2);
    assert.equal(orders.stats.num_rows.value, 3);
    assert.equal(orders.metadata.type, 'BASE TABLE');
    assert.deepEqual(catalog.sources, {});
  });

  it('shows the last run: run_results.json is read, not overwritten', async () => {
    const before = readFileSync(join(dir, 'target', 'run_results.json'), 'utf8');
    const data = embedded(readFileSync(join(dir, 'target', 'index.html'), 'utf8'));
    assert.equal(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'), before);
    const orders = data.nodes.find((n: any) => n.name === 'orders');
    assert.equal(orders.result.status, 'success');
    assert.deepEqual(orders.tests.map((t: number) => data.tests[t].status), ['pass', 'pass']);
    assert.equal(data.runResults.command, 'build');
  });

  it('--no-compile shows the column lineage of the last compile (target/lineage.json)', async () => {
    const r = await tsdbt(dir, ['docs', 'generate', '--no-compile', '--empty-catalog'], env);
    assert.equal(r.code, 0, r.output);
    const data = embedded(readFileSync(join(dir, 'target', 'index.html'), 'utf8'));
    const orders = data.nodes.find((n: any) => n.name === 'orders');
    const amount = orders.columns.find((c: any) => c.name === 'amount');
    assert.deepEqual(amount.lineage, { kind: 'derived', upstream: [{ node: data.nodes.findIndex((n: any) => n.name === 'stg_orders'), column: 'amount', kind: 'derived' }] });
  });

  it('--no-compile --empty-catalog: raw SQL only and an empty catalog, without the database', async () => {
    rmSync(join(dir, 'target'), { recursive: true, force: true });
    const r = await tsdbt(dir, ['docs', 'generate', '--no-compile', '--empty-catalog'], env);
    assert.equal(r.code, 0, r.output);
    const catalog = JSON.parse(readFileSync(join(dir, 'target', 'catalog.json'), 'utf8'));
    assert.deepEqual([catalog.nodes, catalog.sources, catalog.errors], [{}, {}, null]);
    const data = embedded(readFileSync(join(dir, 'target', 'index.html'), 'utf8'));
    assert.equal(data.compiled, false);
    assert.equal(data.catalog, false);
    assert.equal(data.runResults, null);
    assert.ok(data.nodes.every((n: any) => n.compiledCode === undefined));
    assert.match(data.nodes.find((n: any) => n.name === 'orders').rawCode, /\{\{ ref\('stg_orders'\) \}\}/);
    assert.equal(existsSync(join(dir, 'target', 'compiled')), false);
    // Nothing compiled, no lineage.json: no column lineage.
    assert.ok(data.nodes.every((n: any) => n.columns.every((c: any) => c.lineage === undefined)));
  });

  it('lineage prints Mermaid, DOT and JSON, with --select', async () => {
    const mermaid = await tsdbt(dir, ['docs', 'lineage'], env);
    assert.equal(mermaid.code, 0, mermaid.output);
    assert.equal(
      mermaid.stdout,
      [
        'flowchart LR',
        '  seed_raw_orders[("raw_orders")]:::seed',
        '  model_stg_orders["stg_orders"]:::model',
        '  model_orders["orders"]:::model',
        '  model_stg_orders --> model_orders',
        '  seed_raw_orders --> model_stg_orders',
        '  classDef seed fill:#2e9e5b,stroke:#333,color:#fff',
        '  classDef model fill:#2f6fdf,stroke:#333,color:#fff',
        '',
      ].join('\n'),
    );
    const dot = await tsdbt(dir, ['docs', 'lineage', '--format', 'dot', '--select', 'stg_orders+'], env);
    assert.equal(dot.code, 0, dot.output);
    assert.match(dot.stdout, /^digraph "shop" \{/);
    assert.match(dot.stdout, /"model\.shop\.stg_orders" -> "model\.shop\.orders";/);
    assert.doesNotMatch(dot.stdout, /raw_orders/);
    const json = await tsdbt(dir, ['docs', 'lineage', '--format', 'json', '-s', '+stg_orders'], env);
    assert.equal(json.code, 0, json.output);
    assert.deepEqual(JSON.parse(json.stdout).edges, [{ from: 'seed.shop.raw_orders', to: 'model.shop.stg_orders' }]);
    const bad = await tsdbt(dir, ['docs', 'lineage', '--format', 'png'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /argument 'png' is invalid\. Allowed choices are mermaid, dot, json/);
  });

  it('serve prints the URL, serves the site and stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'docs', 'serve', '--port', '0'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /Serving docs at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      });
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /<script id="tsdbt-data"/);
      const cat = await fetch(new URL('catalog.json', url));
      assert.equal(cat.status, 200);
      assert.equal((await fetch(new URL('nope.txt', url))).status, 404);
    } finally {
      child.kill('SIGINT');
    }
    const code = await exited;
    assert.ok(code === 0 || code === 130, `exit code ${code}: ${out}`);
  });

  it('serve without generated docs says what to do', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tsdbt-docs-empty-'));
    try {
      write(empty, { 'dbt_project.yml': "name: e\nversion: '1.0.0'\nconfig-version: 2\nprofile: e\n" });
      const r = await tsdbt(empty, ['docs', 'serve']);
      assert.equal(r.code, 2, r.output);
      assert.match(r.stderr, /docs-not-generated.*no .*target\/index\.html to serve/s);
      assert.match(r.stderr, /hint: run `tsdbt docs generate` first/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
