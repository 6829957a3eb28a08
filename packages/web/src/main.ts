/**
 * The page: loads a saved network (`./model/model.json`, or `?model=<url>`), then segments each image
 * the user picks or drops. `?backend=webgpu|webgl|wasm` forces a backend; `?maxSide=` sets the size
 * above which images are scaled down.
 */
import './style.css';
import { paletteForClasses } from '@autodeeplab/datasets';
import { classPixelCounts, colourMask, loadNetworkFromUrl, overlayMask, segmentPixels, type LoadedNetwork } from '@autodeeplab/model';
import { backendFromAddress, chooseBackend, type PageBackend } from './backends.js';
import { imagePixels, type DecodedImage } from './image.js';
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

let last: { image: DecodedImage; classIds: Uint8Array } | null = null;

function drawOverlay(palette: ReturnType<typeof paletteForClasses>): void {
  if (!last) return;
  const { image, classIds } = last;
  drawPixels('overlay', overlayMask(image, classIds, palette, Number(opacityInput.value)), image.height, image.width);
}

async function segmentFile(file: File, loaded: LoadedNetwork, backend: PageBackend): Promise<void> {
  const names = loaded.classNames ?? Array.from({ length: loaded.config.numClasses }, (_, i) => `class ${i}`);
  const palette = paletteForClasses(names);
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
  opacityInput.oninput = () => drawOverlay(palette);
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

  let busy = Promise.resolve();
  const segment = (file: File | undefined): void => {
    if (!file) return;
    busy = busy.then(() => segmentFile(file, loaded, choice.backend).catch((error: unknown) => showState('error', (error as Error).message)));
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
