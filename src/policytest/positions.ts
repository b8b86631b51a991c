import {
  isMap,
  isScalar,
  LineCounter,
  parseAllDocuments,
  type Document as YamlDocument,
  type Node,
} from 'yaml';

/** A 1-based place in a file, as editors count. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Where a field of one YAML document stands in its file. `path` names the field (`['spec', 'rules',
 * 0, 'when']`); `key` points at a key of that object instead of a value (an unknown field); `inside`
 * is a 1-based place within a scalar's value (a CEL expression's error), mapped back through the
 * scalar's quoting, indentation and folding.
 */
export type Locate = (
  path: readonly (string | number)[],
  options?: { readonly key?: string; readonly inside?: SourcePosition },
) => SourcePosition | undefined;

/** A locator for each document of a YAML file, in order; positions only (values come from js-yaml). */
export function locators(text: string): Locate[] {
  const lines = new LineCounter();
  let documents: YamlDocument.Parsed[];
  try {
    documents = parseAllDocuments(text, { lineCounter: lines, version: '1.1' }) as YamlDocument.Parsed[];
  } catch {
    return [];
  }
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  return documents.map((document): Locate => (path, options = {}) => {
    if (options.key !== undefined) {
      const parent = document.getIn(path, true);
      const pair = isMap(parent)
        ? parent.items.find((item) => isScalar(item.key) && String(item.key.value) === options.key)
        : undefined;
      const range = isScalar(pair?.key) ? pair.key.range : undefined;
      return range ? at(range[0]) : undefined;
    }
    const node = document.getIn(path, true) as Node | undefined;
    const range = node?.range;
    if (!range) return undefined;
    if (!options.inside || !isScalar(node)) return at(range[0]);
    return at(offsetInside(text, node.type, range[0], options.inside));
  });
}

/** The file offset of a place inside a scalar's value. */
function offsetInside(text: string, type: string | undefined, start: number, inside: SourcePosition): number {
  if (type !== undefined && ['QUOTE_DOUBLE', 'QUOTE_SINGLE', 'PLAIN'].includes(type)) {
    return valueOffset(text, type === 'PLAIN' ? start : start + 1, inside, {
      folded: type === 'PLAIN',
      block: false,
    });
  }
  // A block scalar: the value starts on the line after its header (`>-`, `|`), at its indentation.
  const body = text.indexOf('\n', start) + 1;
  return valueOffset(text, body, inside, { folded: type === 'BLOCK_FOLDED', block: true });
}

/**
 * Walks the source from `start` to the place the value's line and column point at. In a folded
 * scalar (`>-`, and plain scalars), a line break between two lines of text reads as one space, so the
 * value's first line may span several source lines; indentation is not part of the value.
 */
function valueOffset(
  text: string,
  start: number,
  inside: SourcePosition,
  { folded, block }: { readonly folded: boolean; readonly block: boolean },
): number {
  let offset = start;
  let line = 1;
  let remaining = inside.column - 1;
  // A block scalar's lines share the indentation of its first line; more is part of the value.
  const base = block ? leading(text, start, text.length) : 0;
  while (offset < text.length) {
    const newline = text.indexOf('\n', offset);
    const end = newline < 0 ? text.length : newline;
    // The first segment of a plain or quoted scalar starts right at `start`, after the key; a folded
    // plain scalar's later lines lose all their indentation.
    const indent = block
      ? Math.min(base, leading(text, offset, end))
      : offset === start
        ? 0
        : leading(text, offset, end);
    const content = end - offset - indent;
    if (line === inside.line && remaining <= content) return offset + indent + remaining;
    if (line === inside.line) remaining -= content + 1; // the folded line break, read as a space
    if (!folded) line += 1;
    offset = end + 1;
  }
  return start;
}

function leading(text: string, from: number, to: number): number {
  let count = 0;
  while (from + count < to && text[from + count] === ' ') count++;
  return count;
}
