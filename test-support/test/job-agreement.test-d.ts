// The Job shape is written three times: by the server, by the library and, from
// docs/protocol.md, by the tests' wire type. They must stay one shape (issue 15): checked by
// `npm run typecheck` (this package's tsconfig) and by Vitest's typecheck mode. Each is imported
// from the file that declares it, which imports nothing of its package's runtime.
import { describe, expectTypeOf, it } from 'vitest';
import type {
  Job as ServerJob,
  JobStatus as ServerJobStatus,
} from '../../heygen-api/src/domain/job.js';
import type { Job as LibraryJob, JobStatus as LibraryJobStatus } from '../../heygen-lib/src/job.js';
import type { Job as WireJob, JobStatus as WireJobStatus } from '../src/wire.js';

describe('the Job of docs/protocol.md', () => {
  it('should be the server’s Job', () => {
    expectTypeOf<ServerJob>().toEqualTypeOf<WireJob>();
    expectTypeOf<ServerJobStatus>().toEqualTypeOf<WireJobStatus>();
  });

  it('should be the library’s Job', () => {
    expectTypeOf<LibraryJob>().toEqualTypeOf<WireJob>();
    expectTypeOf<LibraryJobStatus>().toEqualTypeOf<WireJobStatus>();
  });
});
