/**
 * Spacing of the layered lineage layout. Its own file with no imports, so the
 * page (browser code) can use it for the lineage view without pulling in the
 * graph stage.
 */

/**
 * Column and row spacing for `columns` columns of at most `tallest` nodes, so
 * that the drawing fills a screen of the given aspect: tall drawings get wider
 * columns, wide ones taller rows (up to 0.6 of a column). Never below the
 * minimum `columnWidth` (4) and `rowHeight` (1.4). Pure; the page uses it for
 * its lineage (focus) view too.
 */
export function layeredSpacing(
  columns: number,
  tallest: number,
  opts: { columnWidth?: number; rowHeight?: number; aspect?: number } = {},
): { columnWidth: number; rowHeight: number } {
  const aspect = opts.aspect ?? 1.3;
  const baseRow = opts.rowHeight ?? 1.4;
  const columnWidth = Math.max(opts.columnWidth ?? 4, columns > 1 ? (tallest * baseRow * aspect) / (columns - 1) : 0);
  const rowHeight = Math.max(baseRow, Math.min(columnWidth * 0.6, (columnWidth * Math.max(1, columns - 1)) / (Math.max(1, tallest) * aspect)));
  return { columnWidth, rowHeight };
}
