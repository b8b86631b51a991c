/** Something that takes a connection's bytes as they arrive and says when it has read a whole message. */
interface Feedable {
  feed(bytes: Buffer): boolean;
}

/**
 * Feeds `bytes` to `reader` in pieces cut at `cuts` (in any order), as a socket may split them;
 * whether the last piece completed the message.
 */
export function feedInPieces(reader: Feedable, bytes: Buffer, cuts: readonly number[] = []): boolean {
  let complete = false;
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b).concat(bytes.length)) {
    if (cut <= from) continue;
    complete = reader.feed(bytes.subarray(from, cut));
    from = cut;
  }
  return complete;
}
