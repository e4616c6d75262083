// SSRF rules for webhook endpoints: which URLs may be registered and which addresses may be
// called. Pure: the caller resolves DNS, checks every address here, then connects to a checked
// address itself (never re-resolving the name), so a DNS answer that changes between the check
// and the connection (DNS rebinding) cannot slip an internal address through.
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Longest endpoint URL accepted, before and after normalization. */
export const MAX_URL_LENGTH = 2048;

/** Why an endpoint URL is refused (stable codes, shown to the API client). */
export type UrlRefusal =
  'URL_TOO_LONG' | 'URL_INVALID' | 'URL_SCHEME_NOT_ALLOWED' | 'URL_HTTP_NOT_ALLOWED' | 'URL_CREDENTIALS_NOT_ALLOWED';

/** An accepted URL (normalized, fragment removed) and the host name to resolve, or a refusal. */
export type UrlCheck = { ok: true; url: string; hostname: string } | { ok: false; reason: UrlRefusal; detail: string };

/** Whether `raw` may be registered as an endpoint URL; HTTP only when `allowHttp` (local development). */
export function checkEndpointUrl(raw: string, options: { allowHttp: boolean }): UrlCheck {
  // checked before parsing too, so a huge input costs nothing
  if (raw.length > MAX_URL_LENGTH) return refuse('URL_TOO_LONG', `at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('URL_INVALID', 'not an absolute URL');
  }
  if (url.protocol === 'http:') {
    if (!options.allowHttp) return refuse('URL_HTTP_NOT_ALLOWED', 'the URL must use https');
  } else if (url.protocol !== 'https:') {
    return refuse('URL_SCHEME_NOT_ALLOWED', 'the URL must use https');
  }
  // Credentials in a URL end up in logs and in the delivery listing; the signature authenticates.
  if (url.username !== '' || url.password !== '') {
    return refuse('URL_CREDENTIALS_NOT_ALLOWED', 'the URL must not contain a user name or password');
  }
  // A fragment is never sent to the server; dropping it keeps equal endpoints equal.
  url.hash = '';
  const normalized = url.href;
  if (normalized.length > MAX_URL_LENGTH) return refuse('URL_TOO_LONG', `at most ${MAX_URL_LENGTH} characters`);
  // an IPv6 literal's hostname is "[::1]"; DNS lookups and address checks want "::1"
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { ok: true, url: normalized, hostname };
}

function refuse(reason: UrlRefusal, detail: string): UrlCheck {
  return { ok: false, reason, detail };
}

/** What an address is, for the SSRF rules: only `public` may be called without an allow-list. */
export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'linkLocal'
  | 'carrierGradeNat'
  | 'uniqueLocal'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'invalid';

// ipaddr.js range names that are public unicast; every other name (including ones a later
// version adds) is kept out, so an unknown range fails closed.
const PUBLIC_RANGES = new Set(['unicast', 'as112', 'as112v6', 'amt']);
const BLOCKED_KINDS: ReadonlySet<string> = new Set<AddressKind>([
  'unspecified',
  'loopback',
  'private',
  'linkLocal',
  'carrierGradeNat',
  'uniqueLocal',
  'multicast',
  'broadcast',
  'reserved',
]);
// NAT64's well-known prefix embeds a real IPv4 address; its local-use /48 (RFC 8215) does not.
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/** The kind of a resolved address, IPv4 or IPv6 (canonical forms only; anything else is `invalid`). */
export function classifyAddress(ip: string): AddressKind {
  const address = parseAddress(ip);
  if (address === null) return 'invalid';
  return address.kind() === 'ipv4' ? classifyIPv4(address as ipaddr.IPv4) : classifyIPv6(address as ipaddr.IPv6);
}

function classifyIPv4(address: ipaddr.IPv4): AddressKind {
  const range: string = address.range();
  if (PUBLIC_RANGES.has(range)) return 'public';
  // 169.254.0.0/16 (linkLocal) holds the cloud metadata service, 169.254.169.254
  return BLOCKED_KINDS.has(range) ? (range as AddressKind) : 'reserved';
}

function classifyIPv6(address: ipaddr.IPv6): AddressKind {
  const range: string = address.range();
  const p = address.parts;
  switch (range) {
    // These carry an IPv4 address that the host or a translator ends up talking to: judge that one,
    // or ::ffff:10.0.0.1 would pass as public.
    case 'ipv4Mapped':
    case 'rfc6145':
      return classifyIPv4(embeddedIPv4(p[6]!, p[7]!));
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN) ? classifyIPv4(embeddedIPv4(p[6]!, p[7]!)) : 'reserved';
    case '6to4':
      return classifyIPv4(embeddedIPv4(p[1]!, p[2]!));
    case 'deprecatedSiteLocal':
      return 'private';
    case 'unicast':
      // ::/96, the deprecated IPv4-compatible form (:: and ::1 are matched before this): judged by
      // its IPv4 address, as ipaddr.js already does for the dotted spelling "::10.0.0.1"
      return p.slice(0, 6).every((part) => part === 0) ? classifyIPv4(embeddedIPv4(p[6]!, p[7]!)) : 'public';
  }
  if (PUBLIC_RANGES.has(range)) return 'public';
  return BLOCKED_KINDS.has(range) ? (range as AddressKind) : 'reserved';
}

function embeddedIPv4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

// Strict: dotted-quad IPv4 or IPv6 only. ipaddr.parse also takes "127.1" and "0x7f.0.0.1",
// forms a resolver never returns; refusing them keeps what is checked what is connected to.
function parseAddress(ip: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(ip)) return ipaddr.IPv4.parse(ip);
  if (ipaddr.IPv6.isValid(ip)) return ipaddr.IPv6.parse(ip);
  return null;
}

/** A parsed allow-list entry: a network and its prefix length. */
export type AllowListRange = readonly [Address, number];

/**
 * Parses allow-list entries (CIDRs such as `127.0.0.0/8`, `::1/128`, or exact addresses);
 * throws naming the first invalid one, so config validation can stop the process on it.
 */
export function parseAllowList(entries: readonly string[]): AllowListRange[] {
  return entries.map((entry) => {
    const [ip = '', prefix, extra] = entry.split('/');
    const address = parseAddress(ip);
    const max = address?.kind() === 'ipv4' ? 32 : 128;
    const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (address === null || extra !== undefined || !(bits >= 0 && bits <= max)) {
      throw new Error(`invalid allow-list entry "${entry}": expected an IP address or a CIDR`);
    }
    return [address, bits] as const;
  });
}

/** Why resolved addresses are refused. */
export type AddressCheck =
  | { ok: true }
  | { ok: false; reason: 'NO_ADDRESSES' }
  | { ok: false; reason: 'ADDRESS_NOT_ALLOWED'; address: string; kind: AddressKind };

/**
 * Whether a host whose name resolved to `addresses` may be called: every address must be public
 * or allow-listed. Every one, because the connection may use any of them.
 */
export function checkResolvedAddresses(addresses: readonly string[], allowList: readonly string[]): AddressCheck {
  if (addresses.length === 0) return { ok: false, reason: 'NO_ADDRESSES' };
  const ranges = parseAllowList(allowList);
  for (const ip of addresses) {
    const kind = classifyAddress(ip);
    if (kind === 'public') continue;
    if (kind !== 'invalid' && isAllowListed(parseAddress(ip)!, ranges)) continue;
    return { ok: false, reason: 'ADDRESS_NOT_ALLOWED', address: ip, kind };
  }
  return { ok: true };
}

function isAllowListed(address: Address, ranges: readonly AllowListRange[]): boolean {
  // ::ffff:127.0.0.1 is 127.0.0.1: an IPv4 entry covers its mapped form too
  const candidates: Address[] = [address];
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    candidates.push((address as ipaddr.IPv6).toIPv4Address());
  }
  return ranges.some(([network, bits]) =>
    candidates.some((candidate) => candidate.kind() === network.kind() && candidate.match(network, bits)),
  );
}
