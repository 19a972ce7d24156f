/**
 * `tsdbt docs serve`: serves target/ over HTTP on localhost (sirv does the
 * file serving), like dbt's `docs serve`. The site also works straight from
 * disk; serving is for sharing a URL or for browsers that restrict file://.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { TsdbtError } from '../errors.ts';

export interface ServeOptions {
  /** TCP port; 0 picks a free one. Default 8080 (dbt's). */
  readonly port?: number;
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  readonly host?: string;
}

/** A running docs server. */
export interface DocsServer {
  /** e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Whether the request target `url` may be served from `root` (a real path):
 * an origin-form path (`/…`) whose decoded segments are not `.`/`..` or
 * dotfiles and hold no backslash or NUL, and whose file (or the `.html` /
 * `/index.html` sirv would try) does not resolve, through symlinks, outside
 * `root`. sirv normalises `..` itself; this also covers dotfiles (which sirv
 * serves in dev mode) and links out of target/.
 */
export function isServable(root: string, url: string): boolean {
  if (!url.startsWith('/') || url.startsWith('//')) return false;
  let path: string;
  try {
    path = decodeURIComponent(url.split(/[?#]/, 1)[0]);
  } catch {
    return false;
  }
  if (/[\\\0]/.test(path)) return false;
  const segments = path.split('/').filter((x) => x !== '');
  if (segments.some((x) => x.startsWith('.'))) return false;
  const file = join(root, ...segments);
  for (const candidate of [file, `${file}.html`, join(file, 'index.html')]) {
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue; // not there: sirv answers 404
    }
    if (real !== root && !real.startsWith(root + sep)) return false;
  }
  return true;
}

/**
 * Serves `dir` (target/) and resolves once listening. Files are re-read on
 * every request, so a `docs generate` in another terminal shows on reload.
 * Only files inside `dir` are ever served: see {@link isServable} (404 otherwise).
 *
 * @throws TsdbtError `docs-not-generated` when `dir/index.html` is missing,
 *   `port-in-use` / `bad-host` when the server cannot listen.
 */
export async function serveDocs(dir: string, options: ServeOptions = {}): Promise<DocsServer> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new TsdbtError('docs-not-generated', `there is no ${join(dir, 'index.html')} to serve`, { hint: 'run `tsdbt docs generate` first' });
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const { default: sirv } = await import('sirv'); // loaded only by `docs serve`: every other command starts faster
  const files = sirv(dir, { dev: true, etag: true, dotfiles: false });
  const root = realpathSync(dir);
  const server: Server = createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    if (!isServable(root, req.url ?? '/')) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Not found\n');
      return;
    }
    files(req, res, () => {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Not found\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new TsdbtError('port-in-use', `port ${port} on ${host} is already in use`, { hint: 'pick another with --port, e.g. --port 8081', kind: 'runtime' }));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new TsdbtError('bad-host', `cannot listen on host '${host}' (${err.code})`, { hint: 'use --host 127.0.0.1, or 0.0.0.0 to listen on every interface' }));
      else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actualPort}/`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
