/**
 * An example (or a few) under each command's `--help`, as dbt's docs show
 * one per command: added with commander's `addHelpText('after', …)` to every
 * command and sub-command registered on the program, wherever it was
 * registered.
 */
import type { Command } from 'commander';

/** Command path (`docs generate` for a sub-command) → example lines. */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  run: ['tsdbt run', 'tsdbt run --select staging+ --fail-fast', 'tsdbt run --select state:modified+ --state prod-target/', 'tsdbt run --select orders --defer --favor-state --state prod-target/'],
  seed: ['tsdbt seed', 'tsdbt seed --select raw_orders --full-refresh'],
  test: ['tsdbt test', 'tsdbt test --select orders --store-failures'],
  snapshot: ['tsdbt snapshot', 'tsdbt snapshot --select orders_snapshot'],
  build: ['tsdbt build', 'tsdbt build --select +orders --fail-fast --junit reports/tsdbt.xml'],
  retry: ['tsdbt retry', 'tsdbt build --select marts || tsdbt retry'],
  compile: ['tsdbt compile', 'tsdbt compile --select orders', `tsdbt compile --inline "select * from {{ ref('orders') }}" --output json`],
  parse: ['tsdbt parse'],
  ls: ['tsdbt ls --select tag:daily', 'tsdbt ls --resource-type model --output path', 'tsdbt ls --output json --output-keys "name resource_type config.materialized"'],
  show: ['tsdbt show --select orders', `tsdbt show --inline "select status, count(*) from {{ ref('orders') }} group by 1" --limit 20`, 'tsdbt show --select orders --output json'],
  debug: ['tsdbt debug', 'tsdbt debug --target prod', 'tsdbt debug --plan build --select orders+'],
  clean: ['tsdbt clean'],
  deps: ['tsdbt deps', 'tsdbt deps --lock'],
  'run-operation': ["tsdbt run-operation grant_select --args '{role: reporter}'", 'tsdbt run-operation dbt_utils.log_info --args "{message: hello}"'],
  clone: ['tsdbt clone --state prod-target/', 'tsdbt clone --state prod-target/ --select marts --full-refresh'],
  init: ['tsdbt init my_project', 'tsdbt init my_project --adapter postgres --host db --user me --dbname warehouse --schema dev --skip-debug', 'tsdbt init my_project --skip-profile-setup'],
  source: ['tsdbt source freshness'],
  'source freshness': ['tsdbt source freshness', 'tsdbt source freshness --select source:shop -o target/fresh.json'],
  docs: ['tsdbt docs generate && tsdbt docs serve'],
  'docs generate': ['tsdbt docs generate', 'tsdbt docs generate --select marts --empty-catalog'],
  'docs serve': ['tsdbt docs serve --port 8080'],
  'docs lineage': ['tsdbt docs lineage --format mermaid'],
  lineage: ['tsdbt lineage --column dim_user.first_session_channel', 'tsdbt lineage --column orders.amount --direction up --output json', 'tsdbt lineage'],
};

/** Adds the examples of {@link HELP_EXAMPLES} under the help of `program`'s commands and sub-commands. */
export function addHelpExamples(program: Command): void {
  const visit = (cmd: Command, path: string) => {
    const lines = HELP_EXAMPLES[path];
    if (lines?.length) cmd.addHelpText('after', `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
    for (const sub of cmd.commands) visit(sub, `${path} ${sub.name()}`);
  };
  for (const cmd of program.commands) visit(cmd, cmd.name());
}
