import { describe, expect, it } from 'vitest';
import { filePatch, PATCH_LIMITS } from '../src/services/bounded-patch.js';

describe('policy diffs are bounded', () => {
  it('diffs a small change line by line', () => {
    const patch = filePatch('p.yaml', 'a: 1\nb: 2\n', 'a: 1\nb: 3\n', 'version 1', 'version 2');
    expect(patch).toContain('--- a/p.yaml\tversion 1');
    expect(patch).toContain('-b: 2');
    expect(patch).toContain('+b: 3');
  });

  it('says two wholly different large versions are too different instead of computing their diff', () => {
    // 8,000 changed lines took 8 s of the event loop to diff unbounded.
    const lines = (tag: string) => Array.from({ length: 8_000 }, (_, i) => `  ${tag}${i}`).join('\n');
    const patch = filePatch('p.yaml', lines('a'), lines('b'), 'version 1', 'version 2');
    expect(patch).toContain('+++ b/p.yaml\tversion 2');
    expect(patch).toContain(`too different to show line by line (8000 lines before, 8000 after; more than ${PATCH_LIMITS.maxEditLength} lines changed)`);
    expect(patch).not.toMatch(/^[-+] {2}[ab]\d/m);
  });
});
