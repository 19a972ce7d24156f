/**
 * dbt's `env_var(name, default)`, the one implementation every renderer
 * uses (dbt_project.yml, profiles.yml, properties and the parse-phase render
 * of models, tests and macros).
 */
import { TsdbtError } from '../errors.ts';
import { isSecretEnvVar } from '../secrets.ts';

/** Where the call is, for the error message. */
export interface EnvVarSite {
  /** Project-relative file, e.g. `models/orders.sql` or `profiles.yml`. */
  readonly file?: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /**
   * True only where dbt lets a secret env var be read: profiles.yml and
   * packages.yml (and the package-lock.yml rendered from it).
   */
  readonly secretsAllowed?: boolean;
}

/**
 * The value of environment variable `name` in `env`, else `fallback`.
 *
 * As dbt-core's `env_var` (core/dbt/context/base.py): a set variable wins
 * (even when empty); a default of `None`/`null` (or none given: pass
 * `undefined`) counts as no default.
 *
 * A secret variable (`DBT_ENV_SECRET_*`) is refused unless
 * `site.secretsAllowed` — as dbt's `SecretEnvVarLocationError`: "Secret env
 * vars are allowed only in profiles.yml or packages.yml". The check is on the
 * name, before the lookup, so it fails the same whether the variable is set
 * or not, and its value never reaches a model, a macro, a properties file,
 * dbt_project.yml or any artifact built from them.
 *
 * @throws TsdbtError `secret-env-var` (kind 'project') naming the variable, file and line.
 * @throws TsdbtError `env-var-missing` (kind 'project') naming the variable and `site`, with a hint
 *   to export it or give a default — dbt's "Env var required but not provided".
 */
export function envVar(env: NodeJS.ProcessEnv, name: string, fallback: unknown, site: EnvVarSite = {}): unknown {
  // Without a line (a call from a model's or macro's Jinja), the file is left to the Jinja renderer,
  // which locates the error where the call is: in the macro's file when it is in a macro.
  if (isSecretEnvVar(name) && !site.secretsAllowed) throw secretEnvVarError(name, site.line === undefined ? {} : site);
  const v = env[name];
  if (v !== undefined) return v;
  if (fallback !== undefined && fallback !== null) return fallback;
  throw new TsdbtError('env-var-missing', `env var required but not provided: '${name}'${site.file ? ` (used in ${site.file})` : ''}`, {
    file: site.file,
    line: site.line,
    hint: `set ${name} in the environment (export ${name}=…), or give a default: env_var('${name}', 'value')`,
  });
}

/** dbt's SecretEnvVarLocationError, with where it is and what to do. */
export function secretEnvVarError(name: string, site: EnvVarSite): TsdbtError {
  return new TsdbtError(
    'secret-env-var',
    `secret env var '${name}' is read here: secret env vars (DBT_ENV_SECRET_…) are allowed only in profiles.yml and packages.yml`,
    {
      file: site.file,
      line: site.line,
      kind: 'project',
      hint: `read it in profiles.yml (e.g. password: "{{ env_var('${name}') }}") or packages.yml; if the value is not a secret, rename the variable without the DBT_ENV_SECRET_ prefix`,
    },
  );
}
