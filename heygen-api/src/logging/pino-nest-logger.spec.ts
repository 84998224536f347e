import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PinoNestLogger } from './pino-nest-logger.js';
import { createRootLogger } from './root-logger.js';

/** A Nest logger on pino whose JSON lines are collected, at `level`. */
function collected(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = new PinoNestLogger(createRootLogger({ level, format: 'json', destination }));
  return { logger, lines };
}

describe('PinoNestLogger', () => {
  it('should write Nest messages as JSON lines with their context and level name', () => {
    const { logger, lines } = collected();

    logger.log('started', 'NestApplication');
    logger.warn('slow', 'Runner');

    expect(lines).toMatchObject([
      { level: 'info', msg: 'started', context: 'NestApplication', service: 'heygen-api' },
      { level: 'warn', msg: 'slow', context: 'Runner' },
    ]);
    expect(typeof lines[0]!.time).toBe('string');
  });

  it("should keep an error's stack and its context apart", () => {
    const { logger, lines } = collected();

    logger.error('failed', 'Error: boom\n    at x', 'Jobs');
    logger.error('failed alone', 'Jobs');

    expect(lines).toMatchObject([
      { level: 'error', msg: 'failed', stack: 'Error: boom\n    at x', context: 'Jobs' },
      { level: 'error', msg: 'failed alone', context: 'Jobs' },
    ]);
    expect(lines[1]).not.toHaveProperty('stack');
  });

  it('should spread a structured message and drop what is below the level', () => {
    const { logger, lines } = collected('info');

    logger.debug({ msg: 'job moved', jobId: 7 }, 'Jobs');
    logger.log({ msg: 'job moved', jobId: 7, status: 'running' }, 'Jobs');
    logger.log(new Error('as a message'), 'Jobs');

    expect(lines).toMatchObject([
      { level: 'info', msg: 'job moved', jobId: 7, status: 'running', context: 'Jobs' },
      { level: 'info', msg: 'as a message', err: { message: 'as a message' } },
    ]);
  });
});
