import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../../src/classification/glob.ts';
import { escapeSegment, parsePointer, pointerOf, valueAt } from '../../../src/classification/json-pointer.ts';
import { Lru } from '../../../src/classification/lru.ts';
import {
  containsEmail,
  hostOf,
  isGuid,
  isPhoneNumber,
  isPrivateIp,
  parseIPv4,
  parseIPv6,
} from '../../../src/classification/value-detectors.ts';

describe('glob', () => {
  it.each([
    ['*_email', 'work_email', true],
    ['*_email', 'email', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['https://*.okta.com/*', 'https://acme.okta.com/oauth2/default', true],
    ['https://*.okta.com/*', 'https://acme.okta.com.evil.example/', false],
    ['https://*.okta.com', 'https://acme.okta.com.evil.example', false],
    ['v?', 'v2', true],
    ['v?', 'v', false],
    ['*', '', true],
    ['', '', true],
    ['**', 'x', true],
  ])('%j matches %j: %s', (pattern, text, want) => {
    expect(compileGlob(pattern).match(text)).toBe(want);
  });

  it('ignores case when asked', () => {
    expect(compileGlob('*_EMAIL', true).match('Work_Email')).toBe(true);
    expect(compileGlob('*_EMAIL').match('Work_Email')).toBe(false);
  });

  it('agrees with an equivalent regular expression', () => {
    const toRegex = (p: string) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replaceAll('*', '.*')
          .replaceAll('?', '.')}$`,
        's',
      );
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab]{0,12}$/), (pattern, text) => {
        expect(compileGlob(pattern).match(text)).toBe(toRegex(pattern).test(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('stays fast on star-heavy patterns and long texts', () => {
    const g = compileGlob('*a*a*a*a*a*a*a*a*b');
    const start = performance.now();
    expect(g.match('a'.repeat(4000))).toBe(false);
    expect(performance.now() - start).toBeLessThan(50);
  });
});

describe('JSON pointer', () => {
  it('escapes and parses per RFC 6901', () => {
    expect(escapeSegment('a/b~c')).toBe('a~1b~0c');
    expect(pointerOf(['kubernetes.io', 'a/b', '~'])).toBe('/kubernetes.io/a~1b/~0');
    expect(parsePointer('/a~1b/~0/~01')).toEqual(['a/b', '~', '~1']);
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('a')).toBeUndefined();
    expect(parsePointer('/a~2')).toBeUndefined();
    fc.assert(
      fc.property(fc.array(fc.string()), (segs) => {
        expect(parsePointer(pointerOf(segs))).toEqual(segs);
      }),
    );
  });

  it('reads own properties and array indexes only', () => {
    const doc = JSON.parse('{"a":{"b":[10,{"c":1}]},"__proto__":{"x":1}}');
    expect(valueAt(doc, ['a', 'b', '1', 'c'])).toBe(1);
    expect(valueAt(doc, ['a', 'b', '01'])).toBeUndefined();
    expect(valueAt(doc, ['a', 'b', 'length'])).toBeUndefined();
    expect(valueAt(doc, ['a', 'toString'])).toBeUndefined();
    expect(valueAt(doc, ['__proto__', 'x'])).toBe(1);
  });
});

describe('value scanners', () => {
  it('parses IPv4 and IPv6 strictly', () => {
    expect(parseIPv4('192.168.0.1')).toEqual([192, 168, 0, 1]);
    for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '', '1..2.3'])
      expect(parseIPv4(bad)).toBeUndefined();
    expect(parseIPv6('::1')?.[15]).toBe(1);
    expect(parseIPv6('fe80::1%eth0')?.[0]).toBe(0xfe);
    expect(parseIPv6('::ffff:10.1.2.3')?.slice(12)).toEqual([10, 1, 2, 3]);
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':::', 'g::1', '12345::1', 'abc'])
      expect(parseIPv6(bad)).toBeUndefined();
  });

  it('knows the private ranges', () => {
    const priv = [
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.169.254',
      '100.64.0.1',
    ];
    for (const ip of priv) expect(isPrivateIp(parseIPv4(ip)!), ip).toBe(true);
    for (const ip of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1'])
      expect(isPrivateIp(parseIPv4(ip)!), ip).toBe(false);
    for (const ip of ['::1', 'fd00::1', 'fc00::1', 'fe80::1', '::ffff:192.168.0.1'])
      expect(isPrivateIp(parseIPv6(ip)!), ip).toBe(true);
    for (const ip of ['2001:db8::1', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateIp(parseIPv6(ip)!), ip).toBe(false);
  });

  it('extracts the host of URLs and bare host names', () => {
    expect(hostOf('https://user:pw@API.Internal.:8443/x?y#z')).toEqual({ host: 'api.internal', url: true });
    expect(hostOf('http://[fd00::1]:80/')).toEqual({ host: 'fd00::1', url: true });
    expect(hostOf('db.corp:5432')).toEqual({ host: 'db.corp', url: false });
    expect(hostOf('not a host')).toBeUndefined();
    expect(hostOf('urn:uuid:1234')).toBeUndefined();
  });

  it('finds e-mail addresses, phone numbers and GUIDs', () => {
    expect(containsEmail('ada@example.com')).toBe(true);
    expect(containsEmail('mailto:ada@example.com')).toBe(true);
    expect(containsEmail('https://user@host.example/x')).toBe(false);
    expect(containsEmail('a@b')).toBe(false);
    expect(containsEmail('@example.com')).toBe(false);
    expect(isPhoneNumber('+49 30 1234567')).toBe(true);
    expect(isPhoneNumber('415-555-0123')).toBe(true);
    expect(isPhoneNumber('4155550123')).toBe(false);
    expect(isPhoneNumber('+1 (415) abc')).toBe(false);
    expect(isGuid('{72F988BF-86F1-41AF-91AB-2D7CD011DB47}')).toBe(true);
    expect(isGuid('72f988bf86f141af91ab2d7cd011db47')).toBe(false);
  });
});

describe('Lru', () => {
  it('evicts the least recently used entry', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(2);
  });
});
