/**
 * Helpers for the docs tests: the real `tsdbt` CLI as a child process, the
 * example project copied to a temp dir, and a headless Chromium (Debian's
 * `chromium` package driven by playwright-core).
 *
 * Chromium: when /usr/bin/chromium (or $TSDBT_CHROMIUM) is missing, browser
 * tests are skipped with a message — unless CI=true, where they fail.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'tsdbt.mjs');
/** Where screenshots go (git-ignored). */
export const TEST_OUTPUT = join(REPO_ROOT, 'test-output');

export const CHROMIUM = process.env.TSDBT_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why browser tests cannot run here, or undefined when they must (chromium present, or CI=true). */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI === 'true') return undefined;
  return `chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) to run the docs browser tests; with CI=true this is a failure`;
}

/** Launches headless Chromium. Throws a clear error when it is missing (CI=true). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is required for the docs browser tests (CI=true) but ${CHROMIUM} is missing: run apt-get update && apt-get install -y chromium`);
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
}

/** Runs `node bin/tsdbt.mjs …args` in `cwd`. Never throws for a non-zero exit. */
export function tsdbt(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = { ...process.env };
  delete base.DBT_PROFILES_DIR;
  delete base.TSDBT_PROFILES_DIR;
  delete base.GITHUB_ACTIONS;
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...base, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const c = code ?? (signal ? 128 : 1);
      resolveP({ code: c, stdout, stderr, output: `exit ${c}\n--- stdout\n${stdout}\n--- stderr\n${stderr}` });
    });
  });
}

/**
 * Copies the repository's example project (dbt_project.yml, models/, seeds/,
 * macros/, tests/data_quality/) to a new temp dir with a profiles.yml for a
 * PGlite database at `pgliteDir`, so tests never touch the repo's target/.
 * `projectYml` may rewrite dbt_project.yml (e.g. to add tags).
 */
export function copyExampleProject(pgliteDir: string, projectYml?: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-docs-example-'));
  for (const p of ['dbt_project.yml', 'models', 'seeds', 'macros', 'tests/data_quality']) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    cpSync(join(REPO_ROOT, p), join(dir, p), { recursive: true });
  }
  if (projectYml) {
    const path = join(dir, 'dbt_project.yml');
    writeFileSync(path, projectYml(readFileSync(path, 'utf8')));
  }
  writeFileSync(
    join(dir, 'profiles.yml'),
    `growth_analytics:\n  target: dev\n  outputs:\n    dev:\n      type: pglite\n      path: ${JSON.stringify(pgliteDir)}\n      schema: analytics\n      threads: 1\n`,
  );
  return dir;
}
