// Who wrote the finding: the product block every format carries, and the options all formatters share.
import { createRequire } from 'node:module';

export const PRODUCT_NAME = 'jwt-redactor';
export const VENDOR_NAME = 'jwt-redactor';

/** Human text for a rule id, e.g. from the active policy. Rules without an entry get a generic text. */
export interface RuleInfo {
  name?: string;
  description?: string;
  help?: string;
}

export interface FormatOptions {
  /** Product version stamped into every record; defaults to the version in package.json. */
  version?: string;
  /** Link to the product documentation (SARIF `informationUri`); defaults to package.json `homepage`. */
  informationUri?: string;
  rules?: Readonly<Record<string, RuleInfo>>;
}

interface PackageInfo {
  version: string;
  homepage: string;
}

// Read once at load: from src/findings (tests, type stripping) and from a build under dist/ alike.
const PACKAGE: PackageInfo = (() => {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: unknown; version?: unknown; homepage?: unknown };
      if (pkg.name === PRODUCT_NAME && typeof pkg.version === 'string') {
        return {
          version: pkg.version,
          homepage:
            typeof pkg.homepage === 'string' ? pkg.homepage : `https://www.npmjs.com/package/${PRODUCT_NAME}`,
        };
      }
    } catch {
      // not this layout; try the next one
    }
  }
  return { version: '0.0.0', homepage: `https://www.npmjs.com/package/${PRODUCT_NAME}` };
})();

export function productVersion(opts: FormatOptions | undefined): string {
  return opts?.version ?? PACKAGE.version;
}

export function informationUri(opts: FormatOptions | undefined): string {
  return opts?.informationUri ?? PACKAGE.homepage;
}

export function ruleInfo(opts: FormatOptions | undefined, rule: string): RuleInfo {
  const rules = opts?.rules;
  // Own entries only: a rule named "constructor" or "__proto__" must not pick up Object.prototype.
  return rules !== undefined && Object.hasOwn(rules, rule) ? (rules[rule] ?? {}) : {};
}
