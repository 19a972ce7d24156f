/**
 * Packages: `tsdbt deps` and the checks around installed packages. See README.md.
 */
export { runDeps } from './deps.ts';
export type { DepsOptions, DepsResult } from './deps.ts';
export { checkPackagesInstalled, installedPackageNames } from './check-installed.ts';
export { readPackageSpecs, LOCK_FILE, PACKAGES_FILE, DEPENDENCIES_FILE } from './package-spec.ts';
export type { PackageSpec, PackagesFile } from './package-spec.ts';
export { packagesSha1 } from './lock-hash.ts';
export { readLockFile } from './lock-file.ts';
export type { LockEntry } from './resolve.ts';
