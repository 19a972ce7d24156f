/**
 * The flags tsdbt commands share, spelled as dbt's: project and profile
 * location, target, vars and --debug; with `selection`, --select/--exclude,
 * --state, --resource-type; with `run`, the execution flags.
 */
import { Option, type Command } from 'commander';

/** `--resource-type` / `--exclude-resource-type` values dbt accepts (click.Choice in dbt's params.py); anything else is a usage error (exit 2). */
export const RESOURCE_TYPE_CHOICES = ['metric', 'semantic_model', 'saved_query', 'source', 'analysis', 'model', 'test', 'unit_test', 'exposure', 'snapshot', 'seed', 'default', 'all'] as const;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter(Boolean)];
}

/** Adds the shared flags to `cmd` and returns it. */
export function common(cmd: Command, opts: { selection?: boolean; run?: boolean } = {}): Command {
  cmd
    .option('--project-dir <dir>', 'directory holding dbt_project.yml (default: current directory)')
    .option('--profiles-dir <dir>', 'directory holding profiles.yml (default: $DBT_PROFILES_DIR, the project dir, then ~/.dbt)')
    .option('-t, --target <name>', 'target (profile output) to use')
    .option('--vars <yaml>', "variables for var(), as YAML or JSON, e.g. '{start_date: 2025-01-01}'")
    .option('--debug', 'show stack traces and debug output');
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
      .option('--threads <n>', 'run up to n independent nodes at once (PGlite always runs one at a time)')
      .option('--full-refresh', 'rebuild incremental models and seeds from scratch')
      .option('-x, --fail-fast', 'stop at the first failure')
      .option('--warn-error', 'treat warnings (e.g. tests with severity warn) as errors')
      .option('--store-failures', "keep each test's failing rows in <target schema>_dbt_test__audit")
      .option('--junit <path>', 'write a JUnit XML report (one testcase per node) for CI systems')
      .option('--no-wait', 'fail (exit 1) instead of waiting when another tsdbt run holds this target (PostgreSQL)')
      .option('--defer', "with --state DIR: ref() to a node that is not selected and not built in this target reads that node's relation from DIR's manifest");
  }
  if (opts.selection) {
    cmd
      .option('--state <dir>', 'a previous target/ (manifest.json) for state:modified / state:new selection')
      .addOption(new Option('--resource-type <type...>', 'only these resource types').choices(RESOURCE_TYPE_CHOICES))
      .addOption(new Option('--exclude-resource-type <type...>', 'leave these resource types out').choices(RESOURCE_TYPE_CHOICES));
  }
  return cmd;
}
