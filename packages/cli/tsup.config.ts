import { packageBuild } from '../../tsup.shared.ts';

// One build for the library entry and the `autodeeplab` bin; the shebang makes dist/cli.js executable
// (harmless at the top of dist/index.js, which Node also accepts).
export default packageBuild({
  entry: ['src/index.ts', 'src/cli.ts'],
  banner: { js: '#!/usr/bin/env node' },
});
