// The scanner's indexOf path, used where WebAssembly SIMD is unavailable: the detection tests
// again, with the prefilter switched off for this file.
import { expect, it } from 'vitest';
import { prefilterInUse, usePrefilter } from '../../../src/detection/scanner.ts';

usePrefilter(false);
await import('./scanner.test.ts');
await import('./linear.test.ts');
await import('./needles.test.ts');

it('this file runs the indexOf path', () => expect(prefilterInUse()).toBe(false));
