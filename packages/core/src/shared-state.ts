/**
 * State that must be one per process even when a package is installed twice (a user's copy and a
 * dependency's copy of the same package, which npm does not always deduplicate): kept on the global
 * object under a registered symbol, so that every copy finds the first one's.
 */
export function sharedAcrossCopies<T>(key: string, create: () => T): T {
  const symbol = Symbol.for(`@autodeeplab/${key}`);
  const global = globalThis as Record<symbol, unknown>;
  if (!(symbol in global)) global[symbol] = create();
  return global[symbol] as T;
}
