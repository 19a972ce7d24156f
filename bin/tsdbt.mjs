#!/usr/bin/env node
// The `tsdbt` command. Runs dist/tsdbt.mjs, the one-file build made by
// `npm ci` / `npm run bundle` (bin/bundle.mjs), when it was built from exactly
// the files now under src/; otherwise (no build, or any file under src/
// added, removed or changed since) runs the TypeScript sources directly
// through tsx, so a fresh clone and a tree being edited both work with no
// build step. TSDBT_NO_BUNDLE=1 always uses tsx.
import { pathToFileURL } from 'node:url';
import { BUNDLE, bundleIsFresh } from './bundle.mjs';

let main;
if (process.env.TSDBT_NO_BUNDLE !== '1' && bundleIsFresh()) {
  ({ main } = await import(pathToFileURL(BUNDLE).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
