import { packageTests } from '../vitest.shared.ts';

export default packageTests({ timeoutMs: 600_000 });
