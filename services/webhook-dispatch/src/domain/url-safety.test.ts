import {
  MAX_URL_LENGTH,
  checkEndpointUrl,
  checkResolvedAddresses,
  classifyAddress,
  parseAllowList,
  type AddressKind,
} from './url-safety';

const https = { allowHttp: false };
const http = { allowHttp: true };

describe('checkEndpointUrl', () => {
  it('accepts an https URL, normalized, with the host name to resolve', () => {
    expect(checkEndpointUrl('HTTPS://Hooks.Example.com:443/usageflow?x=1', https)).toEqual({
      ok: true,
      url: 'https://hooks.example.com/usageflow?x=1',
      hostname: 'hooks.example.com',
    });
  });

  it('strips the fragment', () => {
    expect(checkEndpointUrl('https://hooks.example.com/in#section', https)).toMatchObject({
      ok: true,
      url: 'https://hooks.example.com/in',
    });
  });

  it('gives an IPv6 literal host without its brackets', () => {
    expect(checkEndpointUrl('https://[::1]:8443/in', https)).toMatchObject({ ok: true, hostname: '::1' });
  });

  it('refuses http unless allowed', () => {
    expect(checkEndpointUrl('http://localhost:3000/in', https)).toMatchObject({
      ok: false,
      reason: 'URL_HTTP_NOT_ALLOWED',
    });
    expect(checkEndpointUrl('http://localhost:3000/in', http)).toMatchObject({
      ok: true,
      url: 'http://localhost:3000/in',
      hostname: 'localhost',
    });
  });

  it('refuses every other scheme, even when http is allowed', () => {
    for (const raw of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)']) {
      expect(checkEndpointUrl(raw, http)).toMatchObject({ ok: false, reason: 'URL_SCHEME_NOT_ALLOWED' });
    }
  });

  it('refuses credentials in the URL', () => {
    for (const raw of ['https://user:pass@example.com/', 'https://user@example.com/', 'https://:pass@example.com/']) {
      expect(checkEndpointUrl(raw, https)).toMatchObject({ ok: false, reason: 'URL_CREDENTIALS_NOT_ALLOWED' });
    }
  });

  it('refuses what is not an absolute URL', () => {
    for (const raw of ['', 'example.com/hook', '/relative', 'https://', 'https://exa mple.com/']) {
      expect(checkEndpointUrl(raw, https)).toMatchObject({ ok: false, reason: 'URL_INVALID' });
    }
  });

  it('accepts exactly 2048 characters and refuses 2049', () => {
    const head = 'https://example.com/';
    const atLimit = head + 'a'.repeat(MAX_URL_LENGTH - head.length);
    expect(atLimit).toHaveLength(2048);
    expect(checkEndpointUrl(atLimit, https)).toMatchObject({ ok: true, url: atLimit });
    expect(checkEndpointUrl(atLimit + 'a', https)).toMatchObject({ ok: false, reason: 'URL_TOO_LONG' });
  });

  it('refuses a URL that grows past the limit when normalized', () => {
    const head = 'https://example.com/';
    // each space becomes %20: under the limit as typed, over it once encoded
    const raw = head + 'a' + ' '.repeat(1000) + 'b';
    expect(raw.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
    expect(checkEndpointUrl(raw, https)).toMatchObject({ ok: false, reason: 'URL_TOO_LONG' });
  });
});

