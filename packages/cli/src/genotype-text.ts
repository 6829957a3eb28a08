import type { Genotype } from '@autodeeplab/genotype';
import { formatTable } from './format.js';

/** A genotype for people: the path and the cell's blocks. */
export function genotypeText(genotype: Genotype): string {
  const lines: string[] = [];
  if (genotype.name) lines.push(`genotype: ${genotype.name}`);
  const probability = genotype.pathProbability !== undefined ? ` (probability ${genotype.pathProbability.toPrecision(3)})` : '';
  lines.push(`path (downsample rate per layer): ${genotype.path.join(' ')}${probability}`);
  lines.push('cell:');
  const table = formatTable([
    ['block', 'branch 1', 'branch 2'],
    ...genotype.cell.map((block, b) => [`B${b + 1}`, `${block[0].op} (${block[0].input})`, `${block[1].op} (${block[1].input})`]),
  ]);
  lines.push(
    ...table
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`),
  );
  return `${lines.join('\n')}\n`;
}
