import { DomainError } from '../../src/errors/domain-error.js';

/** The code of the DomainError that `run` throws, undefined when it throws none. */
export const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof DomainError ? error.code : 'not a DomainError';
  }
};
