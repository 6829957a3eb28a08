// Run by `npm pack` / `npm publish` in a package folder: the repository's LICENSE goes into the
// tarball (npm takes a LICENSE file only from the package's own folder).
import { copyFileSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

copyFileSync(fileURLToPath(new URL('../LICENSE', import.meta.url)), 'LICENSE');
