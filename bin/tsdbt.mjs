#!/usr/bin/env node
// The `tsdbt` command. Runs dist/tsdbt.mjs, the one-file build made by
// `npm ci` / `npm run bundle` (bin/bundle.mjs), when it was built from exactly
// the files now under src/; otherwise (no build, or any file under src/
// added, removed or changed since) runs the TypeScript sources directly
// through tsx, so a fresh clone and a tree being edited both work with no
// build step. TSDBT_NO_BUNDLE=1 always uses tsx.
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { BUNDLE, FAST_BUNDLE, freshBundleId } from './bundle.mjs';

let main;
let handled = false;
const buildId = process.env.TSDBT_NO_BUNDLE !== '1' ? freshBundleId() : null;
if (buildId) {
  // `tsdbt --version`, and `tsdbt compile` with nothing changed since the last identical one (replayed), without
  // loading the CLI (src/cli/fast-entry.ts). The build id lets the full CLI record invocations for this build.
  globalThis.__tsdbtBuildId = `${buildId} node ${process.version}`;
  const a = process.argv;
  if ((a[2] === 'compile' || (a.length === 3 && (a[2] === '--version' || a[2] === '-v'))) && existsSync(FAST_BUNDLE)) {
    const { tryFast } = await import(pathToFileURL(FAST_BUNDLE).href);
    const code = tryFast(process.argv, globalThis.__tsdbtBuildId);
    if (code !== null) {
      process.exitCode = code;
      handled = true;
    }
  }
}
if (handled) {
  // nothing else to load or run
} else if (buildId) {
  ({ main } = await import(pathToFileURL(BUNDLE).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
if (main) process.exitCode = await main(process.argv);
