import { currentAdapter } from './adapters.js';

/**
 * The environment of a built server (npm run build) a test spawns: nothing of the test process's
 * own but PATH, any free local port, the adapter of the running suite, then `env`.
 */
export function builtServerEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    HTTP_ADAPTER: currentAdapter(),
    ...env,
  };
}
