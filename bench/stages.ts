/**
 * `node --import tsx bench/stages.ts <project-dir>`: the `tsdbt compile`
 * pipeline run in-process, stage by stage, printing one JSON line of
 * milliseconds (wall) per stage. Used by bench/run.ts to show where the time
 * goes; the stages are the ones src/cli/pipeline.ts runs (no database: no
 * model in the bench projects is incremental), including the SQL check
 * (`sql parse`: libpg-query over every compiled node) and `column lineage`.
 */
const t0 = performance.now();
const { loadProjectConfig, loadProfile } = await import('../src/config/index.ts');
const { parseProject } = await import('../src/parse/parse-project.ts');
const { buildGraph, assertAcyclic, selectNodes } = await import('../src/graph/index.ts');
const { compileNodes } = await import('../src/compile/compile.ts');
const { writeCompiledFiles } = await import('../src/compile/write-compiled.ts');
const { writeManifest } = await import('../src/artifacts/index.ts');
const { join, resolve } = await import('node:path');
const { loadSqlParser, warmSqlParser, validateCompiled, projectColumnLineage } = await import('../src/sql/index.ts');

const stages: Record<string, number> = { imports: performance.now() - t0 };
const cpuStages: Record<string, number> = {};
let t = performance.now();
let c = process.cpuUsage();
const lap = (name: string) => {
  const now = performance.now();
  stages[name] = now - t;
  t = now;
  const cu = process.cpuUsage(c);
  cpuStages[name] = (cu.user + cu.system) / 1000;
  c = process.cpuUsage();
};

// STAGES_WARM=1: the WASM parser loaded and warmed (src/sql/parser.ts warmSqlParser) before the project parse.
if (process.env.STAGES_WARM === '1') await warmSqlParser();
lap('warm sql parser');
const dir = resolve(process.argv[2] ?? '.');
const project = loadProjectConfig(dir, { vars: {} });
const { target } = loadProfile(project, { profilesDir: dir });
lap('config');
const parsed = parseProject({ project, target, cliVars: {}, invocationId: 'bench' });
lap('parse');
const graph = buildGraph(parsed.manifest);
assertAcyclic(parsed.manifest, graph);
lap('graph'); // parent/child maps: filled by writeManifest, as in src/cli/pipeline.ts
writeManifest(join(project.root, project.targetPath), parsed.manifest);
lap('manifest.json');
const sel = selectNodes(parsed.manifest, graph, { resourceTypes: ['model', 'test', 'analysis', 'snapshot'] });
const ids = Array.isArray(sel) ? sel : (sel as { selected: string[] }).selected;
lap('select');
const compiled = compileNodes({ project, parsed, target, cliVars: {}, invocationId: 'bench', fullRefresh: false, relations: new Map() }, ids);
lap('compile');
// issue 15: every compiled statement parsed with PostgreSQL's parser (libpg-query), then column lineage.
await loadSqlParser();
const checked = validateCompiled(parsed.manifest, compiled.values(), parsed.jinja.macroDefinitions());
if (checked.errors.length) throw checked.errors[0];
lap('sql parse');
projectColumnLineage(parsed.manifest, checked.trees, project.root);
lap('column lineage');
const written = writeCompiledFiles(project.root, compiled.values());
lap('write compiled');
stages.total = performance.now() - t0;
const usage = process.resourceUsage();
const rss = usage.maxRSS / 1024;
stages.cpu = (usage.userCPUTime + usage.systemCPUTime) / 1000;
console.log(JSON.stringify({ stages, cpuStages, rss, nodes: compiled.size, written, partialParse: parsed.partialParse }));
