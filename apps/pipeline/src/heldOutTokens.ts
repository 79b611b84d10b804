import { createLoader } from '@deepline/data';

/** Up to `maxTokens` tokens of one split, in order, as windows of `window` + 1 tokens joined. */
export async function heldOutTokens(options: { shardsDir: string; split: string; window: number; maxTokens: number }): Promise<number[]> {
  const loader = await createLoader({ dir: options.shardsDir, split: options.split, sequenceLength: options.window + 1, shuffle: false, epochs: 1 });
  const tokens: number[] = [];
  while (tokens.length < options.maxTokens) {
    const sequence = await loader.next();
    if (!sequence) break;
    for (const id of sequence) tokens.push(id);
  }
  return tokens.slice(0, options.maxTokens);
}
