export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units, as the parser counts. */
  readonly column: number;
}

/** Line and column of a character offset, breaking lines at \n, \r\n and \r as the CEL parser does. */
export function positionAt(source: string, offset: number): SourcePosition {
  const end = Math.min(Math.max(offset, 0), source.length);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const char = source[i];
    if (char === '\r' && source[i + 1] === '\n' && i + 1 < end) i++;
    if (char === '\n' || char === '\r') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * The offset of the first non-blank character at or after `offset`. The parser places a binary
 * operator at the end of its left operand, before the blanks that precede the operator itself.
 */
export function tokenStart(source: string, offset: number): number {
  let at = offset;
  while (at < source.length && /\s/.test(source.charAt(at))) at++;
  return at;
}
