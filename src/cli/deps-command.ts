/**
 * The `tsdbt deps` command (commander) and the installed-packages check other
 * commands make before they load the project. Registered by src/cli/main.ts
 * with one call to {@link registerDepsCommand}.
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Console } from './console.ts';
import type { CommonFlags } from './pipeline.ts';
import { loadProjectConfig, parseVars } from '../config/index.ts';
import type { ActionWrapper } from './docs-commands.ts';
import { checkPackagesInstalled } from '../deps/check-installed.ts';
import { runDeps } from '../deps/deps.ts';
import { DEPENDENCIES_FILE, LOCK_FILE, PACKAGES_FILE } from '../deps/package-spec.ts';

/** Commands that do not load the project's packages, so are not stopped when they are missing. */
const NO_PACKAGES_NEEDED = new Set(['deps', 'clean', 'debug']);

/**
 * Adds `deps` to `program`, and a preAction hook that stops every other
 * project command with `packages-not-installed` (exit 2, "run tsdbt deps")
 * when the project's packages are not installed — dbt's
 * UninstalledPackagesFoundError. A project without packages.yml,
 * dependencies.yml and package-lock.yml is not checked.
 */
export function registerDepsCommand(program: Command, act: ActionWrapper, out: Console): Command {
  program
    .command('deps')
    .description('install the packages in packages.yml / dependencies.yml into packages-install-path, pinned by package-lock.yml')
    .option('--project-dir <dir>', 'directory holding dbt_project.yml')
    .option('--profiles-dir <dir>', 'accepted for dbt compatibility; deps reads no profile')
    .option('-t, --target <name>', 'accepted for dbt compatibility; deps reads no profile')
    .option('--vars <yaml>', 'variables visible to var() in packages.yml')
    .option('--upgrade', 'resolve the versions again (newest allowed) and rewrite package-lock.yml')
    .option('--lock', 'write package-lock.yml without installing the packages')
    .option('--add-package <name@version>', 'add a package to packages.yml, then install (see --source)')
    .addOption(new Option('--source <source>', 'where --add-package installs from').choices(['hub', 'git', 'local']).default('hub'))
    .option('--debug', 'show stack traces')
    .action(
      act(async (flags) => {
        await runDeps(
          {
            projectDir: flags.projectDir ?? process.cwd(),
            cliVars: flags.vars ? parseVars(flags.vars) : {},
            upgrade: !!flags.upgrade,
            lockOnly: !!flags.lock,
            addPackage: flags.addPackage as string | undefined,
            source: flags.source as 'hub' | 'git' | 'local',
          },
          out,
        );
        return 0;
      }),
    );

  program.hook('preAction', (_program, cmd) => {
    if (NO_PACKAGES_NEEDED.has(cmd.name())) return;
    const flags = cmd.opts() as CommonFlags;
    const dir = resolve(flags.projectDir ?? process.cwd());
    if (![PACKAGES_FILE, DEPENDENCIES_FILE, LOCK_FILE].some((f) => existsSync(join(dir, f)))) return;
    const cliVars = flags.vars ? parseVars(flags.vars) : {};
    let installPath: string;
    try {
      installPath = loadProjectConfig(dir, { vars: cliVars }).packagesInstallPath ?? 'dbt_packages';
    } catch {
      return; // the command itself reports a broken dbt_project.yml
    }
    checkPackagesInstalled(dir, installPath, process.env, cliVars);
  });
  return program;
}
