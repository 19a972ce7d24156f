/**
 * The single-file docs site: index.html with the page's script (src/docs/app,
 * sigma.js, graphology, marked, DOMPurify — bundled by esbuild), its styles
 * and the DocsData all inlined, so it opens from disk (file://) with no
 * network and no server.
 *
 * Why bundle when the docs are generated (not in a build step): esbuild is
 * already what runs tsdbt (tsx is built on it, and it is a direct
 * dependency), so a fresh clone works right after `npm ci` — even with
 * `--ignore-scripts`, where a `prepare` build would not run — the bundle can
 * never be stale against the app's sources or the installed sigma, and no
 * generated file sits in git. It costs ~0.2–0.5 s per `docs generate`, once
 * per process (memoised).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { DocsData } from './docs-data.ts';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), 'app');

/** The page's script and styles. */
export interface DocsAppBundle {
  readonly js: string;
  readonly css: string;
}

let bundle: Promise<DocsAppBundle> | undefined;

/**
 * Bundles src/docs/app/main.ts with its dependencies into one minified
 * browser script (IIFE, ES2020), once per process. Licence comments of the
 * bundled libraries are kept at the end of the script.
 * Throws esbuild's error if the app does not compile (a tsdbt bug).
 */
export function bundleDocsApp(): Promise<DocsAppBundle> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [join(APP_DIR, 'main.ts')],
      bundle: true,
      write: false,
      outfile: 'tsdbt-docs.js',
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      // TSDBT_DOCS_DEBUG=1 keeps the script readable (for profiling the page).
      minify: process.env.TSDBT_DOCS_DEBUG !== '1',
      legalComments: 'eof',
      charset: 'utf8',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text;
    if (!js) throw new Error('esbuild produced no script for the docs page');
    const css = readFileSync(join(APP_DIR, 'style.css'), 'utf8');
    return { js, css };
  })();
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

/** JSON safe inside a `<script>` element: `<` is escaped, so no `</script>` or `<!--` can appear. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Script text safe inside a `<script>` element (`</script` and `<!--` cannot end or confuse it). */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * index.html for `data`: one self-contained document. The data is embedded
 * as `<script id="tsdbt-data" type="application/json">` (parsed once by the
 * page); a Content-Security-Policy forbids scripts, styles and requests from
 * anywhere else (only images in descriptions may be remote).
 */
export function renderIndexHtml(data: DocsData, app: DocsAppBundle): string {
  const title = `${data.project} · tsdbt docs`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: https: file:; connect-src 'none'">
<meta name="generator" content="tsdbt">
<title>${escapeHtml(title)}</title>
<style>${app.css}</style>
</head>
<body>
<div id="app"></div>
<script id="tsdbt-data" type="application/json">${jsonForScript(data)}</script>
<script>${scriptText(app.js)}</script>
</body>
</html>
`;
}
