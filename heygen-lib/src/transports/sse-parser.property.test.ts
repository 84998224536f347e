import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { propertyParameters } from 'heygen-test-support/property';
import { SSEError } from '../errors/sse-error.js';
import { createParser, MAX_EVENT_SIZE } from './sse-parser.js';

// Property-based tests of the SSE parser (issue 13): how a stream is cut into chunks must never
// change what it means, and no input may break the parser with anything but its own SSEError.

type Dispatched = [type: string, data: string, id: string];

/** One block of a generated stream: an event's fields, in the order a server may write them. */
interface Block {
  comments: string[];
  id: string | undefined;
  event: string | undefined;
  /** The `data:` lines; none means nothing is dispatched (the id still counts). */
  data: string[];
  /** An ignored field (`retry:`, or an unknown name) the parser must skip. */
  ignored: boolean;
}

/** A field's value: any text but a line break, NULL included (an id with NULL is ignored). */
const value = fc
  .array(fc.oneof(fc.constantFrom(' ', ':', '\0', 'é', '😀'), fc.string({ unit: 'binary' })), {
    maxLength: 4,
  })
  .map((parts) => parts.join('').replace(/[\r\n]/g, ''));

const block: fc.Arbitrary<Block> = fc.record({
  comments: fc.array(value, { maxLength: 2 }),
  id: fc.option(value, { nil: undefined }),
  event: fc.option(value, { nil: undefined }),
  data: fc.array(value, { maxLength: 3 }),
  ignored: fc.boolean(),
});

/** `field: value`, or `field:value` when that means the same (the value has no leading space). */
const field = (name: string, text: string, tight: boolean): string =>
  tight && !text.startsWith(' ') ? `${name}:${text}` : `${name}: ${text}`;

/** The lines of a block, ending with the blank line that dispatches it. */
const blockLines = ({ comments, id, event, data, ignored }: Block, tight: boolean): string[] => [
  ...comments.map((text) => `:${text}`),
  ...(ignored ? ['retry: 100', field('foo', 'bar', tight)] : []),
  ...(id === undefined ? [] : [field('id', id, tight)]),
  ...(event === undefined ? [] : [field('event', event, tight)]),
  // A bare `data` (no colon) is a data line with an empty value.
  ...data.map((text) => (text === '' && tight ? 'data' : field('data', text, tight))),
  '',
];

/** What the spec says a stream of these blocks dispatches: the oracle. */
const expectedEvents = (blocks: Block[]): Dispatched[] => {
  let lastId = '';
  const events: Dispatched[] = [];
  for (const { id, event, data } of blocks) {
    if (id !== undefined && !id.includes('\0')) lastId = id;
    if (data.length) events.push([event || 'message', data.join('\n'), lastId]);
  }
  return events;
};

const END = ['\r\n', '\n', '\r'] as const;

/** A valid stream: its blocks, and the text with every line ended by CR LF, LF or CR at random. */
const stream = fc
  .record({
    blocks: fc.array(block, { maxLength: 6 }),
    tight: fc.boolean(),
    ends: fc.array(fc.constantFrom(...END), { minLength: 1, maxLength: 40 }),
  })
  .map(({ blocks, tight, ends }) => {
    const lines = blocks.flatMap((b) => blockLines(b, tight));
    let text = '';
    lines.forEach((line, i) => {
      let end: string = ends[i % ends.length]!;
      // A CR, then an empty line ended by LF, is one CR LF: the blank line would vanish.
      if (text.endsWith('\r') && line === '' && end === '\n') end = '\r\n';
      text += line + end;
    });
    return { blocks, text };
  });

/**
 * Cut points in a text of any length: positions as fractions, and 0, 1 or 2 cuts right after each
 * CR (two leave an empty chunk between a CR and what follows it).
 */
const cuts = fc.record({
  at: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
  afterEachCr: fc.nat({ max: 2 }),
});

/** `text` cut at those points; `keepEmpty` keeps the empty chunks that repeated cuts make. */
const split = (
  text: string,
  { at, afterEachCr }: { at: number[]; afterEachCr: number },
  keepEmpty: boolean,
): string[] => {
  const points = at.map((f) => Math.floor(f * text.length));
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\r') for (let n = 0; n < afterEachCr; n++) points.push(i + 1);
  }
  points.sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const point of [...points, text.length]) {
    const chunk = text.slice(from, point);
    if (keepEmpty || chunk) chunks.push(chunk);
    from = point;
  }
  return chunks;
};

const parseChunks = (chunks: string[]): Dispatched[] => {
  const events: Dispatched[] = [];
  const parse = createParser((type, data, id) => events.push([type, data, id]));
  chunks.forEach(parse);
  return events;
};

/** Feeds chunks and tells what was thrown, if anything; events must be strings throughout. */
const thrownBy = (chunks: string[]): unknown => {
  const parse = createParser((type, data, id) => {
    if (typeof type !== 'string' || typeof data !== 'string' || typeof id !== 'string') {
      throw new TypeError('An event field that is not a string');
    }
  });
  try {
    chunks.forEach(parse);
  } catch (error) {
    return error;
  }
  return undefined;
};

/** Text with the characters that matter to the parser, and now and then a line past the limit. */
const anyChunk = fc.oneof(
  { weight: 20, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 20,
    arbitrary: fc.constantFrom('\r', '\n', '\r\n', ':', ' ', 'data:', 'id:\0', 'event'),
  },
  { weight: 1, arbitrary: fc.constant('x'.repeat(MAX_EVENT_SIZE + 1)) },
  { weight: 1, arbitrary: fc.constant(`data: ${'x'.repeat(MAX_EVENT_SIZE / 4)}\n`) },
);

describe(`${createParser.name} (properties)`, () => {
  it('should dispatch what the spec says, however a valid stream is cut into chunks', () => {
    fc.assert(
      fc.property(stream, cuts, ({ blocks, text }, at) => {
        const whole = parseChunks([text]);
        expect(whole).toEqual(expectedEvents(blocks));
        expect(parseChunks(split(text, at, false))).toEqual(whole);
      }),
      propertyParameters(),
    );
  });

  // Found by this property (issue 13): an empty chunk between a CR and its LF once made two line
  // breaks of one CR LF. fetch-connect passes every read() on, and a body may yield an empty one.
  it('should dispatch the same events when the cuts leave empty chunks', () => {
    fc.assert(
      fc.property(stream, cuts, ({ text }, at) => {
        expect(parseChunks(split(text, at, true))).toEqual(parseChunks([text]));
      }),
      propertyParameters(),
    );
  });

  it('should throw nothing but SSEError, on any text cut anyhow', () => {
    fc.assert(
      fc.property(fc.array(anyChunk, { maxLength: 20 }), (chunks) => {
        const thrown = thrownBy(chunks);
        if (thrown !== undefined) expect(thrown).toBeInstanceOf(SSEError);
      }),
      propertyParameters(),
    );
  });

  it('should throw nothing but SSEError, on any bytes decoded as fetch-connect decodes them', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), (reads) => {
        const decoder = new TextDecoder();
        const thrown = thrownBy(reads.map((bytes) => decoder.decode(bytes, { stream: true })));
        if (thrown !== undefined) expect(thrown).toBeInstanceOf(SSEError);
      }),
      propertyParameters(),
    );
  });
});
