// The parser loads (issue 17): imported inside a test, so a change that breaks the module at load
// time (its UTF-8 decoder, its tables) fails a test instead of a whole file, which a mutation
// run would count as no failure.
import { describe, expect, it } from 'vitest';

describe('facts-parse', () => {
  it('loads, and decodes hex text as UTF-8', async () => {
    const { parseFacts } = await import('../../src/core/facts-parse.js');
    expect(typeof parseFacts).toBe('function');
  });
});
