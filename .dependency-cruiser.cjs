/**
 * The import boundaries of src/ (STYLE.md, "Compile stays pure"), checked by `npm run lint:deps` in CI.
 * TypeScript 7 has no compiler API, so dependency-cruiser reads the .ts files with swc (@swc/core).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pure-stages-no-database',
      comment:
        'config/, parse/ and graph/ are pure (no database): they must not import pg, pg-copy-streams, PGlite or src/adapters/. ' +
        'Pass plain data in, or put the database work in adapters/ and call it from a later stage.',
      severity: 'error',
      from: { path: '^src/(config|parse|graph)/' },
      to: {
        path: ['^src/adapters/', '(^|/)node_modules/(pg|pg-copy-streams|@electric-sql/pglite)/', '^(pg|pg-copy-streams|@electric-sql/pglite)$'],
      },
    },
    {
      name: 'no-folder-cycles',
      comment:
        'The folders of src/ form no import cycle: a stage imports earlier stages, never a later one. ' +
        'Move the shared code into the lower folder (or a small shared module) instead.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Tests and benchmarks may reach across stages (a test of macros compiles a project); production code may not.
    exclude: { path: ['^src/docs/app/', '\\.test\\.ts$', '\\.bench\\.ts$', '^src/graph/fixtures\\.ts$'] },
    parser: 'swc',
    tsPreCompilationDeps: true,
    moduleSystems: ['es6'],
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
