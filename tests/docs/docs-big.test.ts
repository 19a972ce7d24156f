/**
 * The docs site of a generated 2,000-model project shaped like a real one
 * (tests/docs/generate-docs-project.ts: sources, staging / intermediate / marts
 * folders, seeds, snapshots, exposures, an installed package, documented
 * columns and 4,000 tests), in headless Chromium, used as a person would:
 * - it opens on a readable overview: one box per folder or package with its node count, opened by a click;
 * - labels never overlap (the bounding boxes of the labels drawn, and of the column captions);
 * - no layer caption twice in a row;
 * - search finds models by column name and by description; a column's page lists where it is used;
 * - `2+model+1` (dbt's graph operators) in the search box shows that lineage;
 * - the open node's edges are highlighted up and down to the depths chosen;
 * - sources, seeds, snapshots, exposures, tests, folders and packages have their own shapes, in the legend.
 * Screenshot: test-output/docs-big-overview.png; with TSDBT_UPDATE_SCREENSHOTS=1 also docs/screenshots/overview.png.
 * No database: `docs generate --empty-catalog --no-compile` (columns come from the properties files).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { generateDocsProject, type GeneratedDocsProject } from './generate-docs-project.ts';
import { browserSkipReason, launchBrowser, REPO_ROOT, TEST_OUTPUT, tsdbt } from './helpers.ts';

const skip = browserSkipReason();

interface ManifestJson {
  nodes: Record<string, { resource_type: string; name: string; depends_on: { nodes?: string[] } }>;
  sources: Record<string, unknown>;
  exposures: Record<string, { depends_on: { nodes?: string[] } }>;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pairs of boxes that overlap (by more than a rounding error). */
function overlapping<T extends Box & { text?: string }>(boxes: readonly T[]): [T, T][] {
  const out: [T, T][] = [];
  for (let a = 0; a < boxes.length; a++) {
    for (let b = a + 1; b < boxes.length; b++) {
      const p = boxes[a]!;
      const q = boxes[b]!;
      if (p.x + 0.5 < q.x + q.width && q.x + 0.5 < p.x + p.width && p.y + 0.5 < q.y + q.height && q.y + 0.5 < p.y + p.height) out.push([p, q]);
    }
  }
  return out;
}

