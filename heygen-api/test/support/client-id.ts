import { randomUUID } from 'node:crypto';

/** A fresh client, as heygen-lib names itself: one UUID generated once. */
export const newClientId = (): string => randomUUID();
