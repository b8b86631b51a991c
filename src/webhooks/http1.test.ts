import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookAnswerError } from '../errors.ts';
import { AnswerReader, MAX_ANSWER_BYTES, newOrigin, parseHead, requestHead } from './http1.ts';
import { feedInPieces } from '../../test/support/feed.ts';

// Reading HTTP/1.1 answers from the bytes a connection receives, however they are split.

/** Feeds `text` in the given pieces; returns the reader and whether it said the answer was complete. */
function read(text: string, cuts: readonly number[] = []): { reader: AnswerReader; complete: boolean } {
  const reader = new AnswerReader();
  return { reader, complete: feedInPieces(reader, Buffer.from(text, 'latin1'), cuts) };
}

const CHUNKED =
  'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;ext=1\r\nmaint\r\n6\r\nenance\r\n0\r\nX-Trailer: yes\r\n\r\n';

describe('AnswerReader', () => {
  it('reads a Content-Length answer and keeps the connection', () => {
    const { reader, complete } = read('HTTP/1.1 202 Accepted\r\nContent-Length: 6\r\n\r\nqueued');
    expect(complete).toBe(true);
    expect(reader.answer()).toEqual({ status: 202, location: undefined, body: 'queued' });
    expect(reader.reusable()).toBe(true);
  });

  it('reads a chunked answer with extensions and trailers', () => {
    const { reader, complete } = read(CHUNKED);
    expect(complete).toBe(true);
    expect(reader.answer().body).toBe('maintenance');
    expect(reader.reusable()).toBe(true);
  });

  it('gives the same answer however the bytes arrive', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: CHUNKED.length }), { maxLength: 12 }), (cuts) => {
        const { reader, complete } = read(CHUNKED, cuts);
        expect(complete).toBe(true);
        expect(reader.answer()).toEqual({ status: 503, location: undefined, body: 'maintenance' });
      }),
    );
  });

  it('waits for the rest of a body and says the answer is incomplete until then', () => {
    const reader = new AnswerReader();
    expect(reader.started).toBe(false);
    expect(reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart'))).toBe(false);
    expect(reader.started).toBe(true);
    expect(reader.ended()).toBe(false);
  });

  it('skips interim answers', () => {
    const { reader, complete } = read(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
    );
    expect(complete).toBe(true);
    expect(reader.answer().status).toBe(204);
  });

  it('reads a body that runs until the connection closes, and does not reuse that connection', () => {
    const { reader, complete } = read('HTTP/1.1 200 OK\r\n\r\nall of it');
    expect(complete).toBe(false);
    expect(reader.ended()).toBe(true);
    expect(reader.answer().body).toBe('all of it');
    expect(reader.reusable()).toBe(false);
  });

  it('closes what the server closes: Connection: close, HTTP/1.0, extra bytes', () => {
    expect(read('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n').reader.reusable()).toBe(false);
    expect(read('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').reader.reusable()).toBe(false);
    expect(
      read('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').reader.reusable(),
    ).toBe(true);
    expect(read('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204').reader.reusable()).toBe(false);
  });

  it('keeps the first bytes of a long body only', () => {
    const long = 'x'.repeat(3 * MAX_ANSWER_BYTES);
    const { reader } = read(
      `HTTP/1.1 500 Oops\r\nContent-Length: ${long.length}\r\n\r\n${long}`,
      [100, 5000, 9000],
    );
    expect(reader.answer().body).toHaveLength(MAX_ANSWER_BYTES);
  });

  it('says where a redirect points', () => {
    expect(
      read(
        'HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n',
      ).reader.answer(),
    ).toMatchObject({ status: 302, location: 'http://169.254.169.254/' });
  });

  it('refuses what is not an HTTP/1.x answer', () => {
    expect(() => read('SSH-2.0-OpenSSH_9.6\r\n\r\n')).toThrow(WebhookAnswerError);
    expect(() => read('HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n')).toThrow(/Content-Length/);
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(/chunk size/);
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n')).toThrow(/longer/);
  });
});

describe('parseHead', () => {
  it('lets Transfer-Encoding win over Content-Length', () => {
    expect(
      parseHead('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked'),
    ).toMatchObject({
      contentLength: undefined,
      chunked: true,
    });
  });
});

describe('requestHead', () => {
  const origin = newOrigin(new URL('https://hooks.example.com:8443/x'), undefined);

  it('frames a POST with Host, the headers and the body length', () => {
    expect(requestHead(origin, '/x?y=1', { 'webhook-id': 'a.Approved' }, 12)).toBe(
      'POST /x?y=1 HTTP/1.1\r\nhost: hooks.example.com:8443\r\nuser-agent: Greenlight\r\n' +
        'webhook-id: a.Approved\r\ncontent-length: 12\r\n\r\n',
    );
    expect(origin).toMatchObject({ secure: true, host: 'hooks.example.com', port: 8443 });
  });

  it('refuses a header that would add headers of its own', () => {
    expect(() => requestHead(origin, '/x', { 'webhook-id': 'a\r\nx-injected: 1' }, 0)).toThrow(
      WebhookAnswerError,
    );
  });

  it('connects to a bracketed IPv6 host without its brackets, on the default port', () => {
    expect(newOrigin(new URL('http://[::1]/hook'), undefined)).toMatchObject({
      host: '::1',
      port: 80,
      hostHeader: '[::1]',
    });
  });
});
