import { absoluteUrl, disposeCheckpoint, loadCheckpointFromUrl } from '@autodeeplab/core';
import { networkFromCheckpoint, type LoadedNetwork } from './network-file.js';

export interface LoadNetworkFromUrlOptions {
  /** Variable name prefix, as for `loadNetwork`. */
  name?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * Loads a network saved by `saveNetwork` from the URL of its `model.json` (the weights file is fetched
 * from beside it): the way a web page loads one, with the same checks as `loadNetwork` on a directory.
 * A relative URL resolves against the page's address.
 */
export async function loadNetworkFromUrl(manifestUrl: string | URL, options: LoadNetworkFromUrlOptions = {}): Promise<LoadedNetwork> {
  const checkpoint = await loadCheckpointFromUrl(manifestUrl, options.fetch ? { fetch: options.fetch } : {});
  try {
    const manifest = absoluteUrl(manifestUrl);
    const sources = { manifest: manifest.href, genotype: `${manifest.href} (metadata.genotype)`, networkFile: `${manifest.href} (metadata.network)` };
    return networkFromCheckpoint(checkpoint, sources, options.name === undefined ? {} : { name: options.name });
  } finally {
    disposeCheckpoint(checkpoint);
  }
}
