/** The parts of the system that log; each gets its own coloured tag. */
export type Component = 'heygen-cli' | 'heygen-api' | 'heygen-lib';

const TAG_COLOURS: Record<Component, number> = {
  'heygen-cli': 36,
  'heygen-api': 35,
  'heygen-lib': 33,
};

export interface Logger {
  /** One line: time, component tag, message, then `key=value` fields. */
  log(component: Component, message: string, fields?: Record<string, unknown>): void;
  error(component: Component, message: string, fields?: Record<string, unknown>): void;
}

/** Where text goes: process.stdout, process.stderr, or the live display in front of them. */
export interface TextOutput {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  /** A terminal's width, in characters. */
  columns?: number | undefined;
}

export interface LoggerOptions {
  stream: TextOutput;
  env: Record<string, string | undefined>;
  now?: () => Date;
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour({ stream, env }: LoggerOptions): boolean {
  return Boolean(stream.isTTY) && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

function formatValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

export function createLogger(options: LoggerOptions): Logger {
  const colour = useColour(options);
  const now = options.now ?? (() => new Date());
  const paint = (code: number, text: string): string =>
    colour ? `\x1b[${code}m${text}\x1b[0m` : text;

  const write = (
    component: Component,
    message: string,
    fields: Record<string, unknown>,
    isError: boolean,
  ) => {
    const parts = [
      paint(90, now().toISOString()),
      paint(TAG_COLOURS[component], `[${component}]`),
      isError ? paint(31, message) : message,
      ...Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => paint(90, `${key}=`) + formatValue(value)),
    ];
    options.stream.write(`${parts.join(' ')}\n`);
  };
  return {
    log: (component, message, fields = {}) => write(component, message, fields, false),
    error: (component, message, fields = {}) => write(component, message, fields, true),
  };
}
