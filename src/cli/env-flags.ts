/**
 * Flags from environment variables, as dbt's CLI reads them: each flag of
 * dbt-core's `core/dbt/cli/params.py` that declares an `envvar` (`DBT_TARGET`,
 * `DBT_THREADS`, `DBT_FULL_REFRESH`, …) takes its value from that variable
 * when the flag is not on the command line; the flag always wins. Booleans
 * are read as click's BOOL type reads them (`1/true/t/yes/y/on` and
 * `0/false/f/no/n/off`, any case); anything else is an error naming the
 * variable. `NO_COLOR` (any non-empty value) turns colours off, as the
 * no-color.org convention and dbt do, unless `--use-colors` is given.
 */
import type { Command } from 'commander';
import { TsdbtError } from '../errors.ts';

/** How a variable's text becomes a flag value. */
type EnvKind = 'string' | 'boolean' | 'int';

/** One flag ↔ environment variable pair. */
export interface FlagEnv {
  /** commander's attribute name of the flag (`fullRefresh` for `--full-refresh`). */
  readonly key: string;
  /** The environment variable dbt documents for it. */
  readonly env: string;
  readonly kind: EnvKind;
  /** Set when tsdbt accepts the variable but has nothing to do with it (said in a debug line, not a warning). */
  readonly ignored?: true;
}

/**
 * The variables tsdbt reads, dbt's names. `DBT_PROFILES_DIR` is read where
 * profiles.yml is looked for (src/config/profile.ts), after `--profiles-dir`;
 * the logging variables (`DBT_LOG_PATH`, `DBT_LOG_FORMAT`, `DBT_LOG_LEVEL`,
 * `DBT_QUIET`, …) in logging.ts `resolveLogOptions`.
 */
export const FLAG_ENV: readonly FlagEnv[] = [
  { key: 'target', env: 'DBT_TARGET', kind: 'string' },
  { key: 'profile', env: 'DBT_PROFILE', kind: 'string' },
  { key: 'threads', env: 'DBT_THREADS', kind: 'int' },
  { key: 'projectDir', env: 'DBT_PROJECT_DIR', kind: 'string' },
  { key: 'targetPath', env: 'DBT_TARGET_PATH', kind: 'string' },
  { key: 'warnError', env: 'DBT_WARN_ERROR', kind: 'boolean' },
  { key: 'fullRefresh', env: 'DBT_FULL_REFRESH', kind: 'boolean' },
  { key: 'failFast', env: 'DBT_FAIL_FAST', kind: 'boolean' },
  { key: 'defer', env: 'DBT_DEFER', kind: 'boolean' },
  { key: 'favorState', env: 'DBT_FAVOR_STATE', kind: 'boolean' },
  { key: 'state', env: 'DBT_STATE', kind: 'string' },
  { key: 'useColors', env: 'DBT_USE_COLORS', kind: 'boolean' },
  { key: 'sendAnonymousUsageStats', env: 'DBT_SEND_ANONYMOUS_USAGE_STATS', kind: 'boolean', ignored: true },
];

const TRUE = /^(1|true|t|yes|y|on)$/i;
const FALSE = /^(0|false|f|no|n|off)$/i;

/**
 * Reads a boolean environment value as click's BOOL does.
 * @throws TsdbtError `bad-flag` naming the variable for any other text.
 */
export function envBoolean(name: string, value: string): boolean {
  const v = value.trim();
  if (TRUE.test(v)) return true;
  if (FALSE.test(v)) return false;
  throw new TsdbtError('bad-flag', `${name}=${JSON.stringify(value)} is not a boolean`, { hint: `set ${name} to true or false (also 1/0, yes/no, on/off)` });
}

/**
 * Fills `flags` (commander's opts of `cmd`) from `env` for each flag of
 * {@link FLAG_ENV} that `cmd` has and the command line did not set (a
 * commander default is replaced too). Returns the flags (the same object).
 * @throws TsdbtError `bad-flag` for a boolean or number that does not parse.
 */
export function applyEnvFlags<T extends Record<string, unknown>>(cmd: Command, flags: T, env: NodeJS.ProcessEnv = process.env): T {
  const has = new Set(cmd.options.map((o) => o.attributeName()));
  const out = flags as Record<string, unknown>;
  for (const f of FLAG_ENV) {
    const raw = env[f.env];
    if (raw === undefined || raw === '' || !has.has(f.key) || f.ignored) continue;
    const source = cmd.getOptionValueSource(f.key);
    if (source === 'cli') continue;
    if (f.kind === 'boolean') out[f.key] = envBoolean(f.env, raw);
    else if (f.kind === 'int') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new TsdbtError('bad-flag', `${f.env}=${JSON.stringify(raw)} must be a positive whole number`, { hint: `e.g. ${f.env}=4` });
      out[f.key] = n;
    } else out[f.key] = raw;
  }
  return flags;
}

/**
 * Whether the console uses colours, as dbt decides: `--use-colors` /
 * `--no-use-colors` on the command line win, then `DBT_USE_COLORS`, then
 * `NO_COLOR` (set and non-empty → no colours); otherwise undefined (the
 * console colours when stdout is a TTY).
 */
export function colorChoice(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean | undefined {
  for (let i = argv.length - 1; i >= 0; i--) {
    if (argv[i] === '--use-colors') return true;
    if (argv[i] === '--no-use-colors') return false;
  }
  if (env.DBT_USE_COLORS !== undefined && env.DBT_USE_COLORS !== '') {
    try {
      return envBoolean('DBT_USE_COLORS', env.DBT_USE_COLORS);
    } catch {
      return undefined; // reported by applyEnvFlags on commands that take --use-colors
    }
  }
  if (env.NO_COLOR) return false;
  return undefined;
}
