export { decodeCell, scoreCellEdges, ZERO_OP, type DecodeCellOptions, type EdgeStrength, type ScoredEdge } from './cell.js';
export { viterbi, normalizeBeta, type TrellisShape, type ViterbiResult } from './viterbi.js';
export { decode, type ArchitectureSource, type DecodableConfig, type DecodeOptions } from './decode.js';
// The genotype file's functions live in @autodeeplab/genotype; re-exported where users found them first.
export { readGenotype, writeGenotype, loadGenotype, parseGenotype, genotypeOps, validateGenotypeOps } from '@autodeeplab/genotype';
export type { MatrixLike, VectorLike } from './numeric.js';
export { plotTrellis, type TrellisPlotOptions } from './plots/trellis.js';
export { cellPlotSpec, plotCell, type CellPlotOptions } from './plots/cell.js';
export { plotAlphaHeatmap, type AlphaPlotOptions } from './plots/alpha.js';
export { svgToPng, renderVegaLite, PLOT_FONT, type PngOptions } from './plots/render.js';
export { writePlots, type WritePlotsInput, type WrittenPlots } from './plots/write.js';
