// The optional one-file build of the CLI (dist/tsdbt.mjs) and the check that
// decides whether bin/tsdbt.mjs may use it.
//
// `node bin/bundle.mjs` (run by `npm ci` / `npm install` through the
// package's `prepare` script, or by hand with `npm run bundle`) bundles
// src/cli/main.ts with esbuild, dependencies left external, into
// dist/tsdbt.mjs, and writes dist/tsdbt.stamp.json: the path, size and
// mtime of every file under src/ (and of the bundle itself) as they were
// before bundling started. bin/tsdbt.mjs uses the bundle only when that list
// equals the current one exactly: any file added, removed, edited, touched,
// or restored with another mtime (git checkout, rsync -a, cp -p) falls back
// to running src/ through tsx. The check is one readdir per folder and one
// stat per file (~150 files: a few ms).
//
// Every module's `import.meta.url` is replaced with its source file's URL,
// so paths computed from it (package.json, src/docs/app/) are the same
// bundled or not.
import { readdirSync, statSync, readFileSync, writeFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUNDLE = join(root, 'dist', 'tsdbt.mjs');
export const STAMP = join(root, 'dist', 'tsdbt.stamp.json');
const STAMP_VERSION = 1;

/**
 * `[path relative to the repository, size in bytes, mtime in ms]` for every
 * file under src/ and for the bundle, sorted by path, as one string.
 * Throws the file system's error (e.g. ENOENT when the bundle is missing).
 */
export function currentStamp() {
  const rows = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        rows.push(`${relative(root, p)}\t${st.size}\t${st.mtimeMs}`);
      }
    }
  };
  walk(join(root, 'src'));
  rows.sort();
  return rows.join('\n');
}

/** True when dist/tsdbt.mjs exists and was built from exactly the src/ files there are now. */
export function bundleIsFresh() {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    if (stamp.version !== STAMP_VERSION) return false;
    const b = statSync(BUNDLE);
    if (stamp.bundle !== `${b.size}\t${b.mtimeMs}`) return false;
    return stamp.src === currentStamp();
  } catch {
    return false;
  }
}

/** Builds dist/tsdbt.mjs and its stamp. Returns false (and says why) when esbuild is missing. */
export async function buildBundle() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    process.stderr.write(`tsdbt: not bundling (${e.message.split('\n')[0]}); bin/tsdbt.mjs runs src/ through tsx\n`);
    return false;
  }
  mkdirSync(dirname(BUNDLE), { recursive: true });
  rmSync(STAMP, { force: true });
  const src = currentStamp(); // before reading any file: an edit during the build makes the stamp stale
  const metaUrl = {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
      });
    },
  };
  const tmp = `${BUNDLE}.${process.pid}.tmp.mjs`;
  await esbuild.build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: tmp,
    plugins: [metaUrl],
    logLevel: 'error',
  });
  renameSync(tmp, BUNDLE);
  const b = statSync(BUNDLE);
  writeFileSync(`${STAMP}.${process.pid}.tmp`, JSON.stringify({ version: STAMP_VERSION, bundle: `${b.size}\t${b.mtimeMs}`, src }));
  renameSync(`${STAMP}.${process.pid}.tmp`, STAMP);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // The bundle is optional: a failed build (e.g. src/ mid-edit) must not fail `npm ci`.
  try {
    if (await buildBundle()) process.stdout.write(`tsdbt: built ${relative(process.cwd(), BUNDLE) || BUNDLE}\n`);
  } catch (e) {
    rmSync(STAMP, { force: true });
    process.stderr.write(`tsdbt: could not bundle (${String(e?.message ?? e).split('\n')[0]}); bin/tsdbt.mjs runs src/ through tsx\n`);
  }
}
