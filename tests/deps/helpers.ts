/**
 * Test helpers for `tsdbt deps`: small package folders written by the test,
 * a local dbt Hub / tarball server on 127.0.0.1 that counts its requests, git
 * repositories made with the system git, and a Console that captures what a
 * user would see (through the real terminal console).
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { createConsole, type Console } from '../../src/cli/console.ts';

const created: string[] = [];
process.on('exit', () => {
  if (process.env.DEPS_KEEP) return;
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test process exits (unless DEPS_KEEP=1). */
export function tempDir(prefix = 'tsdbt-deps-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

/** Writes `files` (relative path → text) under `root`. Returns `root`. */
export function writeFiles(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  }
  return root;
}

/** The files of a tiny dbt package `name` whose macro returns `marker`; `packagesYml` is its own packages.yml. */
export function packageFiles(name: string, marker: string, packagesYml?: string): Record<string, string> {
  const files: Record<string, string> = {
    'dbt_project.yml': `name: ${name}\nversion: '${marker}'\nconfig-version: 2\n`,
    [`macros/${name}_marker.sql`]: `{% macro ${name}_marker() %}'${marker}'{% endmacro %}\n`,
  };
  if (packagesYml) files['packages.yml'] = packagesYml;
  return files;
}

/** A .tar.gz (as Buffer) of `files` inside one top-level folder `folder`, as GitHub's codeload serves a tag. */
export async function makeTarball(folder: string, files: Record<string, string>): Promise<Buffer> {
  const dir = tempDir('tsdbt-deps-tar-');
  writeFiles(join(dir, folder), files);
  const file = join(dir, 'out.tar.gz');
  await tar.c({ gzip: true, file, cwd: dir, portable: true }, [folder]);
  const { readFileSync } = await import('node:fs');
  return readFileSync(file);
}

/** A local HTTP server: `routes` maps a path to a body (object → JSON). Counts requests. */
export interface TestServer {
  readonly url: string;
  readonly routes: Map<string, Buffer | object>;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Buffer | object>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    const body = routes.get(path);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } else if (Buffer.isBuffer(body)) {
      res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    routes,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A fake dbt Hub on `server`: packages → versions → { files, deps, require }. Serves index, package JSON and tarballs. */
export async function publishHub(
  server: TestServer,
  packages: Record<string, Record<string, { files: Record<string, string>; deps?: Record<string, unknown>[]; require?: string[] }>>,
): Promise<void> {
  server.routes.set('/api/v1/index.json', Object.keys(packages));
  for (const [pkg, versions] of Object.entries(packages)) {
    const [namespace, name] = pkg.split('/');
    const out: Record<string, unknown> = {};
    for (const [v, info] of Object.entries(versions)) {
      const tarPath = `/tarballs/${namespace}/${name}/${v}.tar.gz`;
      server.routes.set(tarPath, await makeTarball(`${name}-${v}`, info.files));
      out[v] = {
        id: `${pkg}/${v}`, name, version: v, published_at: '2026-01-01T00:00:00Z', packages: info.deps ?? [], works_with: [],
        ...(info.require ? { require_dbt_version: info.require } : {}),
        downloads: { tarball: `${server.url.replace(/\/$/, '')}${tarPath}`, format: 'tgz', sha1: '' },
      };
    }
    server.routes.set(`/api/v1/${pkg}.json`, { name, namespace, latest: Object.keys(versions).at(-1), versions: out });
  }
}

/** Runs git with `args` in `cwd`, returning stdout (trimmed). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  }).trim();
}

/** A Console whose output lands in `lines` (stdout and stderr together), as the terminal prints it. */
export function captureConsole(): { out: Console; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const sink = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream;
  const out = createConsole({ color: false, stdout: sink, stderr: sink });
  return { out, lines, text: () => lines.join('') };
}

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsdbt.mjs');

/** Runs the real `tsdbt` CLI (`node bin/tsdbt.mjs …args`) in `cwd`; never throws for a non-zero exit. */
export function tsdbt(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveP({ code: code ?? 1, stdout, stderr }));
  });
}
