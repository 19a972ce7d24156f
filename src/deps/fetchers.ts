/**
 * Getting a package's files into a scratch directory: tarballs (hub and
 * `tarball:` packages) with the `tar` library, git repositories with the
 * system `git` binary (dbt-core's core/dbt/clients/git.py shells out too).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { TsdbtError } from '../errors.ts';
import { httpGet } from './http.ts';
import { maskUrlCredentials } from '../secrets.ts';

/** Every `scheme://user:pass@` / `scheme://token@` in `text` with its credentials masked (git may print other URLs, e.g. a redirect). */
function maskConnectionUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (u) => maskUrlCredentials(u));
}

const run = promisify(execFile);

/**
 * Downloads the .tar.gz at `url` and unpacks it under `into` (a fresh
 * directory). Returns the package folder: the one top-level folder the archive
 * holds (dbt: "the extracted package needs to follow the structure
 * <name>/<package_contents>").
 *
 * Errors: `deps-download` (network), `package-invalid` (not a gzip tarball,
 * or not exactly one top-level folder).
 */
export async function downloadAndUnpack(url: string, into: string, what: string, display: string = maskUrlCredentials(url)): Promise<string> {
  const body = await httpGet(url, what, display);
  mkdirSync(into, { recursive: true });
  const file = `${into}.tar.gz`;
  writeFileSync(file, body);
  const dest = join(into, 'unpacked');
  mkdirSync(dest);
  try {
    const tar = await import('tar'); // loaded only when a package is fetched: every other command starts faster
    await tar.x({ file, cwd: dest, strict: true });
  } catch (e) {
    throw new TsdbtError('package-invalid', `${what} from ${display} is not a readable .tar.gz archive: ${(e as Error).message}`, {
      kind: 'runtime',
      hint: 'the URL must serve a gzip-compressed tar archive of the package',
    });
  }
  const top = readdirSync(dest).filter((n) => !n.startsWith('._'));
  if (top.length !== 1 || !statSync(join(dest, top[0])).isDirectory()) {
    throw new TsdbtError('package-invalid', `incorrect structure for package extracted from ${display}: found ${top.length} top-level entries`, {
      kind: 'runtime',
      hint: 'the archive must hold one folder with the package inside (<name>/dbt_project.yml ...)',
    });
  }
  return join(dest, top[0]);
}

async function git(args: string[], cwd: string | undefined, what: string, url?: string, display?: string): Promise<string> {
  try {
    const r = await run('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'echo' }, maxBuffer: 64 * 1024 * 1024 });
    return r.stdout.trim();
  } catch (e) {
    const err = e as Error & { code?: string; stderr?: string };
    if (err.code === 'ENOENT') {
      throw new TsdbtError('git-missing', 'git packages need the git command, and git was not found on PATH', { hint: 'install git (e.g. apt-get install git)' });
    }
    // git echoes the URL it was given: show it as written (the rendered one may hold a DBT_ENV_SECRET_ value).
    const said = url && display ? (err.stderr ?? err.message).split(url).join(display) : (err.stderr ?? err.message);
    const detail = maskConnectionUrls(said).trim().split('\n').filter((l) => !/^(hint|warning):/.test(l)).slice(-2).join(' ');
    throw new TsdbtError('git-error', `${what}: ${detail}`, {
      kind: 'runtime',
      hint: 'check the git URL, that the revision (tag, branch or commit) exists, and your access to the repository',
    });
  }
}

/** A checkout in the scratch directory. */
export interface GitCheckout {
  /** The package folder: the checkout, or its `subdirectory`. */
  readonly dir: string;
  /** The commit checked out (40 hex): what package-lock.yml pins. */
  readonly sha: string;
}

/**
 * Clones `url` into `into` at `revision` (a tag, a branch, a full or short
 * commit sha; none = the default branch's HEAD) and returns the package
 * folder and the commit. As dbt, a tag or branch is cloned shallowly; a commit
 * needs the history. Errors: `git-missing`, `git-error` (clone or checkout
 * failed; the message is git's, with the URL shown as `display` — as written in
 * packages.yml, never rendered — and credentials of other URLs masked),
 * `package-invalid` (the subdirectory does not exist).
 */
export async function gitCheckout(url: string, revision: string | undefined, subdirectory: string | undefined, into: string, display: string = maskUrlCredentials(url)): Promise<GitCheckout> {
  const label = `could not clone ${display}${revision ? ` at revision ${revision}` : ''}`;
  const rev = revision && revision !== 'HEAD' ? revision : undefined;
  if (!rev) {
    await git(['clone', '--quiet', '--depth', '1', url, into], undefined, label, url, display);
  } else if (/^[0-9a-f]{7,40}$/i.test(rev)) {
    await git(['clone', '--quiet', '--no-checkout', url, into], undefined, label, url, display);
    await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', rev], into, label, url, display);
  } else {
    // --branch takes a tag or a branch name.
    await git(['clone', '--quiet', '--depth', '1', '--branch', rev, url, into], undefined, label, url, display);
  }
  const sha = await git(['rev-parse', 'HEAD'], into, label);
  let dir = into;
  if (subdirectory) {
    dir = resolve(into, subdirectory);
    if (!(dir + sep).startsWith(resolve(into) + sep) || !existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new TsdbtError('package-invalid', `the git package ${display} has no subdirectory '${subdirectory}' at revision ${revision ?? 'HEAD'}`, {
        hint: 'check subdirectory: (a path inside the repository, to the folder holding dbt_project.yml)',
      });
    }
  }
  return { dir, sha };
}
