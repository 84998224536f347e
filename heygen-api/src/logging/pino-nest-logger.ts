import { type LoggerService } from '@nestjs/common';
import { type Logger } from 'pino';

/**
 * Nest's LoggerService written on pino: `new Logger('Context')` anywhere in the app ends up here,
 * as a line with `context`. Nest passes the context as the last extra argument, and an error's
 * stack before it. A message may be a string, an Error, or an object of fields with a `msg`.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    const [stack, ...context] = rest.length >= 2 ? rest : [undefined, ...rest];
    this.write('error', message, context, typeof stack === 'string' ? stack : undefined);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
    stack?: string,
  ): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context = rest.at(-1);
    const fields = {
      ...(typeof context === 'string' && { context }),
      ...(stack !== undefined && { stack }),
    };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'string') this.logger[level](fields, message);
    // A structured line (`logger.debug({ msg, jobId, status })`): its fields, at the top level.
    else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...message });
    } else this.logger[level](fields, String(message));
  }
}
