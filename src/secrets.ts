/**
 * Where secrets are, structurally — never a search-and-replace over text.
 *
 * As dbt: a secret is the value of a `DBT_ENV_SECRET_*` environment variable
 * (readable only in profiles.yml and packages.yml, see src/config/env-var.ts)
 * or a secret field of the profile (`password`/`pass`, and any key whose name
 * looks secret, {@link isSecretName}). The profile password goes to the
 * database driver and nowhere else: not into the Jinja context
 * (`targetForJinja`), not into any artifact. What remains to mask is masked
 * by field: {@link maskTarget} for `tsdbt debug`, {@link scrubConnectionText}
 * for a connection error that may echo a DSN, {@link isSecretName} keys
 * dropped from run_results.json's `args`. No function here rewrites arbitrary
 * text, so a one-letter password cannot corrupt output (an earlier
 * text-substitution design turned "expected" into "e****pected").
 */
import type { TargetConfig } from './config/types.ts';

/** What a secret field shows instead of its value. */
export const MASK = '****';

/** dbt's `SECRET_ENV_PREFIX`: environment variables whose value is a secret. */
export const SECRET_ENV_PREFIX = 'DBT_ENV_SECRET_';

/** True when `name` is a secret environment variable (`DBT_ENV_SECRET_…`), as dbt decides it: by prefix. */
export function isSecretEnvVar(name: string): boolean {
  return name.startsWith(SECRET_ENV_PREFIX);
}

/**
 * True when a config key or flag name looks like it holds a secret: it
 * contains PASSWORD, SECRET, TOKEN or KEY (case-insensitive). Used on field
 * NAMES only (profile fields in `debug`, `args` in run_results.json).
 */
export function isSecretName(name: string): boolean {
  return /password|secret|token|key/i.test(name);
}

/**
 * A copy of `target` that is safe to print: `password` becomes `****` (when
 * set), and so does every key of `extra` whose name looks secret. Values are
 * never inspected.
 */
export function maskTarget<T extends TargetConfig>(target: T): T {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(target.extra ?? {})) extra[k] = isSecretName(k) ? MASK : v;
  const copy: Record<string, unknown> = { ...(target as object), extra };
  if (target.password !== undefined && target.password !== '') copy.password = MASK;
  return copy as T;
}

/**
 * A connection error's text with the password fields of any connection
 * string in it masked: `password=…` / `pass=…` of a libpq key/value DSN
 * (quoted or not) and the `user:password@` part of a `postgres://` URI. Only
 * those fields are touched, whatever the password is; the rest of the text
 * is returned unchanged.
 */
export function scrubConnectionText(text: string): string {
  return text
    .replace(/\b(password|pass)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s'"]+)/gi, `$1=${MASK}`)
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, `$1:${MASK}@`);
}

/**
 * A URL with its `user:password@` (or token `user@`) part masked, for
 * printing a URL that may carry credentials (packages.yml git/tarball URLs
 * rendered from `DBT_ENV_SECRET_*`). Anything that is not a URL with
 * credentials is returned unchanged.
 */
export function maskUrlCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/i, `$1${MASK}@`);
}