describe('classifyAddress', () => {
  const cases: [string, AddressKind][] = [
    // IPv4, with the edges of each range
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.255', 'loopback'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['11.0.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.168.1.1', 'private'],
    ['192.169.0.0', 'public'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['100.63.255.255', 'public'],
    ['100.64.0.0', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['100.128.0.0', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    // IPv6
    ['2606:4700:4700::1111', 'public'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
    // IPv6 carrying an IPv4 address: judged by the IPv4 address
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::8.8.8.8', 'reserved'],
    ['2002:0a00:0001::1', 'private'],
    ['2002:a9fe:a9fe::', 'linkLocal'],
    ['2002:0808:0808::1', 'public'],
    ['::10.0.0.1', 'private'],
    ['::a00:1', 'private'],
    ['::7f00:1', 'loopback'],
    ['::808:808', 'public'],
    // not a canonical address
    ['', 'invalid'],
    ['localhost', 'invalid'],
    ['127.1', 'invalid'],
    ['0x7f.0.0.1', 'invalid'],
    ['256.1.1.1', 'invalid'],
    ['10.0.0.0/8', 'invalid'],
  ];

  it.each(cases)('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });
});

describe('checkResolvedAddresses', () => {
  const localhost = ['127.0.0.0/8', '::1/128'];

  it('allows public addresses without an allow-list', () => {
    expect(checkResolvedAddresses(['93.184.216.34', '2606:2800:220:1::'], [])).toEqual({ ok: true });
  });

  it('refuses an empty resolution', () => {
    expect(checkResolvedAddresses([], localhost)).toEqual({ ok: false, reason: 'NO_ADDRESSES' });
  });

  it('refuses when any one address is not public, naming it', () => {
    expect(checkResolvedAddresses(['93.184.216.34', '169.254.169.254'], [])).toEqual({
      ok: false,
      reason: 'ADDRESS_NOT_ALLOWED',
      address: '169.254.169.254',
      kind: 'linkLocal',
    });
  });

  it('allows loopback when the allow-list covers it, by CIDR', () => {
    expect(checkResolvedAddresses(['127.0.0.1', '::1'], localhost)).toEqual({ ok: true });
    expect(checkResolvedAddresses(['127.255.255.255'], localhost)).toEqual({ ok: true });
    expect(checkResolvedAddresses(['::1'], [])).toMatchObject({ ok: false, kind: 'loopback' });
  });

  it('matches CIDR bounds exactly', () => {
    const allow = ['10.1.0.0/16'];
    expect(checkResolvedAddresses(['10.1.0.0'], allow)).toEqual({ ok: true });
    expect(checkResolvedAddresses(['10.1.255.255'], allow)).toEqual({ ok: true });
    expect(checkResolvedAddresses(['10.2.0.0'], allow)).toMatchObject({ ok: false, address: '10.2.0.0' });
    expect(checkResolvedAddresses(['10.0.255.255'], allow)).toMatchObject({ ok: false, address: '10.0.255.255' });
  });

  it('matches an exact address entry only', () => {
    expect(checkResolvedAddresses(['192.168.1.10'], ['192.168.1.10'])).toEqual({ ok: true });
    expect(checkResolvedAddresses(['192.168.1.11'], ['192.168.1.10'])).toMatchObject({ ok: false });
    expect(checkResolvedAddresses(['fd00::1'], ['fd00::1'])).toEqual({ ok: true });
  });

  it('covers an IPv4-mapped address with its IPv4 entry, and refuses it without one', () => {
    expect(checkResolvedAddresses(['::ffff:127.0.0.1'], localhost)).toEqual({ ok: true });
    expect(checkResolvedAddresses(['::ffff:10.0.0.1'], localhost)).toMatchObject({
      ok: false,
      address: '::ffff:10.0.0.1',
      kind: 'private',
    });
  });

  it('never lets an IPv4 entry cover an unrelated IPv6 address', () => {
    expect(checkResolvedAddresses(['::1'], ['127.0.0.0/8'])).toMatchObject({ ok: false, kind: 'loopback' });
  });

  it('refuses an address that is not one, whatever the allow-list', () => {
    expect(checkResolvedAddresses(['localhost'], ['0.0.0.0/0', '::/0'])).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
  });
});

describe('parseAllowList', () => {
  it('takes CIDRs and exact addresses', () => {
    expect(parseAllowList(['127.0.0.0/8', '::1/128', '10.0.0.5', 'fd00::/8'])).toHaveLength(4);
  });

  it.each(['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', '127.1/8'])(
    'refuses %s',
    (entry) => {
      expect(() => parseAllowList([entry])).toThrow(`invalid allow-list entry "${entry}"`);
    },
  );
});
