// Per distinct token: the cost of one analysis (decode, classify, risks, claim protection, policy
// decision, finding body, replacement) for each kind of token in the engine bench's mix. Every
// token is new to the analyzer, so nothing is served from its cache.
// Run: node test/bench/analyze.bench.ts   (ANALYZE_N=2000 tokens per kind by default;
//      ANALYZE_KINDS='RS256 k8s,HS256' for some kinds only)
//      node --cpu-prof --cpu-prof-dir=/tmp/prof test/bench/analyze.bench.ts   to profile it
import { loadClassificationRules } from '../../src/classification/index.ts';
import { scan, type TokenItem, tokensOf } from '../../src/detection/index.ts';
import { createAnalyzer } from '../../src/pipeline/analyze.ts';
import { loadPolicy } from '../../src/policy/index.ts';
import { createFingerprinter } from '../../src/redaction/index.ts';
import {
  humanClaims,
  jweRsaOaep,
  jwsES256,
  jwsHS256,
  jwsRS256,
  k8sClaims,
  NOW,
  unsecured,
} from '../helpers/tokens.ts';

const N = Number(process.env.ANALYZE_N ?? 2000);
/** Comma-separated kind names to run (default: all). */
const ONLY = process.env.ANALYZE_KINDS?.split(',');

type Make = (i: number, now: number) => Promise<string> | string;

/** The token kinds of the engine bench's pool (test/bench/engine.bench.ts, tokenPool). */
export const KINDS: Record<string, Make> = {
  'RS256 k8s': (i, now) => jwsRS256({ ...k8sClaims(now), jti: `k-${i}` }),
  'RS256 human': (i, now) => jwsRS256({ ...humanClaims(now), jti: `h-${i}` }),
  'ES256 GitHub Actions': (i, now) =>
    jwsES256({
      iss: 'https://token.actions.githubusercontent.com',
      sub: `repo:acme/app:ref:refs/heads/main`,
      aud: 'sts.amazonaws.com',
      exp: now + 600,
      iat: now,
      repository: 'acme/app',
      run_id: String(i),
    }),
  HS256: (i, now) => jwsHS256({ sub: `svc-${i}`, exp: now + 600, iat: now }),
  unsecured: (i, now) => unsecured({ sub: `u-${i}`, iat: now }),
  'JWE RSA-OAEP': (i) => jweRsaOaep(`{"sub":"e-${i}"}`),
};

function itemOf(token: string): TokenItem {
  const item = tokensOf(scan(Buffer.from(token, 'latin1')).items)[0];
  if (item === undefined) throw new Error('bench token not detected');
  return item;
}

export async function runAnalyzeBench(): Promise<void> {
  const rules = loadClassificationRules();
  const policy = loadPolicy(['default'], { categories: [...rules.categories.keys()] });
  const fingerprinter = createFingerprinter(Buffer.alloc(32, 1), 'bench');
  const now = NOW();
  const items: Record<string, TokenItem[]> = {};
  for (const [kind, make] of Object.entries(KINDS)) {
    if (ONLY !== undefined && !ONLY.includes(kind)) continue;
    const list: TokenItem[] = [];
    for (let i = 0; i < 2 * N; i++) list.push(itemOf(await make(i, now)));
    items[kind] = list;
  }
  console.log(`# analysis of distinct tokens, ${N} per kind, Node ${process.versions.node}, one core`);
  let total = 0;
  for (const [kind, list] of Object.entries(items)) {
    // A fresh analyzer per kind; the first half warms it up, the second half is timed.
    const analyzer = createAnalyzer({ policy, rules, fingerprinter });
    for (let i = 0; i < N; i++) await analyzer.analyze(list[i]!);
    const t0 = process.hrtime.bigint();
    for (let i = N; i < 2 * N; i++) await analyzer.analyze(list[i]!);
    const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
    total += us;
    console.log(`${kind.padEnd(24)} ${us.toFixed(1).padStart(8)} us per distinct token`);
  }
  console.log(
    `${'mix (mean of the kinds)'.padEnd(24)} ${(total / Object.keys(items).length).toFixed(1).padStart(8)} us`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runAnalyzeBench();
