import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface BundleEntry {
  /** What a user writes: `import { HeyGenAPI } from 'heygen-lib'` and which build it resolves to. */
  name: string;
  /** Bundled by esbuild with everything it imports, minified and gzipped (size-limit's figure). */
  bytes: number;
  /** The budget in heygen-lib/package.json's `size-limit` section, where it has one. */
  limitBytes?: number;
}

export interface BundleSizeResult {
  entries: BundleEntry[];
}

const LIB = fileURLToPath(new URL('../../../heygen-lib/', import.meta.url));
const SIZE_LIMIT = fileURLToPath(new URL('../../../node_modules/.bin/size-limit', import.meta.url));

/**
 * Scenario 4: what each entry of the built library costs a user, as the ecosystem measures it
 * (size-limit with its esbuild plugin, the entries and budgets of heygen-lib/package.json).
 */
export async function runBundleSize(): Promise<BundleSizeResult> {
  // size-limit exits 1 when an entry is over its budget; the figures are printed all the same.
  const { stdout } = await promisify(execFile)(SIZE_LIMIT, ['--json'], { cwd: LIB }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '[]' }),
  );
  const checks = JSON.parse(stdout) as { name: string; size: number; sizeLimit?: number }[];
  return {
    entries: checks.map(({ name, size, sizeLimit }) => ({
      name,
      bytes: size,
      ...(sizeLimit !== undefined && { limitBytes: sizeLimit }),
    })),
  };
}
