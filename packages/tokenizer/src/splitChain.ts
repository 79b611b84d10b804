/**
 * A pre-tokenizer made only of Isolated splits (Split Isolated, ByteLevel with its regex),
 * ending in a plain ByteLevel: DeepSeek-V3's three Splits, for one. Each level keeps both the
 * matches and the text between them, so it can run depth-first with no piece arrays.
 */
export interface SplitChain {
  /** Per level: the pattern with the sticky flag (is there a piece right here?). */
  sticky: RegExp[];
  /** Per level: the same pattern, global (where is the next piece?). */
  global: RegExp[];
}

/** Receives each final piece as text[start, end). */
export type ChainVisitor = (text: string, start: number, end: number) => void;

/** Runs text[start, end) through levels `level…` of the chain, visiting the pieces in order. */
export function forEachChainPiece(
  chain: SplitChain,
  visit: ChainVisitor,
  text: string,
  start: number,
  end: number,
  level = 0,
): void {
  if (level === chain.sticky.length) {
    visit(text, start, end);
    return;
  }
  // Each level sees its segment as a whole string, so lookaheads and $ stop at its end.
  const sub = start === 0 && end === text.length ? text : text.slice(start, end);
  const sticky = chain.sticky[level]!;
  const global = chain.global[level]!;
  const length = sub.length;
  const next = level + 1;
  let pos = 0;
  while (pos < length) {
    sticky.lastIndex = pos;
    if (sticky.test(sub) && sticky.lastIndex > pos) {
      const stop = sticky.lastIndex;
      forEachChainPiece(chain, visit, sub, pos, stop, next);
      pos = stop;
      continue;
    }
    // Not at a piece: the next non-empty match ends the gap before it.
    let matchStart = length;
    let matchEnd = length;
    global.lastIndex = pos;
    for (let m = global.exec(sub); m !== null; m = global.exec(sub)) {
      if (m[0].length > 0) {
        matchStart = m.index;
        matchEnd = m.index + m[0].length;
        break;
      }
      if (m.index >= length) break;
      global.lastIndex = m.index + 1;
    }
    forEachChainPiece(chain, visit, sub, pos, matchStart, next);
    if (matchStart < length) forEachChainPiece(chain, visit, sub, matchStart, matchEnd, next);
    pos = matchEnd;
  }
}
