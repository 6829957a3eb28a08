import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SearchRunConfigSchema, TrainRunConfigSchema } from './config.js';
import { listConfigFields } from './config-reference.js';

describe('README config reference', () => {
  it('documents every field of the search and train config schemas', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const reference = readme.slice(readme.indexOf('### Reference'), readme.indexOf('## Datasets'));
    const fields = new Set([...listConfigFields(SearchRunConfigSchema), ...listConfigFields(TrainRunConfigSchema)].map((f) => f.path));
    expect(fields.size).toBeGreaterThan(40);
    const missing = [...fields].filter((path) => !reference.includes(`\`${path}\``));
    expect(missing).toEqual([]);
    // …and nothing that is not a field.
    const documented = [...reference.matchAll(/`([a-zA-Z]+(?:\.[a-zA-Z]+)*)`/g)].map((m) => m[1]!).filter((p) => /^[a-z]/.test(p));
    const unknown = documented.filter((p) => !fields.has(p) && !['paper', 'seed'].includes(p));
    expect(unknown).toEqual([]);
  });
});
