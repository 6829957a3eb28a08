import type { z } from 'zod';
import { FileFormatError } from './errors.js';

/** `a.b[2].c` from a zod issue path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || '(root)';
}

/**
 * Parses `data` with `schema`; on failure throws a FileFormatError naming the file, each offending
 * field, what was expected and what was found.
 */
export function parseWithSchema<S extends z.ZodType>(schema: S, data: unknown, source: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 8).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const more = result.error.issues.length > 8 ? ` (and ${result.error.issues.length - 8} more)` : '';
  throw new FileFormatError(source, `invalid: ${problems.join('; ')}${more}`);
}
