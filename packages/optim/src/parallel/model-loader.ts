import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserInputError } from '@autodeeplab/core';
import type { TrainableModel } from '../types.js';
import type { ModelDescriptor } from './protocol.js';

/** `import()` specifier of a descriptor's module: package names as they are, paths as file URLs. */
function specifierOf(module: string): string {
  if (module.startsWith('file:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (module.startsWith('.')) {
    throw new UserInputError(
      `model descriptor: module '${module}' is relative; ` + 'give a package name or an absolute path (a worker has no importing file to resolve it from)',
    );
  }
  return module;
}

function isClass(value: object): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** Builds a model from its descriptor (in a worker): `new Export(...args)` for a class, else `await Export(...args)`. */
export async function buildFromDescriptor(descriptor: ModelDescriptor): Promise<TrainableModel> {
  const mod = (await import(/* @vite-ignore */ specifierOf(descriptor.module))) as Record<string, unknown>;
  const factory = mod[descriptor.export];
  if (typeof factory !== 'function') {
    throw new UserInputError(`model descriptor: '${descriptor.module}' has no function or class export '${descriptor.export}' (found ${typeof factory})`);
  }
  const args = descriptor.args ?? [];
  const model = (isClass(factory) ? Reflect.construct(factory, args) : await (factory as (...a: unknown[]) => unknown)(...args)) as Partial<TrainableModel>;
  if (typeof model?.forward !== 'function' || typeof model.stateDict !== 'function' || typeof model.train !== 'function') {
    throw new UserInputError(`model descriptor: ${descriptor.module}#${descriptor.export} did not produce a model (forward, stateDict, train expected)`);
  }
  return model as TrainableModel;
}
