import { describe, expect, it } from 'vitest';
import { BlocklistFilter } from './contentFilter.js';

describe('BlocklistFilter', () => {
  const filter = BlocklistFilter.fromText('# comment\nsecret plan\nre:\\b\\d{3}-\\d{2}-\\d{4}\\b\n');

  it('matches phrases case-insensitively on word boundaries', () => {
    expect(filter.checkInput('the SECRET plan is')).toEqual({ blocked: true, rule: 'secret plan' });
    expect(filter.checkInput('secret planet').blocked).toBe(false);
    expect(filter.checkInput('a secret, planned').blocked).toBe(false);
  });

  it('matches regular expressions', () => {
    expect(filter.checkOutput('ssn 123-45-6789.')).toMatchObject({ blocked: true });
    expect(filter.checkOutput('1234-45-6789').blocked).toBe(false);
  });

  it('can be limited to input or output', () => {
    const inputOnly = new BlocklistFilter({ phrases: ['x marks'], output: false });
    expect(inputOnly.checkInput('X marks the spot').blocked).toBe(true);
    expect(inputOnly.checkOutput('X marks the spot').blocked).toBe(false);
  });
});
