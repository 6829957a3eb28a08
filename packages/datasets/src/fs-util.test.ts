import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { printableFileName, sortedEntries } from './fs-util.js';
import { openDataset } from './spec.js';
import { makeTempDir } from './test-helpers.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

/** `images/` with `a.png` and a file whose name has the bytes 0xff 0xfe (not UTF-8), made by a Buffer path. */
function folderWithOddName(root: string): string {
  mkdirSync(join(root, 'images'), { recursive: true });
  mkdirSync(join(root, 'masks'), { recursive: true });
  writeFileSync(join(root, 'classes.json'), JSON.stringify({ classes: ['background', 'cat'] }));
  writeFileSync(join(root, 'images', 'a.png'), 'x');
  writeFileSync(join(root, 'masks', 'a.png'), 'x');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/images/img-`), Buffer.from([0xff, 0xfe]), Buffer.from('.png')]), 'x');
  return join(root, 'images');
}

describe('printableFileName', () => {
  it('keeps valid UTF-8 (accents, CJK, emoji) and escapes other bytes and control characters', () => {
    expect(printableFileName(Buffer.from('café 街 😀.png'))).toBe('café 街 😀.png');
    expect(printableFileName(Buffer.from([0x61, 0xff, 0xfe, 0x62]))).toBe('a\\xff\\xfeb');
    // A lone continuation byte, a truncated 3-byte sequence, an overlong "/" (0xc0 0xaf) and ESC.
    expect(printableFileName(Buffer.from([0x80, 0xe2, 0x82, 0xc0, 0xaf, 0x1b]))).toBe('\\x80\\xe2\\x82\\xc0\\xaf\\x1b');
  });
});

describe('file names that are not UTF-8', () => {
  it('sortedEntries refuses one, naming the real file with its bytes escaped', () => {
    const dir = folderWithOddName(join(tmp.dir, 'listing'));
    expect(() => sortedEntries(dir)).toThrow(`${dir}/img-\\xff\\xfe.png: the file name is not valid UTF-8, so it cannot be read by name; rename it`);
  });

  it('a folder dataset with one says which file (not a mangled "images/img-\uFFFD\uFFFD.jpg does not exist")', () => {
    const root = join(tmp.dir, 'folder');
    folderWithOddName(root);
    expect(() => openDataset({ kind: 'folder', root })).toThrow(`${root}/images/img-\\xff\\xfe.png: the file name is not valid UTF-8`);
  });
});
