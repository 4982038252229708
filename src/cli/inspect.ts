// `jwt-redactor inspect TOKEN|-`: decode and classify tokens for an analyst. Prints what a
// finding holds (never the signature, never a sensitive claim in clear), as text or JSON.
import { readFileSync } from 'node:fs';
import { formatFinding } from '../findings/index.ts';
import type { AnyFinding, Finding } from '../model.ts';
import { engineFromConfig } from '../pipeline/index.ts';
import { ConfigError } from '../util/errors.ts';
import { ENGINE_OPTIONS, engineConfig, resolveKey } from './common.ts';
import type { Io } from './io.ts';
import { type OptionSpec, resolveOptions } from './options.ts';

export const INSPECT_OPTIONS: readonly OptionSpec[] = [
  ...ENGINE_OPTIONS,
  {
    name: 'json',
    type: 'boolean',
    default: false,
    help: 'print findings as JSON lines (native schema) instead of text',
  },
];

function renderText(f: Finding): string {
  const lines: string[] = [];
  const c = f.classification;
  lines.push(
    `token     ${f.token.kind} ${f.token.serialization}${f.token.nested ? ' (nested)' : ''}, ${f.token.length} chars, encoding ${f.token.encoding.join('+') || 'none'}, context ${f.token.context}`,
  );
  lines.push(`fingerpr. ${f.token.fingerprint}`);
  lines.push(
    `identity  ${c.identity}${c.profile ? ` (profile ${c.profile})` : ''}, token type ${c.token_type}`,
  );
  const s = f.status;
  const when =
    s.expires_at === undefined
      ? 'no exp: long-lived'
      : `${s.expired ? 'EXPIRED' : 'LIVE'} until ${s.expires_at}`;
  lines.push(
    `status    ${when}${s.lifetime_seconds !== undefined ? `, lifetime ${s.lifetime_seconds}s` : ''}${s.not_yet_valid ? ', not yet valid' : ''}`,
  );
  lines.push(`severity  ${f.severity} -> action ${f.action} (rule ${f.rule})`);
  lines.push(`header    ${JSON.stringify(f.header)}`);
  lines.push('claims:');
  for (const [name, value] of Object.entries(f.claims)) {
    const cat = c.claims[name] ?? '';
    lines.push(`  ${name.padEnd(22)} ${JSON.stringify(value)}${cat ? `  [${cat}]` : ''}`);
  }
  const nested = Object.entries(c.claims).filter(([k]) => k.startsWith('/'));
  for (const [ptr, cat] of nested) lines.push(`  ${ptr.padEnd(22)} [${cat}]`);
  if (f.risks.length > 0) {
    lines.push('risks:');
    for (const r of f.risks)
      lines.push(
        `  ${r.severity.padEnd(8)} ${r.id}: ${r.reason}${r.frameworks.length ? ` (${r.frameworks.join(', ')})` : ''}`,
      );
  }
  if (f.inner !== undefined)
    lines.push(`inner     ${f.inner.token.kind} ${f.inner.classification.identity} ${f.inner.severity}`);
  return lines.join('\n');
}

export async function runInspect(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = resolveOptions(INSPECT_OPTIONS, argv, io.env);
  if (positionals.length !== 1)
    throw new ConfigError('inspect takes one argument: a token, or - to read stdin');
  const arg = positionals[0]!;
  const text = arg === '-' ? readFileSync(0) : Buffer.from(arg, 'utf8');
  const key = resolveKey(values, false);
  const engine = await engineFromConfig(engineConfig(values, key));
  // Inspection never redacts for output; the findings carry everything an analyst may see.
  const result = await engine.processRecord(text, {
    kind: arg === '-' ? 'stdin' : 'file',
    name: arg === '-' ? 'stdin' : 'argument',
  });
  const findings = result.findings;
  if (findings.length === 0) {
    io.stderr.write('inspect: no JOSE token found in the input\n');
    return 1;
  }
  for (const f of findings) {
    if (values.json === true) io.stdout.write(`${formatFinding('native', f)}\n`);
    else
      io.stdout.write(
        `${isTokenFinding(f) ? renderText(f) : `error: ${f.error.code}: ${f.error.reason}`}\n\n`,
      );
  }
  return 0;
}

function isTokenFinding(f: AnyFinding): f is Finding {
  return f.rule !== 'processing-error';
}
