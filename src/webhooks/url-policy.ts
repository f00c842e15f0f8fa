/**
 * Where webhooks may go (spec §16): http(s) URLs whose host resolves to public addresses only. Private, loopback,
 * link-local and other non-public ranges are refused unless `allowPrivate` (`WEBHOOK_ALLOW_PRIVATE=1`, development
 * and tests), at registration and again at every delivery, after DNS resolution; a delivery then connects to the
 * address it checked, so a DNS answer that changes in between (rebinding) cannot send it elsewhere.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

/** Not the public internet: RFC 6890 special-purpose ranges, multicast and reserved. */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** True for an address on the public internet. IPv4 inside IPv6 (mapped, NAT64) is judged as the IPv4 it carries. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const embedded = embeddedIpv4(address);
  if (embedded) return isPublicAddress(embedded);
  return !NOT_PUBLIC.check(address, 'ipv6');
}

/** The IPv4 address in `::ffff:a.b.c.d`, `::ffff:hhhh:hhhh`, `::a.b.c.d` or the NAT64 prefix 64:ff9b::/96. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const m = /^(?:::ffff:|::|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(lower);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2], 16);
  const lo = parseInt(m[3], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The URL's syntax: absolute http(s), a host, no credentials, not too long. Throws `WebhookUrlError`. */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new WebhookUrlError(`url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError('url must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlError('url must use http or https');
  }
  if (!url.hostname) throw new WebhookUrlError('url must name a host');
  if (url.username || url.password) throw new WebhookUrlError('url must not carry credentials');
  return url;
}

/** The URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * The addresses `url`'s host resolves to, each checked: one that is not public refuses the URL (unless
 * `allowPrivate`). Throws `WebhookUrlError`.
 */
export async function resolveWebhookHost(
  url: URL,
  options: { allowPrivate: boolean; resolve?: (host: string) => Promise<ResolvedAddress[]> },
): Promise<ResolvedAddress[]> {
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) {
    addresses = [{ address: host, family: literal as 4 | 6 }];
  } else {
    try {
      addresses = await (options.resolve ?? resolveAll)(host);
    } catch {
      throw new WebhookUrlError(`the host ${host} does not resolve`);
    }
    if (addresses.length === 0) throw new WebhookUrlError(`the host ${host} does not resolve`);
  }
  if (!options.allowPrivate) {
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) {
      throw new WebhookUrlError(
        `${literal ? 'the address' : `the host ${host} resolves to`} ${blocked.address}, which is not a public address ` +
          '(private, loopback and link-local addresses are refused)',
      );
    }
  }
  return addresses;
}

/** A registration's check: syntax, then every address the host resolves to. Returns the normalised URL. */
export async function checkWebhookUrl(raw: string, options: { allowPrivate: boolean }): Promise<string> {
  const url = parseWebhookUrl(raw);
  await resolveWebhookHost(url, options);
  return url.toString();
}

async function resolveAll(host: string): Promise<ResolvedAddress[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}
