import { engineFromConfig, type FullEngine } from '../../src/pipeline/index.ts';

const engines = new Map<string, Promise<FullEngine>>();

/** An engine with a fixed test key (`k1`) and the given built-in policies. */
export function testEngine(policies: string[] = ['default'], jwksFile?: string): Promise<FullEngine> {
  const id = `${policies.join(',')}|${jwksFile ?? ''}`;
  let e = engines.get(id);
  if (e === undefined) {
    e = engineFromConfig({
      policies,
      ruleFiles: [],
      key: Buffer.alloc(32, 0x42),
      keyId: 'k1',
      ephemeralKey: false,
      ...(jwksFile !== undefined ? { jwksFile } : {}),
    });
    engines.set(id, e);
  }
  return e;
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
