import { packageBuild } from '../../tsup.shared.ts';

// Two entries: Node's (index) and a web page's (browser: no Node built-ins; the `browser` export condition).
export default packageBuild({ entry: ['src/index.ts', 'src/browser.ts'] });
