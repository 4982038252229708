// The README is the user's door: it must name every option every command accepts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/main.ts';
import '../../../src/cli/commands.ts';
import { envName } from '../../../src/cli/options.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    it(`documents the ${name} command and every one of its options`, () => {
      expect(readme).toContain(`jwt-redactor ${name}`);
      for (const o of command.options) {
        if (o.noFlag) expect(readme, `${name}: ${envName(o.name)}`).toContain(envName(o.name));
        else if (o.type === 'boolean' && o.default === true)
          expect(readme, `${name}: --no-${o.name}`).toContain(`--no-${o.name}`);
        else expect(readme, `${name}: --${o.name}`).toContain(`--${o.name}`);
      }
    });
  }
  it('states the two commands', () => {
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
  });
});
