/**
 * Reporters: JUnit XML, GitHub Actions annotations, and the console table of
 * failing rows. Pure functions of a run's results (plus one file write).
 */
export { type ReportedResult } from './reported-result.ts';
export { junitXml, writeJunit, xmlText, xmlAttr, type JunitOptions } from './junit.ts';
export { githubAnnotations, escapeData, escapeProperty } from './github-annotations.ts';
export { formatFailingRows } from './failing-rows.ts';
