/**
 * `tsdbt docs serve` with hostile requests, over real HTTP: path traversal in
 * every spelling (`/../`, percent-encoded, double-encoded, backslashes, absolute
 * paths, an absolute-form request target) never reads a file outside target/,
 * dotfiles are not served, and the server listens on 127.0.0.1 by default.
 * A file `secret.txt` next to target/ (and /etc/passwd) is the bait.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDocs, type DocsServer } from '../../src/docs/serve.ts';
import { REPO_ROOT } from '../faults/harness.ts';

const SECRET = 'TOP-SECRET-5f1c';

/** GET `path` exactly as written (Node's client does not normalise it). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends a raw request line (for absolute-form targets Node's client would not send). */
function raw(port: number, requestLine: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

const TRAVERSALS = [
  '/../secret.txt',
  '/../../../../../../etc/passwd',
  '/..%2fsecret.txt',
  '/%2e%2e/secret.txt',
  '/%2e%2e%2fsecret.txt',
  '/%2E%2E%2Fsecret.txt',
  '/%252e%252e%252fsecret.txt',
  '/..%5csecret.txt',
  '/..\\secret.txt',
  '/.%2e/.%2e/.%2e/.%2e/etc/passwd',
  '/%c0%ae%c0%ae/secret.txt',
  '//etc/passwd',
  '/%2fetc%2fpasswd',
  '/etc/passwd',
  '/assets/../../secret.txt',
  '/assets/%2e%2e/%2e%2e/secret.txt',
  '/.hidden',
  '/escape/secret.txt',
];

describe('docs serve refuses path traversal', () => {
  let root: string;
  let server: DocsServer;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'tsdbt-serve-'));
    const target = join(root, 'target');
    mkdirSync(join(target, 'assets'), { recursive: true });
    writeFileSync(join(target, 'index.html'), '<!doctype html><title>docs</title>');
    writeFileSync(join(target, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(target, '.hidden'), SECRET);
    writeFileSync(join(root, 'secret.txt'), SECRET);
    symlinkSync(root, join(target, 'escape')); // a link out of target/ is not followed
    server = await serveDocs(target, { port: 0 });
  });
  after(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the site itself', async () => {
    assert.equal((await get(server.port, '/')).status, 200);
    assert.equal((await get(server.port, '/assets/app.js')).body, 'console.log(1)');
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  for (const path of TRAVERSALS) {
    it(`GET ${path} reads nothing outside target/`, async () => {
      const r = await get(server.port, path);
      assert.doesNotMatch(r.body, new RegExp(`${SECRET}|root:x:0:0`), `${path} → ${r.status}`);
      // Either not found/refused, or the site's own index page (a SPA fallback), never the bait.
      assert.ok(r.status === 404 || r.status === 400 || r.status === 403 || /<title>docs<\/title>/.test(r.body), `${path} → ${r.status} ${r.body.slice(0, 80)}`);
    });
  }

  it('absolute-form request targets read nothing outside target/', async () => {
    for (const line of ['GET http://127.0.0.1/../secret.txt HTTP/1.1', 'GET http://127.0.0.1/../../../../etc/passwd HTTP/1.1', 'GET file:///etc/passwd HTTP/1.1', 'GET ../secret.txt HTTP/1.1']) {
      const out = await raw(server.port, line);
      assert.doesNotMatch(out, new RegExp(`${SECRET}|root:x:0:0`), line);
    }
  });
});

describe('docs serve listens on 127.0.0.1 by default', () => {
  it('serveDocs without a host', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsdbt-serve-'));
    writeFileSync(join(root, 'index.html'), 'x');
    const server = await serveDocs(root, { port: 0 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the CLI, without --host, prints a 127.0.0.1 URL and answers there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-serve-cli-'));
    writeFileSync(join(dir, 'dbt_project.yml'), "name: s\nversion: '1.0.0'\nconfig-version: 2\nprofile: s\n");
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target', 'index.html'), '<title>docs</title>');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tsdbt.mjs'), 'docs', 'serve', '--port', '0'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /Serving docs at (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(m[1]);
          }
        });
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const port = Number(new URL(url).port);
      assert.equal((await get(port, '/')).status, 200);
      assert.notEqual((await get(port, '/../dbt_project.yml')).body.includes('config-version'), true);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('close', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
