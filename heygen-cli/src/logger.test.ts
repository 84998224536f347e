import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(isTTY: boolean, env: Record<string, string> = {}) {
  let text = '';
  const stream = { write: (chunk: string) => (text += chunk), isTTY };
  const log = createLogger({ stream, env, now: () => new Date('2026-11-23T18:00:00.000Z') });
  return { log, text: () => text };
}

describe(createLogger.name, () => {
  it('should write one plain structured line when not on a terminal', () => {
    const { log, text } = capture(false);
    log.log('heygen-cli', 'job created', { id: 3, transport: 'sse', skipped: undefined });
    expect(text()).toBe('2026-11-23T18:00:00.000Z [heygen-cli] job created id=3 transport=sse\n');
  });

  it('should quote values with spaces', () => {
    const { log, text } = capture(false);
    log.error('heygen-api', 'failed', { reason: 'port in use' });
    expect(text()).toContain('reason="port in use"');
  });

  it('should colour on a terminal, and not when NO_COLOR is set', () => {
    const coloured = capture(true);
    coloured.log.log('heygen-lib', 'hello');
    expect(coloured.text()).toContain('\x1b[33m[heygen-lib]\x1b[0m');
    const plain = capture(true, { NO_COLOR: '1' });
    plain.log.log('heygen-lib', 'hello');
    expect(plain.text()).not.toContain('\x1b[');
  });
});
