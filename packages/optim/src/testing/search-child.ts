/**
 * Child process of the SIGKILL test: runs the fixture search (slowly) in the run directory given
 * as argv[2] and prints every event as a JSON line on stdout.
 */
import { initBackend } from '@autodeeplab/core';
import { search } from '../search.js';
import { killFixture } from './kill-fixture.js';

const runDir = process.argv[2];
if (!runDir) throw new Error('usage: search-child.ts <runDir>');
await initBackend({ backend: 'cpu' });
const { model, data, config } = killFixture(150);
for await (const event of search({ model, data, config, runDir })) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}
