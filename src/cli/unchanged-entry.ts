/**
 * The first thing `tsdbt compile` tries (bin/tsdbt.mjs, before loading the
 * CLI): when the previous identical invocation left a replayable record and
 * nothing it depends on changed (src/parse/unchanged.ts), replay its console
 * output through a fresh console (new invocation id, current clock, dbt.log
 * as usual) and patch manifest.json / lineage.json metadata. Bundled alone as
 * dist/unchanged.mjs so this path loads no parser, template engine or driver.
 */
import { findUnchanged } from '../parse/unchanged.ts';
import { createConsole } from './console.ts';
import { colorChoice } from './env-flags.ts';
import type { LogOptions } from './logging.ts';

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
