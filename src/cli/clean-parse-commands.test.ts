import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanPaths } from './clean-parse-commands.ts';
import type { ProjectConfig } from '../config/types.ts';

const project = (cleanTargets: string[]) =>
  ({
    root: '/work/p',
    cleanTargets,
    modelPaths: ['models'],
    seedPaths: ['seeds'],
    snapshotPaths: ['snapshots'],
    analysisPaths: ['analyses'],
    macroPaths: ['macros'],
    testPaths: ['tests'],
    docsPaths: ['models'],
  }) as unknown as ProjectConfig;

describe('cleanPaths (dbt CleanTask)', () => {
  it('resolves clean-targets inside the project', () => {
    assert.deepEqual(cleanPaths(project(['target', 'dbt_packages', 'target']), { projectFilesOnly: true }), ['/work/p/target', '/work/p/dbt_packages']);
  });
  it('refuses a source path or the project itself', () => {
    assert.throws(() => cleanPaths(project(['target', 'models/']), { projectFilesOnly: true }), /will not clean these source paths: models/);
    assert.throws(() => cleanPaths(project(['.']), { projectFilesOnly: false }), /will not clean these source paths: \./);
  });
  it('refuses a path outside the project unless projectFilesOnly is false', () => {
    assert.throws(() => cleanPaths(project(['../elsewhere']), { projectFilesOnly: true }), /outside the project: \/work\/elsewhere/);
    assert.deepEqual(cleanPaths(project(['../elsewhere']), { projectFilesOnly: false }), ['/work/elsewhere']);
  });
});
