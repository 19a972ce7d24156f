/**
 * A process-wide registry of secret values (passwords, tokens) so that any
 * text tsdbt prints or writes can be scrubbed first.
 *
 * Mirrors dbt's secret scrubbing (`scrub_secrets` over `DBT_ENV_SECRET_*`
 * values), widened: the profile password and every `env_var()` value whose
 * variable NAME looks secret ({@link isSecretName}) are registered by
 * src/config. Everything that reaches a console, a log or an artifact should
 * pass through {@link redact}.
 */
import type { TargetConfig } from './config/types.ts';

/** What a secret is replaced with. */
export const MASK = '****';

const secrets = new Set<string>();
/** One regular expression over every secret, longest first; rebuilt lazily after a registration. */
let pattern: RegExp | null = null;

/**
 * Remembers `value` as a secret for the rest of the process. Empty values and
 * non-strings are ignored (an empty password has nothing to hide). Numbers are
 * registered as their text.
 */
export function registerSecret(value: unknown): void {
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string' || value.length === 0) return;
  if (secrets.has(value)) return;
  secrets.add(value);
  pattern = null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Returns `text` with every registered secret replaced by `****`. Longer
 * secrets are matched first, so a secret that contains another is masked whole.
 * Cost: one regular-expression pass, O(text length).
 */
export function redact(text: string): string {
  if (secrets.size === 0 || typeof text !== 'string' || text.length === 0) return text;
  if (pattern === null) {
    const sorted = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(sorted.join('|'), 'g');
  }
  return text.replace(pattern, MASK);
}

/**
 * {@link redact} for a JSON document: also masks secrets in their
 * JSON-escaped spelling (a secret holding `"` or `\\` appears escaped in JSON).
 * Used on every artifact before it is written.
 */
export function redactJson(json: string): string {
  if (secrets.size === 0) return json;
  let out = redact(json);
  for (const s of secrets) {
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && escaped.length) out = out.split(escaped).join(MASK);
  }
  return out;
}

/**
 * True when an environment-variable or config key name looks like it holds a
 * secret: it contains PASSWORD, SECRET, TOKEN or KEY (case-insensitive). This
 * covers dbt's `DBT_ENV_SECRET_` prefix too.
 */
export function isSecretName(name: string): boolean {
  return /password|secret|token|key/i.test(name);
}

/** Number of registered secrets (for tests and `tsdbt debug`). */
export function secretCount(): number {
  return secrets.size;
}

/** Forgets every registered secret. For tests only. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = null;
}

/**
 * A copy of `target` that is safe to print or serialise: `password` becomes
 * `****` (when set), and so does every key of `extra` whose name looks secret
 * or whose value is a registered secret.
 */
export function maskTarget<T extends TargetConfig>(target: T): T {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(target.extra ?? {})) {
    extra[k] = isSecretName(k) || (typeof v === 'string' && secrets.has(v)) ? MASK : v;
  }
  const copy: Record<string, unknown> = { ...(target as object), extra };
  if (target.password !== undefined && target.password !== '') copy.password = MASK;
  return copy as T;
}
