/**
 * The flags tsdbt commands share, spelled as dbt's: project and profile
 * location, target, vars and --debug; with `selection`, --select/--exclude,
 * --state, --resource-type; with `run`, the execution flags. Flags that dbt
 * reads from an environment variable (`DBT_TARGET`, …) are filled from it in
 * env-flags.ts; the help text names the variable.
 */
import { Option, type Command } from 'commander';
import { addLoggingOptions } from './logging-flags.ts';

/** `--resource-type` / `--exclude-resource-type` values dbt accepts (click.Choice in dbt's params.py); anything else is a usage error (exit 2). */
export const RESOURCE_TYPE_CHOICES = ['metric', 'semantic_model', 'saved_query', 'source', 'analysis', 'model', 'test', 'unit_test', 'exposure', 'snapshot', 'seed', 'default', 'all'] as const;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter(Boolean)];
}

/** Adds the shared flags to `cmd` and returns it. */
export function common(cmd: Command, opts: { selection?: boolean; run?: boolean } = {}): Command {
  cmd
    .option('--project-dir <dir>', 'directory holding dbt_project.yml (default: $DBT_PROJECT_DIR, then the current directory)')
    .option('--profiles-dir <dir>', 'directory holding profiles.yml (default: $DBT_PROFILES_DIR, the project dir, then ~/.dbt)')
    .option('-t, --target <name>', 'target (profile output) to use (env: DBT_TARGET)')
    .option('--profile <name>', "profile to use instead of dbt_project.yml's `profile:` (env: DBT_PROFILE)")
    .option('--target-path <dir>', "where artifacts go instead of dbt_project.yml's target-path (env: DBT_TARGET_PATH)")
    .option('--vars <yaml>', "variables for var(), as YAML or JSON, e.g. '{start_date: 2025-01-01}'")
    .option('--use-colors', 'colour the output (env: DBT_USE_COLORS; default: when stdout is a terminal; NO_COLOR turns it off)')
    .option('--no-use-colors', 'never colour the output')
    .option('--debug', 'show stack traces and debug output')
    .option('--version-check', "check require-dbt-version of the project and its packages (default; DBT_VERSION_CHECK=false turns it off)")
    .option('--no-version-check', 'do not check require-dbt-version, as dbt --no-version-check')
    .option('--no-validate', "do not parse the compiled SQL before running it (syntax errors then come from the database; no column lineage); one node: config validate: false");
  addLoggingOptions(cmd);
  if (opts.selection) {
    cmd
      .option('-s, --select <selector...>', 'nodes to include (dbt selection syntax: name, +name, name+, tag:x, path:x, …)', collect)
      .option('-m, --models <selector...>', 'the old name of --select (dbt still accepts it)', collect)
      .option('--exclude <selector...>', 'nodes to exclude', collect)
      .option('--selector <name>', 'a selector defined in selectors.yml (used instead of --select / --exclude)')
      .addOption(new Option('--indirect-selection <mode>', 'which tests of the selected nodes are selected too (default eager)').choices(['eager', 'cautious', 'buildable', 'empty']));
  }
  if (opts.run) {
    cmd
      .option('--threads <n>', 'run up to n independent nodes at once (PGlite always runs one at a time; env: DBT_THREADS)')
      .option('--full-refresh', 'rebuild incremental models and seeds from scratch (env: DBT_FULL_REFRESH)')
      .option('-x, --fail-fast', 'stop at the first failure (env: DBT_FAIL_FAST)')
      .option('--warn-error', 'treat warnings (e.g. tests with severity warn) as errors (env: DBT_WARN_ERROR)')
      .option('--store-failures', "keep each test's failing rows in <target schema>_dbt_test__audit")
      .option('--junit <path>', 'write a JUnit XML report (one testcase per node) for CI systems')
      .option('--no-wait', 'fail (exit 1) instead of waiting when another tsdbt run holds this target (PostgreSQL)')
      .option('--defer', "with --state DIR: ref() to a node that is not selected and not built in this target reads that node's relation from DIR's manifest")
      .option('--favor-state', "with --defer: ref() to a node that is not selected reads DIR's relation even when it exists in this target (env: DBT_FAVOR_STATE)")
      .option('--no-favor-state', 'with --defer: defer only nodes missing in this target (the default)');
  }
  if (opts.selection) {
    cmd
      .option('--state <dir>', 'a previous target/ (manifest.json) for state:modified / state:new selection')
      .addOption(new Option('--resource-type <type...>', 'only these resource types').choices(RESOURCE_TYPE_CHOICES))
      .addOption(new Option('--exclude-resource-type <type...>', 'leave these resource types out').choices(RESOURCE_TYPE_CHOICES));
  }
  return cmd;
}
