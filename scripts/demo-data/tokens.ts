// Demo tokens, made with jose when the demo runs: no credential is ever stored in the repository.
import { CompactEncrypt, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';

export type DemoTokens = Record<string, string>;

export async function makeDemoTokens(now = Math.floor(Date.now() / 1000)): Promise<DemoTokens> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: false });
  const rsa = await generateKeyPair('RSA-OAEP-256', { extractable: false });
  const k8s = await new SignJWT({
    'kubernetes.io': {
      namespace: 'payments',
      pod: { name: 'payments-api-7d9c5', uid: '2b9c7e4e-0b7f-4a4f-9d31-2f1c8f0a1b2c' },
      serviceaccount: { name: 'payments-api', uid: '5f8a3c2e-1d4b-4e6f-8a9b-0c1d2e3f4a5b' },
    },
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k8s-demo' })
    .setIssuer('https://kubernetes.default.svc.cluster.local')
    .setSubject('system:serviceaccount:payments:payments-api')
    .setAudience(['https://kubernetes.default.svc.cluster.local'])
    .setIssuedAt(now - 60)
    .setNotBefore(now - 60)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  const github = await new SignJWT({
    repository: 'acme/payments',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    workflow: 'deploy',
    job_workflow_ref: 'acme/payments/.github/workflows/deploy.yml@refs/heads/main',
    runner_environment: 'github-hosted',
    event_name: 'push',
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'github-demo' })
    .setIssuer('https://token.actions.githubusercontent.com')
    .setSubject('repo:acme/payments:ref:refs/heads/main')
    .setAudience('sts.amazonaws.com')
    .setIssuedAt(now - 10)
    .setExpirationTime(now + 300)
    .sign(privateKey);
  const idToken = await new SignJWT({
    email: 'alice.liddell@example.com',
    name: 'Alice Liddell',
    nonce: 'n-0S6_WzA2Mj',
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer('https://login.example.com/')
    .setSubject('user-8842')
    .setAudience('web-app')
    .setIssuedAt(now)
    .setExpirationTime(now + 900)
    .sign(privateKey);
  const none = new UnsecuredJWT({ sub: 'admin', role: 'superuser' })
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .encode();
  const jwe = await new CompactEncrypt(
    new TextEncoder().encode(JSON.stringify({ sub: 'sync-agent', scope: 'sync' })),
  )
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
    .encrypt(rsa.publicKey);
  const weakHmac = await new SignJWT({ scope: 'reports:read' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('internal-auth')
    .setSubject('svc-reporting')
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode('secret'));
  return {
    k8s,
    'k8s.base64': Buffer.from(k8s).toString('base64'),
    github,
    id_token: idToken,
    none,
    jwe,
    weak_hmac: weakHmac,
  };
}

/** Replaces `{{name}}` placeholders; an unknown name is an error (a typo in a sample file). */
export function fill(template: string, tokens: DemoTokens): string {
  return template.replace(/\{\{([a-z_.0-9]+)\}\}/g, (_, name: string) => {
    const t = tokens[name];
    if (t === undefined) throw new Error(`unknown placeholder {{${name}}} in demo data`);
    return t;
  });
}
