import { readdirSync, readFileSync } from 'node:fs';

/** Open file descriptors of a process: the entries of /proc/<pid>/fd (Linux). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * The soft open-files limit of a process, from /proc/<pid>/limits: what a process may hold before
 * `accept` and `connect` fail with EMFILE. A child inherits its parent's.
 */
export function openFilesLimit(pid: number | 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  if (soft === undefined) throw new Error(`no open-files limit for ${pid}`);
  return soft === 'unlimited' ? Infinity : Number(soft);
}
