import { BlockList, isIP } from 'node:net';

/**
 * Where Greenlight refuses to send a webhook (unless the operator allows it with
 * --webhook-allow-link-local): link-local addresses, which include every major cloud's instance
 * metadata service (169.254.169.254), and the metadata addresses that are not link-local. A policy
 * author could otherwise make the controller read its cloud credentials. Private and loopback
 * addresses stay allowed: automation servers usually live in the cluster.
 */
const refused = new BlockList();
refused.addSubnet('169.254.0.0', 16, 'ipv4');
refused.addSubnet('fe80::', 10, 'ipv6');
refused.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
refused.addAddress('168.63.129.16', 'ipv4'); // Azure WireServer
refused.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
refused.addAddress('fd00:ec2::23', 'ipv6'); // AWS time sync and DNS over IPv6 (Nitro)

/** Names of metadata services, refused before any lookup. */
const REFUSED_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** `::ffff:169.254.169.254` is 169.254.169.254. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Why an IP address is refused, or undefined when it is allowed. */
export function refusedAddress(address: string): string | undefined {
  if (isIP(address) === 0) return undefined;
  const { address: plain, family } = unmapped(address);
  return refused.check(plain, family)
    ? `${address} is a link-local or cloud metadata address (allow with --webhook-allow-link-local)`
    : undefined;
}

/** Why a URL's host is refused before any lookup (a metadata name or address), or undefined. */
export function refusedHost(hostname: string): string | undefined {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (REFUSED_NAMES.has(host))
    return `${host} is a cloud metadata service (allow with --webhook-allow-link-local)`;
  return refusedAddress(host);
}
