import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerReader, headerLines, type ReaderOptions } from './answer.ts';
import { feedInPieces } from '../../test/support/feed.ts';

// The shared framing with the Kubernetes client's options: whole bodies of any size, however the
// bytes arrive, and the answer's headers.

class FramingError extends Error {}
const WHOLE: ReaderOptions = {
  maxBodyBytes: Infinity,
  keepHeaders: true,
  errorOf: (message) => new FramingError(message),
};

/** Feeds `bytes` cut at `cuts`; the reader and whether it said the answer was complete. */
function read(bytes: Buffer, cuts: readonly number[] = []): { reader: AnswerReader; complete: boolean } {
  const reader = new AnswerReader(WHOLE);
  return { reader, complete: feedInPieces(reader, bytes, cuts) };
}

/** A chunked answer carrying `body` in chunks of the given sizes (the last one takes the rest). */
function chunked(body: Buffer, sizes: readonly number[]): Buffer {
  const parts: Buffer[] = [
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'),
  ];
  let from = 0;
  for (const size of [...sizes, body.length]) {
    const chunk = body.subarray(from, Math.min(body.length, from + Math.max(1, size)));
    if (chunk.length === 0) break;
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    from += chunk.length;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

describe('AnswerReader keeping whole bodies and headers', () => {
  it('keeps a Content-Length body of any size, however it is split', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300_000 }),
        fc.array(fc.nat({ max: 300_100 }), { maxLength: 20 }),
        (length, cuts) => {
          const body = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
          const bytes = Buffer.from(
            `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
          const { reader, complete } = read(bytes, cuts);
          expect(complete).toBe(true);
          expect(reader.answer().body).toBe(body);
          expect(reader.reusable()).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps a chunked body whole, cut at every byte boundary', () => {
    const body = Buffer.from(JSON.stringify({ items: ['über', '€', 'a'.repeat(40)] }));
    const bytes = chunked(body, [7, 1, 16]);
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const { reader, complete } = read(bytes, [cut]);
      expect(complete).toBe(true);
      expect(reader.answer().body).toBe(body.toString('utf8'));
      expect(reader.reusable()).toBe(true);
    }
  });

  it('keeps a chunked body of any size and chunking, however the bytes arrive', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 100_000 }).map((array) => Buffer.from(array)),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 8 }),
        fc.array(fc.nat({ max: 100_200 }), { maxLength: 30 }),
        (raw, sizes, cuts) => {
          // Latin-1 text: every byte one character, so the body compares byte for byte.
          const body = Buffer.from(raw.toString('latin1'), 'utf8');
          const { reader, complete } = read(chunked(body, sizes), cuts);
          expect(complete).toBe(true);
          expect(reader.answer().body).toBe(body.toString('utf8'));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps a body larger than 64 KiB that runs until the connection closes', () => {
    const body = 'y'.repeat(200 * 1024);
    const { reader, complete } = read(Buffer.from(`HTTP/1.1 200 OK\r\n\r\n${body}`), [10, 70_000]);
    expect(complete).toBe(false);
    expect(reader.ended()).toBe(true);
    expect(reader.answer().body).toBe(body);
  });

  it('keeps the headers by lower-case name, repeated ones joined', () => {
    const { reader } = read(
      Buffer.from(
        'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\n' +
          'Warning: 299 - "a"\r\nwarning: 299 - "b"\r\nContent-Length: 2\r\n\r\n{}',
      ),
    );
    expect(reader.answer()).toEqual({
      status: 429,
      location: undefined,
      body: '{}',
      headers: {
        'retry-after': '1',
        'content-type': 'application/json',
        warning: '299 - "a", 299 - "b"',
        'content-length': '2',
      },
    });
  });

  it('names a framing failure with the options’ error', () => {
    expect(() => read(Buffer.from('HTTP/2 200\r\n\r\n'))).toThrow(FramingError);
  });
});

describe('headerLines', () => {
  it('writes each header on its line', () => {
    expect(
      headerLines({ authorization: 'Bearer t', accept: 'application/json' }, (m) => new FramingError(m)),
    ).toBe('authorization: Bearer t\r\naccept: application/json\r\n');
  });

  it('refuses a name or value with a line break', () => {
    const errorOf = (message: string): Error => new FramingError(message);
    expect(() => headerLines({ authorization: 'Bearer t\r\nx-injected: 1' }, errorOf)).toThrow(FramingError);
    expect(() => headerLines({ 'x\ny': 'v' }, errorOf)).toThrow(/line break/);
  });
});
