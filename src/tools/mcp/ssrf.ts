// SSRF guard for MCP servers: a client-supplied `server_url` must not make respd talk to its own host or
// network (loopback, private, link-local, unique-local, CGNAT, unspecified) unless the operator allows it
// (MCP_ALLOW_PRIVATE=1). Checked twice: at create time on the resolved addresses (a clear 400), and again
// on every connection the MCP client opens (a DNS answer may change between the two: rebinding).
import { lookup } from 'node:dns/promises';
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
  blocked.addSubnet(`::ffff:${net}`, 96 + prefix, 'ipv6'); // IPv4-mapped IPv6 reaches the same hosts
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return blocked.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** Host of a URL without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Why `serverUrl` is refused, or null when it may be used. Resolves the host name. */
export async function refusalReason(serverUrl: string, allowPrivate: boolean): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return `'${serverUrl.slice(0, 200)}' is not a valid URL.`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `Only http and https MCP servers are supported, not '${url.protocol}'.`;
  if (allowPrivate) return null;
  const host = hostOf(url);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (err) {
    return `The host '${host}' could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'DNS error'}).`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? `The MCP server '${host}' resolves to ${bad}, a loopback, private or link-local address; this server does not connect to those.` : null;
}

/** dns.lookup that refuses private answers, used for every connection the MCP client opens. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 4);
    const list = addresses as unknown as dns.LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(Object.assign(new Error(`refusing to connect to private address ${bad.address}`), { code: 'EPRIVATE' }), '', 4);
    if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

let guardedAgent: Agent | undefined;

/** A fetch for the MCP transports: public addresses only unless `allowPrivate`. */
export function mcpFetch(allowPrivate: boolean): typeof fetch {
  if (allowPrivate) return fetch;
  guardedAgent ??= new Agent({ connect: { lookup: guardedLookup } });
  const agent = guardedAgent;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const host = hostOf(url);
    // IP literals never reach the lookup hook.
    if (isIP(host) && isPrivateAddress(host)) throw new Error(`refusing to connect to private address ${host}`);
    return undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Response;
  }) as typeof fetch;
}
