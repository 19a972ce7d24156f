/**
 * End to end: build the example project on PGlite in a temp dir, run
 * `tsdbt docs generate`, open target/index.html from file:// in headless
 * Chromium, and use the page as a person would.
 * Screenshots: test-output/docs-example-overview.png, docs-example-fact_sessions.png (the node's
 * page), docs-example-fact_sessions-sql.png (its compiled SQL) and docs-example-column-lineage.png
 * (a column followed up to the seed).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { freshPgliteDir } from '../../src/adapters/testing.ts';
import { browserSkipReason, copyExampleProject, launchBrowser, REPO_ROOT, TEST_OUTPUT, tsdbt } from './helpers.ts';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the docs browser tests: ${skip}`);

const PKG = 'growth_analytics';
const FACT = `model.${PKG}.fact_sessions`;
const DRAWN = new Set(['model', 'seed', 'snapshot', 'analysis']);

interface ManifestJson {
  nodes: Record<string, { resource_type: string; name: string; depends_on: { nodes?: string[] } }>;
  sources: Record<string, unknown>;
}
interface CatalogJson {
  nodes: Record<string, { columns: Record<string, { type: string; index: number; name: string }> }>;
}

describe('tsdbt docs: the example project in a browser', { skip }, () => {
  let dir: string;
  let db: string;
  let browser: Browser;
  let page: Page;
  let manifest: ManifestJson;
  let catalog: CatalogJson;
  let url: string;
  const offline: string[] = [];
  const errors: string[] = [];

  before(async () => {
    db = await freshPgliteDir();
    // The example's marts are tagged daily_report (dbt_project.yml): the search finds them by tag.
    dir = copyExampleProject(db);
    const build = await tsdbt(dir, ['build']);
    assert.equal(build.code, 0, build.output);
    const gen = await tsdbt(dir, ['docs', 'generate']);
    assert.equal(gen.code, 0, gen.output);
    assert.match(gen.stdout, /Docs site written to .*index\.html \(11 nodes/);
    manifest = JSON.parse(readFileSync(join(dir, 'target', 'manifest.json'), 'utf8'));
    catalog = JSON.parse(readFileSync(join(dir, 'target', 'catalog.json'), 'utf8'));
    url = pathToFileURL(join(dir, 'target', 'index.html')).href;
    mkdirSync(TEST_OUTPUT, { recursive: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // The page must work with no network: record (and refuse) anything that is not the file itself.
    await page.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
      offline.push(u);
      return route.abort();
    });
    await page.goto(url);
    await waitForGraph(page);
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (db) rmSync(db, { recursive: true, force: true });
  });

  it('draws every model and seed (not tests) and every dependency, with no network and no errors', async () => {
    const ids = [...Object.keys(manifest.nodes).filter((id) => DRAWN.has(manifest.nodes[id]!.resource_type)), ...Object.keys(manifest.sources)];
    const set = new Set(ids);
    let edges = 0;
    for (const id of ids) edges += new Set((manifest.nodes[id]?.depends_on.nodes ?? []).filter((p) => set.has(p))).size;
    assert.equal(ids.length, 11);
    const drawn = await page.evaluate(() => (window as any).tsdbtDocs.drawn());
    // A small project shows every node (no folder boxes); tests are drawn only in a lineage view.
    assert.deepEqual(drawn, { nodes: ids.length, edges, visibleNodes: ids.length, folders: 0, tests: 0 });
    assert.deepEqual(offline, []);
    assert.deepEqual(errors, []);
  });

  it('shows raw → staging → dwh → mart as columns from left to right', async () => {
    const x = async (id: string) => (await page.evaluate((i) => (window as any).tsdbtDocs.viewportPosition(i), id)).x as number;
    const seed = await x(`seed.${PKG}.sessions`);
    const stg = await x(`model.${PKG}.stg_sessions`);
    const fact = await x(FACT);
    const mart = await x(`model.${PKG}.mart_channel_attribution`);
    assert.ok(seed < stg && stg < fact && fact < mart, `x: seed ${seed}, staging ${stg}, dwh ${fact}, mart ${mart}`);
    // One caption per layer, spanning its columns (dwh and mart have two columns each), none over another.
    const captions = await page.locator('.column-caption:not([hidden])').allTextContents();
    assert.deepEqual(captions, ['seeds', 'staging', 'dwh', 'mart']);
    const rects = await page.locator('.column-caption:not([hidden])').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
    for (let k = 1; k < rects.length; k++) assert.ok(rects[k - 1].right <= rects[k].left, `captions ${k - 1} and ${k} overlap`);
    // Every node is labelled here, and no two labels overlap (boxes of the labels as drawn).
    const labels: { x: number; y: number; width: number; height: number; text: string }[] = await page.evaluate(() => (window as any).tsdbtDocs.labelBoxes());
    assert.equal(labels.length, 11);
    for (const a of labels) for (const b of labels) if (a !== b) assert.ok(!(a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height), `${a.text} overlaps ${b.text}`);
    await page.screenshot({ path: join(TEST_OUTPUT, 'docs-example-overview.png') });
  });

  it('opens fact_sessions on a click in the graph: compiled SQL, columns with types, tests and last run', async () => {
    const pos = await page.evaluate((i) => (window as any).tsdbtDocs.viewportPosition(i), FACT);
    await page.mouse.click(pos.x, pos.y);
    await page.locator('#panel h1', { hasText: 'fact_sessions' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#!/model/${FACT}`);
    await page.screenshot({ path: join(TEST_OUTPUT, 'docs-example-fact_sessions.png') });
    if (process.env.TSDBT_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(REPO_ROOT, 'docs', 'screenshots'), { recursive: true });
      copyFileSync(join(TEST_OUTPUT, 'docs-example-fact_sessions.png'), join(REPO_ROOT, 'docs', 'screenshots', 'node-page.png'));
    }

    // Compiled SQL: refs resolved to relations, no Jinja left.
    await page.locator('#panel pre.code').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(TEST_OUTPUT, 'docs-example-fact_sessions-sql.png') });
    const code = await page.locator('#panel pre.code').textContent();
    assert.match(code!, /from (?:"\w+"\.)?"analytics_staging"\."stg_sessions"/);
    assert.match(code!, /left join (?:"\w+"\.)?"analytics_dwh"\."dim_user" as dim_user/);
    assert.doesNotMatch(code!, /\{\{/);
    await page.locator('#panel .tabs button[data-tab=source]').click();
    assert.match((await page.locator('#panel pre.code').textContent())!, /\{\{ ref\('stg_sessions'\) \}\}/);

    // Columns: the catalog's, in table order, with their types and descriptions.
    const expected = Object.values(catalog.nodes[FACT]!.columns).sort((a, b) => a.index - b.index);
    assert.equal(expected.length, 8);
    const rows = page.locator('#panel table.columns tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-column'))), expected.map((c) => c.name));
    assert.deepEqual(await page.locator('#panel table.columns tbody .type').allTextContents(), expected.map((c) => c.type));
    const first = await rows.first().textContent();
    assert.match(first!, /session_id.*text.*Primary key/);
    assert.match(first!, /unique ✓/);

    const run = await page.locator('#panel .run').textContent();
    assert.match(run!, /Last run: success/);
    assert.match(run!, /Tests: 9 pass 0 warn 0 fail/);
    assert.match((await page.locator('#panel table.facts').textContent())!, /relationanalytics_dwh\.fact_sessions.*# Rows/);
  });

  it('follows parent links from the fact down to the raw seed', async () => {
    await page.goto(`${url}#!/model/${FACT}`);
    await page.locator('#panel h1', { hasText: 'fact_sessions' }).waitFor();
    await page.locator('#panel .lineage-links a.node-link', { hasText: 'stg_sessions' }).click();
    await page.locator('#panel h1', { hasText: 'stg_sessions' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#!/model/model.${PKG}.stg_sessions`);
    await page.locator('#panel .lineage-links a.node-link', { hasText: /^sessions/ }).click();
    await page.locator('#panel h1', { hasText: /^sessions$/ }).waitFor();
    assert.equal(new URL(page.url()).hash, `#!/seed/seed.${PKG}.sessions`);
    const cols = await page.locator('#panel table.columns tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-column')));
    assert.deepEqual(cols, Object.values(catalog.nodes[`seed.${PKG}.sessions`]!.columns).sort((a, b) => a.index - b.index).map((c) => c.name));
  });

  it('finds nodes by tag in the search box', async () => {
    await page.locator('#search').fill('tag:daily_report');
    await page.locator('#search-results a.result').first().waitFor();
    const names = await page.locator('#search-results a.result .name').allTextContents();
    assert.deepEqual(names.sort(), ['mart_channel_attribution', 'mart_conversions_by_channel_month']);
    await page.locator('#search-results a.result', { hasText: 'mart_channel_attribution' }).click();
    await page.locator('#panel h1', { hasText: 'mart_channel_attribution' }).waitFor();
    assert.equal(await page.locator('#search-results').isHidden(), true);
  });

  it('shows only a node’s lineage (+node+), with depth controls, from the URL', async () => {
    const ancestors = (id: string, depth = Infinity, seen = new Set<string>()): Set<string> => {
      if (depth <= 0) return seen;
      for (const p of manifest.nodes[id]?.depends_on.nodes ?? []) {
        seen.add(p);
        ancestors(p, depth - 1, seen);
      }
      return seen;
    };
    const descendants = (id: string): Set<string> => {
      const out = new Set<string>();
      const walk = (x: string) => {
        for (const [c, n] of Object.entries(manifest.nodes)) {
          if (DRAWN.has(n.resource_type) && (n.depends_on.nodes ?? []).includes(x) && !out.has(c)) {
            out.add(c);
            walk(c);
          }
        }
      };
      walk(id);
      return out;
    };
    await page.goto(`${url}#!/model/${FACT}`);
    await page.locator('#panel h1', { hasText: 'fact_sessions' }).waitFor();
    await page.locator('#show-lineage').click();
    await page.waitForFunction(() => !document.getElementById('focus-bar')!.hidden);
    assert.match(new URL(page.url()).hash, /\?up=all&down=all$/);
    const all = 1 + ancestors(FACT).size + descendants(FACT).size;
    assert.equal((await page.evaluate(() => (window as any).tsdbtDocs.drawn())).nodes, all);

    await page.locator('#focus-up').selectOption('1');
    await page.waitForFunction(() => location.hash.includes('up=1'));
    const one = 1 + ancestors(FACT, 1).size + descendants(FACT).size;
    assert.ok(one < all);
    assert.equal((await page.evaluate(() => (window as any).tsdbtDocs.drawn())).nodes, one);

    // A link with the fragment opens the same view.
    const page2 = await browser.newPage();
    await page2.goto(`${url}#!/model/model.${PKG}.dim_user?up=0&down=1`);
    await waitForGraph(page2);
    assert.equal(await page2.locator('#panel h1').textContent(), 'dim_user');
    const d = await page2.evaluate(() => (window as any).tsdbtDocs.drawn());
    assert.equal(d.nodes, 1 + Object.values(manifest.nodes).filter((n) => (n.depends_on.nodes ?? []).includes(`model.${PKG}.dim_user`) && DRAWN.has(n.resource_type)).length);
    await page2.close();

    await page.locator('#focus-exit').click();
    await page.waitForFunction(() => document.getElementById('focus-bar')!.hidden);
    assert.equal((await page.evaluate(() => (window as any).tsdbtDocs.drawn())).nodes, 11);
  });

  it('follows one column upstream across the DAG: mart → dwh → staging → seed', async () => {
    // The chain `tsdbt lineage --column mart_channel_attribution.attributed_session_started_at` prints
    // on the example (checked by hand): fact_sessions.time_started (direct) → stg_sessions.time_started
    // (direct) → sessions.time_started (derived, a cast in staging). dbt's docs site has no column lineage.
    const MART = `model.${PKG}.mart_channel_attribution`;
    const chain = [
      { id: FACT, name: 'fact_sessions', column: 'time_started', kind: 'direct' },
      { id: `model.${PKG}.stg_sessions`, name: 'stg_sessions', column: 'time_started', kind: 'direct' },
      { id: `seed.${PKG}.sessions`, name: 'sessions', column: 'time_started', kind: 'derived' },
    ];
    await page.goto(`${url}#!/model/${MART}`);
    await page.locator('#panel h1', { hasText: 'mart_channel_attribution' }).waitFor();
    let column = 'attributed_session_started_at';
    for (const step of chain) {
      const links = page.locator(`#panel table.columns tr[data-column="${column}"] a.column-upstream`);
      assert.deepEqual(await links.allTextContents(), [`${step.name}.${step.column}`], `upstream of ${column}`);
      assert.equal(await links.first().getAttribute('data-kind'), step.kind);
      await links.first().click();
      await page.locator('#panel h1', { hasText: new RegExp(`^${step.name}$`) }).waitFor();
      const resource = step.id.split('.')[0];
      assert.equal(new URL(page.url()).hash, `#!/${resource}/${step.id}?column=${step.column}`);
      // The page is scrolled to the column, and that row (only) is marked.
      const focused = page.locator('#panel table.columns tr.column-focus');
      assert.deepEqual(await focused.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-column'))), [step.column]);
      const row = await focused.boundingBox();
      const panel = await page.locator('#panel').boundingBox();
      assert.ok(row && panel && row.y >= panel.y && row.y + row.height <= panel.y + panel.height, `row ${step.column} is scrolled into the panel`);
      // The graph highlights the nodes the column passes through, from here up to the seed.
      const hi: { nodes: string[]; edges: number } = await page.evaluate(() => (window as any).tsdbtDocs.highlighted());
      const rest = chain.slice(chain.indexOf(step)).map((s) => s.id);
      assert.deepEqual([...hi.nodes].sort(), [...rest].sort());
      assert.equal(hi.edges, rest.length - 1);
      if (step.id === FACT) await page.screenshot({ path: join(TEST_OUTPUT, 'docs-example-column-lineage-dwh.png') });
      column = step.column;
    }
    // The seed is where the column starts: no upstream links.
    assert.equal(await page.locator('#panel a.column-upstream').count(), 0);
    await page.screenshot({ path: join(TEST_OUTPUT, 'docs-example-column-lineage.png') });
    // A mart column computed from two upstream columns lists both, with their kind.
    await page.goto(`${url}#!/model/${MART}`);
    await page.locator('#panel h1', { hasText: 'mart_channel_attribution' }).waitFor();
    const two = page.locator('#panel table.columns tr[data-column="minutes_from_session_to_registration"] a.column-upstream');
    assert.deepEqual((await two.allTextContents()).sort(), ['fact_registrations.registration_time', 'fact_sessions.time_started']);
  });

  it('raised no errors in the page along the way', () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(offline, []);
  });
});

async function waitForGraph(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).tsdbtDocs?.timings().renderedAt != null, null, { timeout: 30_000 });
}
