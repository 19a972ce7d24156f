/**
 * Configuration: dbt_project.yml, profiles.yml, properties files, vars and
 * node configs, read as dbt-core 1.x reads them. See README.md.
 */
export * from './types.ts';
export { loadProjectConfig, buildProjectConfig, readProjectFile, PROJECT_FILE } from './project.ts';
export type { LoadProjectOptions } from './project.ts';
export { loadProfile, embeddedTarget, defaultPgliteDir, EMBEDDED_SCHEMA, EMBEDDED_TARGET_NAME } from './profile.ts';
export type { LoadProfileOptions, LoadedProfile, ProfileProject } from './profile.ts';
export { loadRuntimeConfig } from './runtime.ts';
export { checkRequireDbtVersion, dbtVersionSpecs } from './require-dbt-version.ts';
export type { RuntimeConfig, RuntimeOptions } from './runtime.ts';
export {
  KNOWN_CONFIG_KEYS,
  canonicalConfigKey,
  checkConfigTree,
  mergeConfig,
  normalizeConfig,
  resolveNodeConfig,
  suggestConfigKey,
  unusedConfigPaths,
  setConfigLocation,
  getConfigLocation,
} from './node-config.ts';
export type { ConfigLocation } from './node-config.ts';
export { loadProperties, loadPropertiesCollect } from './properties.ts';
export { parseVars, resolveVar, varsFor } from './vars.ts';
export type { ResolveVarOptions } from './vars.ts';
export { renderValue, targetForJinja } from './render.ts';
export { envVar, type EnvVarSite } from './env-var.ts';
export { dbtAdapterType, relationDatabase } from './target-type.ts';
