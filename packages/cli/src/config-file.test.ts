import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseAssignment, readConfigFile, setPath } from './config-file.js';

describe('config files', () => {
  it('reads YAML and JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-cfg-'));
    await writeFile(join(dir, 'a.yaml'), 'searchSpace:\n  layers: 4\n  scales: [4, 8]\n');
    await writeFile(join(dir, 'a.json'), '{"searchSpace": {"layers": 4, "scales": [4, 8]}}');
    const expected = { searchSpace: { layers: 4, scales: [4, 8] } };
    expect(await readConfigFile(join(dir, 'a.yaml'))).toEqual(expected);
    expect(await readConfigFile(join(dir, 'a.json'))).toEqual(expected);
  });

  it('names the file when it is missing or malformed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-cfg-'));
    await expect(readConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml' does not exist/);
    await writeFile(join(dir, 'bad.json'), '{"a": ');
    await expect(readConfigFile(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json: not valid JSON/);
    await writeFile(join(dir, 'bad.yaml'), 'a: [1, 2\n');
    await expect(readConfigFile(join(dir, 'bad.yaml'))).rejects.toThrow(/bad\.yaml: not valid YAML/);
  });

  it('sets nested paths without mutating the input', () => {
    const base = { a: { b: 1 } };
    expect(setPath(base, 'a.c.d', 2)).toEqual({ a: { b: 1, c: { d: 2 } } });
    expect(base).toEqual({ a: { b: 1 } });
    expect(() => setPath(base, 'a.b.c', 1)).toThrow(/'b' is not an object/);
  });

  it('refuses paths through __proto__, constructor or prototype, and leaves Object.prototype alone', () => {
    for (const path of ['__proto__.x', '__proto__', 'a.constructor.prototype.x', 'search.prototype']) {
      expect(() => setPath({ a: {} }, path, 1)).toThrow(/is not a config field/);
    }
    expect(() => applyOverrides({}, {}, ['__proto__={runDir: /elsewhere}'])).toThrow(/'__proto__' is not a config field/);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.getPrototypeOf(applyOverrides({ runDir: 'runs/a' }, {}, []))).toBe(Object.prototype);
  });

  it('reads --set values as YAML scalars and lists', () => {
    expect(parseAssignment('search.epochs=3')).toEqual({ path: 'search.epochs', value: 3 });
    expect(parseAssignment('searchSpace.scales=[4, 8]')).toEqual({ path: 'searchSpace.scales', value: [4, 8] });
    expect(parseAssignment('dataset.root=/data/x')).toEqual({ path: 'dataset.root', value: '/data/x' });
    expect(parseAssignment('a.b=')).toEqual({ path: 'a.b', value: '' });
    expect(() => parseAssignment('nothing')).toThrow(/expected field\.path=value/);
  });

  it('applies flags then --set, skipping undefined flags', () => {
    const out = applyOverrides({ search: { epochs: 40 } }, { 'search.epochs': 2, 'search.batchSize': undefined }, ['search.epochs=3']);
    expect(out).toEqual({ search: { epochs: 3 } });
    expect(() => applyOverrides([1, 2], {})).toThrow(/mapping of fields, found a list/);
  });
});
