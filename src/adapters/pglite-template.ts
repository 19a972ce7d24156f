/**
 * A PGlite data directory made by initdb once per machine and PGlite version, copied
 * into every new data directory instead of running initdb there.
 *
 * Why: initdb inside PGlite starts a second WASM instance and runs the bootstrap:
 * measured on this machine (2 cores, shared) 8.8 s CPU, 20 s wall under load and
 * ~840 MB peak RSS; copying the 39 MB template and opening it took 1.8 s CPU and
 * ~300 MB. The copy is what `initdb` would write (same PGlite build, same defaults),
 * so the database is the same; PostgreSQL's own server has the same split (initdb
 * once at install, then every run uses the cluster).
 */
import { constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed @electric-sql/pglite version (names the template directory). */
export function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * Where templates are kept: `$TSDBT_CACHE_DIR`, else `$XDG_CACHE_HOME/tsdbt`, else
 * `~/.cache/tsdbt` — a directory of the user's own (a shared temporary directory would let
 * another user plant a data directory we then open).
 */
export function tsdbtCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSDBT_CACHE_DIR) return env.TSDBT_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'tsdbt');
  return join(homedir(), '.cache', 'tsdbt');
}

const building = new Map<string, Promise<string>>();

/**
 * The path of an initdb'd, closed PGlite data directory for this PGlite version under
 * `root`, creating it on first use (that one call pays initdb). Safe against several
 * processes racing: each builds in its own temporary directory and renames it into
 * place; the losers discard theirs.
 *
 * @throws whatever PGlite or the file system throws while building it (callers fall
 *   back to PGlite's own initdb).
 */
export function pgliteTemplateDir(root: string): Promise<string> {
  const final = join(root, `pglite-template-${pgliteVersion()}`);
  let p = building.get(final);
  if (!p) {
    p = (async () => {
      if (existsSync(join(final, 'PG_VERSION'))) return final;
      mkdirSync(root, { recursive: true });
      const tmp = mkdtempSync(`${final}.building-`);
      try {
        const { PGlite } = await import('@electric-sql/pglite');
        const db = new PGlite(tmp);
        await db.waitReady;
        await db.close();
        renameSync(tmp, final);
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (!(code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') || !existsSync(join(final, 'PG_VERSION'))) throw err;
      }
      return final;
    })();
    p.catch(() => building.delete(final));
    building.set(final, p);
  }
  return p;
}

/**
 * Fills `dataDir` (which has no PG_VERSION yet; other files, such as tsdbt's lock, stay)
 * with a copy of the template under `root`. PG_VERSION is copied last, so a copy cut
 * short is not taken for a database: the next open copies again.
 *
 * @throws as {@link pgliteTemplateDir}, or a file system error while copying.
 */
export async function copyPgliteTemplate(dataDir: string, root: string): Promise<void> {
  const src = await pgliteTemplateDir(root);
  // FICLONE: a copy-on-write clone where the file system has them (btrfs, XFS), else a plain copy.
  const mode = constants.COPYFILE_FICLONE;
  cpSync(src, dataDir, { recursive: true, mode, filter: (from) => from !== join(src, 'PG_VERSION') });
  cpSync(join(src, 'PG_VERSION'), join(dataDir, 'PG_VERSION'), { mode });
}
