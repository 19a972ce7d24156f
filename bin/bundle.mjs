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
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUNDLE = join(root, 'dist', 'tsdbt.mjs');
export const STAMP = join(root, 'dist', 'tsdbt.stamp.json');
/** The programmatic API (src/index.ts) as one module: package.json's "exports". */
export const API_BUNDLE = join(root, 'dist', 'index.mjs');
/** `--version` and the unchanged-compile replay (src/cli/fast-entry.ts) alone: loaded before the CLI bundle. */
export const FAST_BUNDLE = join(root, 'dist', 'fast.mjs');
const STAMP_VERSION = 2;

/** Files under src/ that are not part of the bundle (and not packed: see package.json "files"): tests, benchmarks, test helpers. */
const NOT_BUNDLED = /\.(test|bench)\.ts$|^src\/(graph\/fixtures|config\/write-project|adapters\/testing)\.ts$/;

/**
 * `[path relative to the repository, size in bytes, mtime in ms]` for every
 * file under src/ that goes into the bundle (tests and benchmarks excluded),
 * sorted by path. Throws the file system's error.
 */
export function currentFiles() {
  const rows = [];
  // Relative paths built by concatenation (what path.relative gives, without its cost per file: this runs on every start).
  const walk = (dir, rel) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const r = rel + sep + e.name;
      if (e.isDirectory()) walk(p, r);
      else if (!NOT_BUNDLED.test(r)) {
        const st = statSync(p);
        rows.push([r, st.size, st.mtimeMs]);
      }
    }
  };
  walk(join(root, 'src'), 'src');
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return rows;
}

/** sha1 of a file's bytes (hex). */
function hashOf(path) {
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

/**
 * True when dist/tsdbt.mjs exists and was built from exactly the src/ files
 * there are now: same paths and sizes, and for each file either the same
 * mtime (the cheap path: one stat per file) or, when the mtime moved (git
 * checkout, an npm install, which resets mtimes), the same content hash.
 */
export function bundleIsFresh() {
  return freshBundleId() !== null;
}

/**
 * The identity of the fresh bundle (`bundle:<sha1 of dist/tsdbt.mjs>`), or
 * null when {@link bundleIsFresh} would be false. Recorded invocations of
 * another build are never replayed (src/parse/unchanged.ts).
 */
export function freshBundleId() {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    if (stamp.version !== STAMP_VERSION) return null;
    const b = statSync(BUNDLE);
    if (stamp.bundle.size !== b.size) return null;
    if (stamp.bundle.mtimeMs !== b.mtimeMs && stamp.bundle.hash !== hashOf(BUNDLE)) return null;
    const cur = currentFiles();
    if (cur.length !== stamp.files.length) return null;
    for (let i = 0; i < cur.length; i++) {
      const [path, size, mtimeMs] = cur[i];
      const [sPath, sSize, sMtime, sHash] = stamp.files[i];
      if (path !== sPath || size !== sSize) return null;
      if (mtimeMs !== sMtime && hashOf(join(root, path)) !== sHash) return null;
    }
    return `bundle:${stamp.bundle.hash}`;
  } catch {
    return null;
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
  // Before reading any file: an edit during the build makes the stamp stale.
  const files = currentFiles().map(([path, size, mtimeMs]) => [path, size, mtimeMs, hashOf(join(root, path))]);
  const metaUrl = {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
      });
    },
  };
  // The CLI; the programmatic API (package.json "exports"); --version and the unchanged-compile replay, alone
  // (bin/tsdbt.mjs loads it before the CLI). Same settings; each written to a temp file, then renamed.
  for (const [entry, out] of [
    [join(root, 'src', 'cli', 'main.ts'), BUNDLE],
    [join(root, 'src', 'index.ts'), API_BUNDLE],
    [join(root, 'src', 'cli', 'fast-entry.ts'), FAST_BUNDLE],
  ]) {
    const tmp = `${out}.${process.pid}.tmp.mjs`;
    await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: tmp, plugins: [metaUrl], logLevel: 'error' });
    renameSync(tmp, out);
  }
  const b = statSync(BUNDLE);
  writeFileSync(`${STAMP}.${process.pid}.tmp`, JSON.stringify({ version: STAMP_VERSION, bundle: { size: b.size, mtimeMs: b.mtimeMs, hash: hashOf(BUNDLE) }, files }));
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
