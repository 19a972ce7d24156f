/**
 * `tsdbt --version` in dbt's layout (dbt-core `get_version_information`: `Core:` / `- installed:`,
 * `Plugins:` / `- <adapter>: <version>`), and an example under every command's `--help`
 * (dbt's docs give one per command). The real CLI, as a user runs it; no database.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './harness.ts';
import { DBT_VERSION } from '../../src/dbt-version.ts';

function tsdbt(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), ...args], { env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const pkgVersion = (dir: string) => (JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { version: string }).version;

it("--version prints tsdbt's version, the dbt version it follows and the drivers', in dbt's layout", async () => {
  for (const flag of ['--version', '-v']) {
    const r = await tsdbt(flag);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `tsdbt: ${pkgVersion('.')}`);
    assert.equal(lines[1], 'Core:');
    assert.match(lines[2], new RegExp(`^  - installed: ${DBT_VERSION.replace(/\./g, '\\.')}\\b`));
    const plugins = lines.indexOf('Plugins:');
    assert.ok(plugins > 2, r.stdout);
    assert.ok(lines.includes(`  - postgres: pg ${pkgVersion('node_modules/pg')} (node-postgres)`), r.stdout);
    assert.ok(lines.some((l) => l.startsWith('  - pglite:') && l.includes(`@electric-sql/pglite ${pkgVersion('node_modules/@electric-sql/pglite')}`)), r.stdout);
  }
});

it('every command and docs sub-command shows an example under --help', async () => {
  const names = (help: string) =>
    help.slice(help.indexOf('Commands:')).split('\n').slice(1)
      .map((l) => /^  (\S+?)(?:\|\S+)?(?: \[options\])?(?:\s|$)/.exec(l)?.[1])
      .filter((n): n is string => !!n && n !== 'help');
  const root = await tsdbt('--help');
  const commands = names(root.stdout);
  assert.ok(commands.length >= 14, commands.join(' '));
  const docs = await tsdbt('docs', '--help');
  const all = [...commands.map((c) => [c]), ...names(docs.stdout).map((c) => ['docs', c])];
  // Three at a time: the machine is shared.
  const results: Awaited<ReturnType<typeof tsdbt>>[] = [];
  for (let i = 0; i < all.length; i += 3) results.push(...(await Promise.all(all.slice(i, i + 3).map((c) => tsdbt(...c, '--help')))));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `${all[i].join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`\\nExamples?:\\n  \\$ tsdbt ${all[i][0]}`), `${all[i].join(' ')} --help:\n${r.stdout}`);
  });
});
