import {
  destination as fileDestination,
  pino,
  stdTimeFunctions,
  type DestinationStream,
  type Logger,
} from 'pino';
import { PinoPretty } from 'pino-pretty';
import { type LogFormat, type LogLevel } from '../config/app-config.js';

export interface RootLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go: standard output unless a test collects them. */
  destination?: DestinationStream;
}

/**
 * The process's one pino logger (issue 13): Nest's own messages, the request log and the job
 * transitions are its children. JSON lines by default, for log collectors; `pretty` is
 * pino-pretty in this process (not a worker thread). Either way a line is written when it is
 * logged, not later, so none is lost when the process ends.
 */
export function createRootLogger({ level, format, destination }: RootLoggerOptions): Logger {
  const options = {
    level,
    base: { service: 'heygen-api', pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    // `"level":"warn"`, not pino's number: what log collectors and people read without a table.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (format === 'pretty') {
    return pino(
      options,
      PinoPretty({
        colorize: destination === undefined && process.stdout.isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'service,pid,hostname',
        destination: destination ?? 1,
        sync: true,
      }),
    );
  }
  // Written synchronously: Nest stops on SIGTERM by raising the signal again once closed, which
  // ends the process without an 'exit' event, so lines pino still buffered would be lost.
  return pino(options, destination ?? fileDestination({ dest: 1, sync: true }));
}
