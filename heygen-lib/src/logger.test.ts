import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe(createLogger.name, () => {
  it('should print timestamped, prefixed lines when enabled', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    createLogger(true)('hello');
    expect(log).toHaveBeenCalledWith(
      expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[heygen\] hello$/),
    );
  });

  it('should print nothing by default', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    createLogger(undefined)('hello');
    expect(log).not.toHaveBeenCalled();
  });

  it('should hand each message to a function instead of the console', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const sink = vi.fn();
    createLogger(sink)('hello');
    expect(sink).toHaveBeenCalledExactlyOnceWith('hello');
    expect(log).not.toHaveBeenCalled();
  });
});
