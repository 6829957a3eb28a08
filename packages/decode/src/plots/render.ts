import { Resvg } from '@resvg/resvg-js';
import { None, View, parse, type LoggerInterface } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Fonts tried in order: DejaVu Sans is on most Linux machines, Arial/Helvetica elsewhere. resvg
 * walks this list, so the PNG has text wherever any of them is installed.
 */
export const PLOT_FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

/** Shared look: white background, the font above, no chart border. */
export const PLOT_CONFIG = {
  background: 'white',
  font: PLOT_FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

/** Libraries never print: vega-lite's compile warnings are dropped (the specs here are fixed). */
const SILENT: LoggerInterface = {
  level: () => SILENT,
  error: () => SILENT,
  warn: () => SILENT,
  info: () => SILENT,
  debug: () => SILENT,
};

/** Renders a vega-lite spec to an SVG string in Node, headless (no canvas, no browser). */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const { spec: vegaSpec } = compile({ ...spec, config: { ...PLOT_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec, {
    logger: SILENT,
  });
  const view = new View(parse(vegaSpec), { renderer: 'none', logLevel: None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface PngOptions {
  /** Output width in pixels; default twice the SVG's width (sharp on high-density screens). */
  width?: number;
}

/** Rasterises an SVG to PNG bytes with resvg (no browser). */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: options.width !== undefined ? { mode: 'width', value: options.width } : { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, sansSerifFamily: 'DejaVu Sans', defaultFontFamily: 'DejaVu Sans' },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}
