import { packageTests } from '../tools/vitest.shared.ts';

export default packageTests({ timeoutMs: 600_000 });