describe('tsdbt docs: a generated 2,000-model project', { skip }, () => {
  let gen: GeneratedDocsProject;
  let browser: Browser;
  let page: Page;
  let url: string;
  let manifest: ManifestJson;
  const errors: string[] = [];
  /** Drawn children of a node: models, seeds, snapshots, analyses and exposures (tests are not lineage nodes). */
  const childrenOf = (id: string) =>
    [...Object.entries(manifest.nodes).filter(([, n]) => n.resource_type !== 'test'), ...Object.entries(manifest.exposures)].filter(([, n]) => (n.depends_on.nodes ?? []).includes(id)).map(([c]) => c);
  const docs = <T>(fn: string, ...args: unknown[]): Promise<T> => page.evaluate(([f, a]) => (window as any).tsdbtDocs[f as string](...(a as unknown[])), [fn, args] as const);

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-docs-big-'));
    gen = generateDocsProject(dir, 2000);
    writeFileSync(join(dir, 'profiles.yml'), `big:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: ${JSON.stringify(join(dir, '.db'))}\n      schema: main\n      threads: 1\n`);
    const r = await tsdbt(dir, ['docs', 'generate', '--empty-catalog', '--no-compile']);
    assert.equal(r.code, 0, r.output);
    manifest = JSON.parse(readFileSync(join(dir, 'target', 'manifest.json'), 'utf8'));
    url = pathToFileURL(join(dir, 'target', 'index.html')).href;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForFunction(() => (window as any).tsdbtDocs?.timings().renderedAt != null, null, { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    if (gen) rmSync(gen.dir, { recursive: true, force: true });
  });

  it('opens on one box per folder or package, with node counts that add up to the project', async () => {
    const drawn = await docs<{ nodes: number; folders: number }>('drawn');
    const boxes = await docs<{ key: string; label: string; kind: string; total: number; shape: number }[]>('boxes');
    const all = Object.values(manifest.nodes).filter((n) => ['model', 'seed', 'snapshot', 'analysis'].includes(n.resource_type)).length + Object.keys(manifest.sources).length + Object.keys(manifest.exposures).length;
    assert.equal(all, gen.models + gen.packageModels + gen.seeds + gen.snapshots + gen.sources + gen.exposures);
    assert.ok(boxes.length >= 10 && boxes.length <= 40, `${boxes.length} boxes: readable, not a hairball`);
    assert.ok(drawn.nodes <= 40, `${drawn.nodes} single nodes drawn`);
    assert.equal(boxes.reduce((s, b) => s + b.total, 0) + drawn.nodes, all, 'every node is in exactly one box or drawn itself');
    for (const b of boxes) assert.match(b.label, new RegExp(`\\(${b.total}\\)$`), `a box shows its node count: ${b.label}`);
    const pkg = boxes.find((b) => b.kind === 'package');
    assert.deepEqual(pkg && { key: pkg.key, total: pkg.total }, { key: 'package:shop_utils', total: gen.packageModels });
    assert.notEqual(pkg!.shape, boxes.find((b) => b.kind === 'folder')!.shape, 'a package is drawn in its own shape');
    const labels = await docs<{ text: string }[]>('labelBoxes');
    assert.ok(labels.length >= boxes.length * 0.8, `most boxes are labelled (${labels.length} labels for ${boxes.length} boxes)`);

    // Layer captions: never the same twice in a row, never overlapping.
    const captions = await page.locator('.column-caption:not([hidden])').evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', ...JSON.parse(JSON.stringify(e.getBoundingClientRect())) })));
    assert.ok(captions.length >= 3, JSON.stringify(captions.map((c) => c.text)));
    for (let k = 1; k < captions.length; k++) assert.notEqual(captions[k]!.text, captions[k - 1]!.text, `repeated header: ${captions.map((c) => c.text)}`);
    assert.deepEqual(overlapping(captions), []);
    mkdirSync(TEST_OUTPUT, { recursive: true });
    await page.screenshot({ path: join(TEST_OUTPUT, 'docs-big-overview.png') });
    if (process.env.TSDBT_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(REPO_ROOT, 'docs', 'screenshots'), { recursive: true });
      copyFileSync(join(TEST_OUTPUT, 'docs-big-overview.png'), join(REPO_ROOT, 'docs', 'screenshots', 'overview.png'));
    }
  });

  it('opens a folder box on a click: its nodes replace the box; labels still never overlap', async () => {
    const boxes = await docs<{ key: string; total: number }[]>('boxes');
    const target = boxes.find((b) => b.key === 'models/intermediate/finance') ?? boxes.filter((b) => b.key.startsWith('models/')).sort((a, b) => b.total - a.total)[0]!;
    const before = await docs<{ nodes: number }>('drawn');
    const pos = await docs<{ x: number; y: number }>('keyPosition', `g:${target.key}`);
    await page.mouse.click(pos.x, pos.y);
    await page.locator('#panel #folder-toggle').waitFor();
    const after = await docs<{ nodes: number; folders: number }>('drawn');
    const still = await docs<{ key: string }[]>('boxes');
    assert.ok(!still.some((b) => b.key === target.key), 'the box is gone');
    assert.ok(after.nodes >= before.nodes + Math.min(target.total, 1), `nodes drawn: ${before.nodes} → ${after.nodes}`);
    const total = gen.models + gen.packageModels + gen.seeds + gen.snapshots + gen.sources + gen.exposures;
    assert.equal(still.reduce((s, b) => s + (b as { total?: number }).total!, 0) + after.nodes, total, 'still every node once');
    assert.equal(await page.locator('#panel h1').textContent(), 'intermediate/finance');
    await page.waitForTimeout(300);
    const labels = await docs<(Box & { text: string; node: string })[]>('labelBoxes');
    assert.ok(labels.length > 5);
    assert.deepEqual(overlapping(labels).map(([a, b]) => `${a.text} × ${b.text}`), []);

    // Every node, then zoomed in: the labels drawn still never overlap.
    await page.locator('#expand-all').click();
    await page.waitForFunction((n) => (window as any).tsdbtDocs.drawn().nodes === n, gen.models + gen.packageModels + gen.seeds + gen.snapshots + gen.sources + gen.exposures);
    await page.mouse.move(300, 450);
    for (let k = 0; k < 4; k++) await page.mouse.wheel(0, -400);
    await page.waitForTimeout(800);
    const zoomed = await docs<(Box & { text: string })[]>('labelBoxes');
    assert.ok(zoomed.length > 5, `${zoomed.length} labels when zoomed in`);
    assert.deepEqual(overlapping(zoomed).map(([a, b]) => `${a.text} × ${b.text}`), []);
    await page.locator('#collapse-all').click();
    await page.waitForFunction(() => (window as any).tsdbtDocs.boxes().length > 5);
  });

  it('finds models by column name and by description; the column’s page lists where it is used and its tests', async () => {
    const expected = [...gen.lifetimeValueModels].sort();
    assert.ok(expected.length >= 5);
    await page.locator('#search').fill('lifetime_value_usd');
    await page.locator('#search-results a.column-result').waitFor();
    const found = await page.locator('#search-results a.result:not(.column-result) .name').allTextContents();
    assert.deepEqual([...found].sort(), expected);
    assert.match((await page.locator('#search-results li.summary').textContent())!, new RegExp(`^${expected.length} matches`));
    assert.match((await page.locator('#search-results .why').first().textContent())!, /column lifetime_value_usd/);

    await page.locator('#search').fill('predicted customer lifetime');
    await page.locator('#search-results .why', { hasText: 'description' }).first().waitFor();
    assert.match((await page.locator('#search-results li.summary').textContent())!, new RegExp(`^${expected.length} matches`));
    assert.deepEqual((await page.locator('#search-results a.result .name').allTextContents()).sort(), expected);

    await page.locator('#search').fill('column:lifetime_value_usd');
    await page.locator('#search-results a.column-result').click();
    await page.locator('#panel h1', { hasText: 'lifetime_value_usd' }).waitFor();
    assert.equal(new URL(page.url()).hash, '#!/column/lifetime_value_usd');
    const uses = await page.locator('#panel table.column-uses tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-node')!.split('.').pop()));
    assert.deepEqual([...uses].sort(), expected);

    // A column used everywhere lists its tests (not_null and unique on every model's id).
    await page.goto(`${url}#!/column/id`);
    await page.locator('#panel h1', { hasText: 'id' }).waitFor();
    assert.match((await page.locator('#panel p.muted').first().textContent())!, /In \d{4} nodes, tested by \d{4} tests/);
    // From a node's page, the column links to its page.
    await page.goto(`${url}#!/model/model.shop_big.${expected[0]}`);
    await page.locator('#panel h1', { hasText: expected[0]! }).waitFor();
    await page.locator('#panel tr[data-column=lifetime_value_usd] a.column-link').click();
    await page.locator('#panel h1', { hasText: 'lifetime_value_usd' }).waitFor();
  });

  it('shows 2+model+1 typed in the search box as that lineage only (dbt graph operators)', async () => {
    const mart = `model.shop_big.${gen.sampleMart}`;
    const parentsOf = (id: string) => manifest.nodes[id]?.depends_on.nodes ?? [];
    const up = new Set<string>();
    let frontier = [mart];
    for (let d = 0; d < 2; d++) {
      const next: string[] = [];
      for (const id of frontier) for (const p of parentsOf(id)) if (!up.has(p)) (up.add(p), next.push(p));
      frontier = next;
    }
    const children = childrenOf(mart);
    await page.locator('#search').fill(`2+${gen.sampleMart}+1`);
    await page.locator('#search-results a.selector').waitFor();
    await page.locator('#search').press('Enter');
    await page.waitForFunction(() => !document.getElementById('focus-bar')!.hidden);
    assert.equal(new URL(page.url()).hash, `#!/model/${encodeURIComponent(mart)}?up=2&down=1`);
    const drawn = await docs<{ nodes: number; tests: number }>('drawn');
    assert.equal(drawn.nodes, 1 + up.size + new Set(children).size);
    assert.equal(await page.locator('#focus-up').inputValue(), '2');
    assert.equal(await page.locator('#focus-down').inputValue(), '1');
    // Tests of the lineage are drawn beside their nodes, as triangles.
    assert.equal(await page.locator('#focus-tests').isChecked(), true);
    const models = [mart, ...up, ...children].filter((id) => id.startsWith('model.')).length;
    assert.ok(drawn.tests >= 2 * models, `${drawn.tests} tests drawn for ${models} models (not_null and unique on each)`);
    const shapes = await docs<Record<string, { kind: string; shape: number }>>('shapes');
    const testShape = Object.values(shapes).find((s) => s.kind === 'test')!.shape;
    assert.ok(Object.values(shapes).every((s) => s.kind === 'test' || s.shape !== testShape));
    const labels = await docs<(Box & { text: string })[]>('labelBoxes');
    assert.deepEqual(overlapping(labels).map(([a, b]) => `${a.text} × ${b.text}`), []);
    await page.locator('#focus-exit').click();
    await page.waitForFunction(() => document.getElementById('focus-bar')!.hidden);
  });

  it('highlights the open node’s edges up and down to the chosen depths', async () => {
    const mart = `model.shop_big.${gen.sampleMart}`;
    await page.goto(`${url}#!/overview`);
    await page.locator('#expand-all').click();
    await page.goto(`${url}#!/model/${mart}`);
    await page.locator('#panel h1', { hasText: gen.sampleMart }).waitFor();
    await page.locator('#highlight-bar').waitFor();
    const parents = manifest.nodes[mart]!.depends_on.nodes!;
    const children = childrenOf(mart);
    const one = await docs<{ nodes: string[]; edges: number }>('highlighted');
    assert.deepEqual([...one.nodes].sort(), [mart, ...parents, ...children].sort());
    assert.equal(one.edges, parents.length + children.length);

    await page.locator('#hl-up').selectOption('2');
    const grand = new Set(parents.flatMap((p) => manifest.nodes[p]?.depends_on.nodes ?? []));
    const two = await docs<{ nodes: string[]; edges: number }>('highlighted');
    for (const g of grand) assert.ok(two.nodes.includes(g), `grandparent ${g} highlighted`);
    assert.ok(two.edges > one.edges);
    await page.locator('#hl-up').selectOption('0');
    await page.locator('#hl-down').selectOption('0');
    assert.deepEqual((await docs<{ nodes: string[]; edges: number }>('highlighted')).nodes, [mart]);
  });

  it('gives sources, seeds, models, snapshots, exposures, tests, folders and packages their own shapes and colours, with a legend', async () => {
    await page.goto(`${url}#!/overview`);
    await page.locator('#expand-all').click();
    await page.waitForFunction(() => (window as any).tsdbtDocs.boxes().length === 0);
    const shapes = await docs<Record<string, { kind: string; shape: number; color: string }>>('shapes');
    const byKind = new Map<string, Set<string>>();
    for (const s of Object.values(shapes)) {
      if (!byKind.has(s.kind)) byKind.set(s.kind, new Set());
      byKind.get(s.kind)!.add(`${s.shape}/${s.color}`);
    }
    for (const k of ['source', 'seed', 'model', 'snapshot', 'exposure']) assert.equal(byKind.get(k)?.size, 1, `${k}: one shape and colour`);
    const looks = ['source', 'seed', 'model', 'snapshot', 'exposure'].map((k) => [...byKind.get(k)!][0]);
    assert.equal(new Set(looks).size, 5, `distinct: ${looks}`);
    assert.equal(new Set(['source', 'seed', 'model', 'snapshot', 'exposure'].map((k) => [...byKind.get(k)!][0]!.split('/')[0])).size, 5, 'distinct shapes, not only colours');
    const legend = await page.locator('#legend .legend-item').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')}:${e.querySelector('svg') ? 'icon' : ''}`));
    assert.deepEqual(legend, ['source', 'seed', 'model', 'snapshot', 'exposure', 'test', 'folder', 'package'].map((k) => `${k}:icon`));
    await page.locator('#collapse-all').click();
  });

  it('raised no errors in the page', () => {
    assert.deepEqual(errors, []);
  });
});
