/**
 * dbt's Jinja for tsdbt, on nunjucks. See README.md in this folder.
 */
export { JinjaEnv, type JinjaEnvOptions, type JinjaRenderOptions, type MacroDefinition } from './jinja-env.ts';
export { extractDocBlocks, extractSnapshotBlocks, findTopLevelBlocks, type DocBlock, type SnapshotBlock, type TopLevelBlock, type MacroArgumentSpec } from './blocks.ts';
export { splitArgs, toNunjucksArgs, readParams, isKeywordArgs } from './args.ts';
export { type RenderedSnapshot } from './compile.ts';
export { pyStr, pyRepr, truthy, PY_MAPPING, tsTuple } from './python.ts';
export { pyJson } from './json.ts';
export { PyDate, PyDateTime, PyTimedelta, datetimeFromDate } from './datetime.ts';
