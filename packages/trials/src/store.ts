import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { UserInputError, makeDirectory } from '@autodeeplab/core';

/** Creates the store if needed and checks this process may write there (exit 2 naming it otherwise). */
export async function assertWritableStore(store: string): Promise<void> {
  try {
    await makeDirectory(store);
    await access(store, constants.W_OK);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    throw new UserInputError(`--store ${store}: not a writable directory (${code || (error as Error).message}); give a directory every worker can write`, {
      cause: error,
    });
  }
}
