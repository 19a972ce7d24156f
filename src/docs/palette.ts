/**
 * Colours and shapes of resource types, shared by the page (src/docs/app)
 * and the text outputs (mermaid, dot) so they agree. Pure data: imported by
 * browser code too.
 */

/** The resource types drawn in the lineage (tests are shown on their models, never as nodes). */
export type LineageResourceType = 'source' | 'seed' | 'model' | 'snapshot' | 'analysis' | 'exposure' | 'semantic_model' | 'metric' | 'saved_query';

/** Fill colour per resource type (CSS hex). Sources and seeds differ from models at a glance. */
export const TYPE_COLORS: Readonly<Record<LineageResourceType, string>> = {
  source: '#d9822b',
  seed: '#2e9e5b',
  model: '#2f6fdf',
  snapshot: '#8e5bd6',
  analysis: '#7a8699',
  exposure: '#c2417a',
  // The semantic layer (parsed, never executed): warm tones apart from the inputs' orange.
  semantic_model: '#b8860b',
  metric: '#a83a3a',
  saved_query: '#4b5563',
};

/** Human names for the legend. */
export const TYPE_LABELS: Readonly<Record<LineageResourceType, string>> = {
  source: 'source',
  seed: 'seed',
  model: 'model',
  snapshot: 'snapshot',
  analysis: 'analysis',
  exposure: 'exposure',
  semantic_model: 'semantic model',
  metric: 'metric',
  saved_query: 'saved query',
};

/** Order of types in legends and listings: inputs first. */
export const TYPE_ORDER: readonly LineageResourceType[] = ['source', 'seed', 'model', 'snapshot', 'analysis', 'semantic_model', 'metric', 'saved_query', 'exposure'];

/** Colour of a test / node status (run_results.json statuses). */
export const STATUS_COLORS: Readonly<Record<string, string>> = {
  pass: '#2e9e5b',
  success: '#2e9e5b',
  warn: '#c98a00',
  fail: '#d64545',
  error: '#d64545',
  skipped: '#7a8699',
  'runtime error': '#d64545',
};

/**
 * Shapes the page draws (WebGL, src/docs/app/shapes.ts) and the legend shows (SVG).
 * `circle`, `ring` (hollow), `square` and regular polygons (`triangle` … `octagon`, a vertex on top).
 */
export type NodeShape = 'circle' | 'ring' | 'square' | 'triangle' | 'diamond' | 'pentagon' | 'hexagon' | 'octagon';

/** Sides of each polygon shape, or 0 (circle), 1 (square), 2 (ring): the shader's shape code. */
export const SHAPE_CODES: Readonly<Record<NodeShape, number>> = {
  circle: 0,
  square: 1,
  ring: 2,
  triangle: 3,
  diamond: 4,
  pentagon: 5,
  hexagon: 6,
  octagon: 8,
};

/** What the page draws besides lineage nodes: tests (in a lineage view), folders and packages (aggregated boxes). */
export type DrawnKind = LineageResourceType | 'test' | 'folder' | 'package';

/** Shape per kind: inputs angular (sources diamonds, seeds squares), models round, aggregates large squares / octagons. */
export const KIND_SHAPES: Readonly<Record<DrawnKind, NodeShape>> = {
  source: 'diamond',
  seed: 'square',
  model: 'circle',
  snapshot: 'pentagon',
  analysis: 'ring',
  exposure: 'hexagon',
  // Semantic layer: reuses shapes of other kinds, told apart by colour (hexagon as exposures: consumers of models).
  semantic_model: 'hexagon',
  metric: 'octagon',
  saved_query: 'ring',
  test: 'triangle',
  folder: 'square',
  package: 'octagon',
};

/** Colour per kind (lineage types as {@link TYPE_COLORS}). */
export const KIND_COLORS: Readonly<Record<DrawnKind, string>> = {
  ...TYPE_COLORS,
  test: '#0e9aa7',
  folder: '#5b6b82',
  package: '#0f766e',
};

/** Legend order and wording. */
export const KIND_ORDER: readonly DrawnKind[] = ['source', 'seed', 'model', 'snapshot', 'analysis', 'semantic_model', 'metric', 'saved_query', 'exposure', 'test', 'folder', 'package'];
export const KIND_LABELS: Readonly<Record<DrawnKind, string>> = {
  ...TYPE_LABELS,
  test: 'test',
  folder: 'folder',
  package: 'package',
};
