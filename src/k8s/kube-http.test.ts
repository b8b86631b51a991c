import { describe, expect, it } from 'vitest';
import { LineSplitter } from './kube-http.ts';

/** The lines a splitter reports for these chunks, in order. */
function linesOf(...chunks: readonly Buffer[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  return lines;
}

describe('LineSplitter', () => {
  it('reports each complete line of a chunk, and keeps an unfinished one for the next', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push(Buffer.from('{"type":"ADDED"}\n{"type":"MOD'));
    expect(lines).toEqual(['{"type":"ADDED"}']);
    splitter.push(Buffer.from('IFIED"}\n'));
    expect(lines).toEqual(['{"type":"ADDED"}', '{"type":"MODIFIED"}']);
  });

  it('joins a character whose UTF-8 bytes are split across chunks', () => {
    const bytes = Buffer.from('{"message":"approved — €120"}\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of the dash
    expect(linesOf(bytes.subarray(0, cut), bytes.subarray(cut))).toEqual(['{"message":"approved — €120"}']);
  });

  it('skips empty lines and reports many lines of one chunk in order', () => {
    expect(linesOf(Buffer.from('a\n\nb\nc\n'))).toEqual(['a', 'b', 'c']);
  });
});
