/**
 * The page: loads a saved network (`./model/model.json`, or `?model=<url>`), then segments each image
 * the user picks or drops. `?backend=webgpu|webgl|wasm` forces a backend; `?maxSide=` sets the size
 * above which images are scaled down.
 */
import './style.css';
import { paletteForClasses } from '@autodeeplab/datasets';
import {
  classPixelCounts,
  colourMask,
  loadNetworkFromUrl,
  overlayMask,
  segmentPixels,
  type LoadedNetwork,
  type PaletteColor,
  type Pixels,
} from '@autodeeplab/model';
import { backendFromAddress, chooseBackend, type PageBackend } from './backends.js';
import { imagePixels } from './image.js';
import { drawPixels, showBackend, showLegend, showNetwork, showState, showTiming } from './view.js';

/** The last segmentation, for scripts and tests (`window.autodeeplab.result`). */
export interface PageResult {
  file: string;
  classIds: Uint8Array;
  height: number;
  width: number;
  backend: PageBackend;
  milliseconds: number;
}

declare global {
  interface Window {
    autodeeplab?: { result: PageResult | null };
  }
}

const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? './model/model.json';
const maxSide = Number(params.get('maxSide') ?? 1024);
const fileInput = document.getElementById('file') as HTMLInputElement;
const opacityInput = document.getElementById('opacity') as HTMLInputElement;
const dropZone = document.getElementById('drop') as HTMLElement;

/** The loaded network and how its classes are drawn: set up once, used for every image. */
interface Segmenter {
  loaded: LoadedNetwork;
  backend: PageBackend;
  names: string[];
  palette: readonly PaletteColor[];
}

let last: { image: Pixels; classIds: Uint8Array } | null = null;

function drawOverlay(palette: readonly PaletteColor[]): void {
  if (!last) return;
  const { image, classIds } = last;
  drawPixels('overlay', overlayMask(image, classIds, palette, Number(opacityInput.value)), image.height, image.width);
}

async function segmentFile(file: File, { loaded, backend, names, palette }: Segmenter): Promise<void> {
  showState('running', `Segmenting ${file.name}…`);
  const image = await imagePixels(file, maxSide);
  const started = performance.now();
  const classIds = await segmentPixels(loaded.network, loaded.preprocessing, image);
  const milliseconds = performance.now() - started;
  last = { image, classIds };
  document.getElementById('result')!.hidden = false;
  drawPixels('input', image.data, image.height, image.width);
  drawPixels('mask', colourMask(classIds, palette, 4), image.height, image.width);
  drawOverlay(palette);
  showLegend(classPixelCounts(classIds, loaded.config.numClasses), names, palette);
  showTiming(milliseconds, image);
  window.autodeeplab = { result: { file: file.name, classIds, height: image.height, width: image.width, backend, milliseconds } };
  showState('done', `Segmented ${file.name}.`);
}

async function start(): Promise<void> {
  window.autodeeplab = { result: null };
  showState('loading', 'Choosing a backend…');
  const choice = await chooseBackend(backendFromAddress(location.search));
  showBackend(choice);
  showState('loading', `Loading the network from ${modelUrl}…`);
  const loaded = await loadNetworkFromUrl(modelUrl);
  loaded.network.eval();
  showNetwork(loaded, modelUrl);
  const names = loaded.classNames ?? Array.from({ length: loaded.config.numClasses }, (_, i) => `class ${i}`);
  const segmenter: Segmenter = { loaded, backend: choice.backend, names, palette: paletteForClasses(names) };
  opacityInput.addEventListener('input', () => drawOverlay(segmenter.palette));

  let busy = Promise.resolve();
  const segment = (file: File | undefined): void => {
    if (!file) return;
    busy = busy.then(() => segmentFile(file, segmenter).catch((error: unknown) => showState('error', (error as Error).message)));
  };
  fileInput.addEventListener('change', () => segment(fileInput.files?.[0]));
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('over');
    segment(event.dataTransfer?.files[0]);
  });
  showState('ready', 'Pick or drop an image.');
}

start().catch((error: unknown) => showState('error', (error as Error).message));
