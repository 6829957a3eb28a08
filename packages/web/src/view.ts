/** What the page shows: the network, the backend, the three images and the legend. */
import type { LoadedNetwork, PaletteColor } from '@autodeeplab/model';
import type { BackendChoice } from './backends.js';

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export type PageState = 'loading' | 'ready' | 'running' | 'done' | 'error';

/** The page's state, also as `data-state` on <body> (what scripts and tests wait for). */
export function showState(state: PageState, message: string): void {
  document.body.dataset.state = state;
  const status = element('status');
  status.textContent = message;
  status.classList.toggle('error', state === 'error');
}

const CSS_COLOUR = (c: PaletteColor): string => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

export function showNetwork(loaded: LoadedNetwork, source: string): void {
  const { config, genotype } = loaded;
  const parameters = loaded.network.parameterCount().toLocaleString('en');
  const name = genotype.name ? ` (genotype ${genotype.name})` : '';
  element('network').textContent =
    `Network ${source}${name}: ${config.numClasses} classes, ${parameters} parameters, L = ${genotype.path.length} cells, F = ${config.filterMultiplier}`;
}

export function showBackend(choice: BackendChoice): void {
  const backend = element('backend');
  backend.dataset.backend = choice.backend;
  const skipped = choice.skipped.map((s) => `${s.backend}: ${s.reason}`);
  backend.textContent = choice.backend + (skipped.length > 0 ? ` (passed over ${skipped.join('; ')})` : '');
}

/** Puts pixels (RGBA) on a canvas of their size. */
export function drawPixels(id: string, data: Uint8Array | Uint8ClampedArray, height: number, width: number): void {
  const canvas = element<HTMLCanvasElement>(id);
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(data), width, height), 0, 0);
}

/** The classes that occur, most pixels first, each with its colour and share of the image. */
export function showLegend(counts: readonly number[], names: readonly string[], palette: readonly PaletteColor[]): void {
  const total = counts.reduce((a, b) => a + b, 0);
  const rows = counts
    .map((count, id) => ({ id, count }))
    .filter((c) => c.count > 0)
    .sort((a, b) => b.count - a.count || a.id - b.id);
  const body = element('legend').querySelector('tbody')!;
  body.replaceChildren(
    ...rows.map(({ id, count }) => {
      const row = document.createElement('tr');
      row.dataset.class = String(id);
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = CSS_COLOUR(palette[id] ?? [0, 0, 0]);
      const cells = [document.createElement('td'), document.createElement('td'), document.createElement('td')];
      cells[0]!.append(swatch, ` ${names[id] ?? `class ${id}`}`);
      cells[1]!.textContent = String(id);
      cells[2]!.textContent = `${((100 * count) / total).toFixed(1)}%`;
      row.append(...cells);
      return row;
    }),
  );
}

export function showTiming(milliseconds: number, image: { height: number; width: number; scaledFrom: { height: number; width: number } | null }): void {
  const timing = element('timing');
  timing.dataset.milliseconds = milliseconds.toFixed(1);
  const size = `${image.width}×${image.height}`;
  const scaled = image.scaledFrom ? ` (scaled down from ${image.scaledFrom.width}×${image.scaledFrom.height})` : '';
  timing.textContent = `${milliseconds.toFixed(0)} ms for ${size}${scaled}: forward, argmax and reading the mask back`;
}
