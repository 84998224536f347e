import { vi } from 'vitest';
import { parseConfig, type AppConfig } from '../../src/config/app-config.js';

export const clientStub = '0f8fad5b-d9cb-469f-a165-70867728950e';
export const otherClientStub = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
export const thirdClientStub = '16fd2706-8baf-433b-82eb-8c7fada847da';

export function configStub(env: Record<string, string> = {}): AppConfig {
  return parseConfig({
    JOB_TIME: '1000',
    PROGRESS_INTERVAL_MS: '250',
    RETENTION_MS: '5000',
    ...env,
  });
}

/** A mock whose every unexpected call fails the test; give it the calls you expect. */
export function strictMock<T extends (...args: never[]) => unknown>(name: string) {
  return vi.fn<T>((() => {
    throw new Error(`unexpected call to ${name}`);
  }) as unknown as T);
}
