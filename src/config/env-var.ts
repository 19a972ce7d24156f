/**
 * dbt's `env_var(name, default)`, the one implementation every renderer
 * uses (dbt_project.yml, profiles.yml, properties and the parse-phase render
 * of models, tests and macros).
 */
import { TsdbtError } from '../errors.ts';
import { isSecretName, registerSecret } from '../secrets.ts';

/** Where the call is, for the error message. */
export interface EnvVarSite {
  /** Project-relative file, e.g. `models/orders.sql` or `profiles.yml`. */
  readonly file?: string;
  /** 1-based line, when known. */
  readonly line?: number;
}

/**
 * The value of environment variable `name` in `env`, else `fallback`.
 *
 * As dbt-core's `env_var` (core/dbt/context/base.py): a set variable wins
 * (even when empty); a default of `None`/`null` (or none given: pass
 * `undefined`) counts as no default. The value of a secret-named variable
 * (`DBT_ENV_SECRET_*`, see secrets.ts) is registered so it is masked in
 * output and artifacts.
 *
 * @throws TsdbtError `env-var-missing` (kind 'project') naming the variable and `site`, with a hint
 *   to export it or give a default — dbt's "Env var required but not provided".
 */
export function envVar(env: NodeJS.ProcessEnv, name: string, fallback: unknown, site: EnvVarSite = {}): unknown {
  const v = env[name];
  if (v !== undefined) {
    if (isSecretName(name)) registerSecret(v);
    return v;
  }
  if (fallback !== undefined && fallback !== null) return fallback;
  throw new TsdbtError('env-var-missing', `env var required but not provided: '${name}'${site.file ? ` (used in ${site.file})` : ''}`, {
    file: site.file,
    line: site.line,
    hint: `set ${name} in the environment (export ${name}=…), or give a default: env_var('${name}', 'value')`,
  });
}
