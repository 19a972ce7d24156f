/**
 * The project and the target together, as dbt's RuntimeConfig: read
 * dbt_project.yml, find the profile it names, then render the project again
 * with `target` available (dbt_project.yml may use `{{ target.name }}`).
 */
import { resolve } from 'node:path';
import { buildProjectConfig, readProjectFile, renderProfileName } from './project.ts';
import { loadProfile } from './profile.ts';
import type { ProjectConfig, TargetConfig } from './types.ts';
import { isPlainObject } from './yaml-file.ts';

/** Options for {@link loadRuntimeConfig}: the CLI flags that shape configuration. */
export interface RuntimeOptions {
  /** `--vars`, already parsed (see parseVars). */
  readonly vars?: Record<string, unknown>;
  readonly profilesDir?: string;
  readonly profile?: string;
  readonly target?: string;
  /** Environment for env_var() and profile lookup; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface RuntimeConfig {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  /** Profile warnings (strings) and project warnings (`.format()`ed), in that order. */
  readonly warnings: string[];
  /** Set when the embedded PGlite default is used. */
  readonly notice?: string;
  readonly cliVars: Record<string, unknown>;
}

/**
 * Loads dbt_project.yml and the target it runs against (see
 * loadProjectConfig and loadProfile for the rules and errors). The YAML is
 * parsed once; the project is rendered after the profile so `target` is
 * visible in it, as in dbt.
 */
export function loadRuntimeConfig(projectDir: string, opts: RuntimeOptions = {}): RuntimeConfig {
  const root = resolve(projectDir);
  const yf = readProjectFile(root);
  const env = opts.env ?? process.env;
  const cliVars = opts.vars ?? {};
  const data = isPlainObject(yf.data) ? yf.data : undefined;
  // Without a name the project is invalid: let the project loader report it.
  if (!data || data.name === undefined || data.name === null || data.name === '') buildProjectConfig(yf, root, { vars: cliVars, env });
  // Only `profile:` is needed to find the target; the rest is rendered once, with `target`.
  const profileName = opts.profile ?? renderProfileName(yf, { vars: cliVars, env });
  const loaded = loadProfile(
    { root, name: String(data!.name), profile: profileName, file: yf.file },
    { profilesDir: opts.profilesDir, target: opts.target, profile: profileName, explicitProfile: opts.profile !== undefined, env, vars: cliVars },
  );
  const project = buildProjectConfig(yf, root, { vars: cliVars, env, target: loaded.target });
  return {
    project,
    target: loaded.target,
    warnings: [...loaded.warnings, ...(project.warnings ?? []).map((w) => w.format())],
    notice: loaded.notice,
    cliVars,
  };
}
