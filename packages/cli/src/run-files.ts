/** The layout of a run directory written by `autodeeplab search` / `train` (see README). */
export const RUN_CONFIG_FILE = 'config.yaml';
export const GENOTYPE_FILE = 'genotype.json';
export const GENOTYPES_DIR = 'genotypes';
export const PLOTS_DIR = 'plots';
/** The latest checkpoint (written by @autodeeplab/optim). */
export const CHECKPOINT_DIR = 'checkpoint';
export const METRICS_FILE = 'metrics.jsonl';
/** The trained network, in @autodeeplab/model's saveNetwork format. */
export const NETWORK_DIR = 'network';
export const DECODED_DIR = 'decoded';

export function epochGenotypeFile(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}.json`;
}
