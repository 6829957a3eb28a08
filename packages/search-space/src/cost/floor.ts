import { cellChannels, nodeSize, parseSearchSpaceConfig, type SearchSpaceConfig, type SearchSpaceConfigInput } from '../config.js';
import { planTrellis } from '../supernet.js';
import { countSupernetParameters } from './estimate.js';
import { BYTES } from './footprint.js';

export interface MemoryFloor {
  /** Trainable parameters of the supernet. */
  parameters: number;
  /** Bytes of the parameters and of their gradients. */
  parameterBytes: number;
  /** Bytes of the input batch and of the node outputs a training step keeps (every cell's output). */
  activationBytes: number;
  /** The sum: a training step cannot need less. */
  bytes: number;
}

/** Layers from which each further layer adds the same nodes (every scale reached, prev_prev everywhere). */
const steadyLayers = (config: SearchSpaceConfig) => config.scales.length + 2;

function exactFloor(config: SearchSpaceConfig, input: { height: number; width: number; batch: number }): Omit<MemoryFloor, 'bytes'> {
  const parameters = countSupernetParameters(config).total;
  const { batch, height, width } = input;
  let values = batch * height * width * 3;
  for (const node of planTrellis(config).nodes) values += batch * nodeSize(height, node.scale) * nodeSize(width, node.scale) * cellChannels(config, node.scale);
  return { parameters, parameterBytes: 2 * parameters * BYTES, activationBytes: values * BYTES };
}

/**
 * A lower bound of the memory one training step of the supernet needs, without building it or
 * measuring anything (no backend, milliseconds even for absurd sizes): the parameters and their
 * gradients, the input, and the cell outputs the step keeps. The real peak (see `estimateCost`) is
 * several times higher; a run whose floor exceeds the backend's memory cannot run. Beyond a few
 * layers each layer adds the same, so deep trellises are extrapolated from shallow ones.
 */
export function supernetMemoryFloor(
  configInput: SearchSpaceConfigInput | SearchSpaceConfig,
  input: { height: number; width: number; batch?: number },
): MemoryFloor {
  const config = parseSearchSpaceConfig(configInput);
  const size = { height: input.height, width: input.width, batch: input.batch ?? 1 };
  const steady = steadyLayers(config);
  let floor: Omit<MemoryFloor, 'bytes'>;
  if (config.layers <= 2 * steady) floor = exactFloor(config, size);
  else {
    const base = exactFloor({ ...config, layers: steady }, size);
    const next = exactFloor({ ...config, layers: steady + 1 }, size);
    const extra = config.layers - steady;
    const grow = (key: keyof typeof base) => base[key] + extra * (next[key] - base[key]);
    floor = { parameters: grow('parameters'), parameterBytes: grow('parameterBytes'), activationBytes: grow('activationBytes') };
  }
  return { ...floor, bytes: floor.parameterBytes + floor.activationBytes };
}
