/**
 * What bin/tsdbt.mjs tries before loading the CLI (bundled alone as
 * dist/fast.mjs, so this path loads no parser, template engine or driver):
 *  - `tsdbt --version` / `-v`: printed here (the text commander prints);
 *  - `tsdbt compile`: when the previous identical invocation left a
 *    replayable record and nothing it depends on changed
 *    (src/parse/unchanged.ts), its console output is replayed through a
 *    fresh console (new invocation id, current clock, dbt.log as usual) and
 *    manifest.json / lineage.json get the new metadata.
 */
import { findUnchanged } from '../parse/unchanged.ts';
import { createConsole } from './console.ts';
import { colorChoice } from './env-flags.ts';
import type { LogOptions } from './logging.ts';
import { versionText } from './version.ts';

/**
 * Handles the command line without the CLI when it can: resolves to the exit
 * code, or null when the full CLI must run. `buildId` names the running build.
 */
export function tryFast(argv: string[], buildId: string): number | null {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-v')) {
    process.stdout.write(`${versionText()}\n`);
    return 0;
  }
  return tryUnchanged(argv, buildId);
}

/**
 * Replays an unchanged invocation. Resolves to its exit code (0), or null
 * when it must run in full (not `compile`, no record, anything changed).
 * `buildId` names the tsdbt build that runs (bin/tsdbt.mjs).
 */
export function tryUnchanged(argv: string[], buildId: string): number | null {
  if (argv[2] !== 'compile' || argv.includes('--inline') || process.env.TSDBT_REPLAY === '0') return null;
  const hit = findUnchanged({ buildId, argv, cwd: process.cwd(), tty: [!!process.stdout.isTTY, !!process.stderr.isTTY] });
  if (typeof hit === 'string') {
    (globalThis as { __tsdbtNotReplayed?: string }).__tsdbtNotReplayed = hit;
    return null;
  }
  const out = createConsole({ color: colorChoice(argv) });
  out.configureLogging?.(hit.console.logOptions as LogOptions, { command: hit.console.command, args: hit.console.args });
  hit.patch(out.invocationId!);
  const o = out as unknown as Record<string, ((...a: unknown[]) => void) | undefined>;
  for (const [method, ...args] of hit.events) o[method]?.(...args.map((a) => (a === null ? undefined : a)));
  out.debug?.('Nothing changed since the last identical compile: its result was reused (TSDBT_REPLAY=0 compiles in full)');
  out.close?.(0);
  return 0;
}
