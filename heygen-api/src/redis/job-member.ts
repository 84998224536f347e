import { type ClientKey } from '../domain/client.js';

/**
 * A job of the deployment-wide sorted sets (`heygen:pending`, `heygen:unwatched`): `<id>@<client>`.
 * The id comes first and has no `@`, so the split is unambiguous. Lua scripts build it alike.
 */
export const jobMember = (clientId: ClientKey, id: number): string => `${id}@${clientId}`;

/** The client and the id of a jobMember. */
export function parseJobMember(member: string): { clientId: ClientKey; id: number } {
  const at = member.indexOf('@');
  return { id: Number(member.slice(0, at)), clientId: member.slice(at + 1) };
}
