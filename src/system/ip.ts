/*
 * IP literal checks with the same answers as node:net's isIP, without loading node:net: the hot
 * commands (gen, validate config) check every address of the inventory, and node:net with its
 * IPv6 regex costs them more start-up time and memory than all of their own checks.
 */

const IPV4_PART = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/
const IPV6_GROUP = /^[0-9A-Fa-f]{1,4}$/
/** A scope (zone) id after `%`, as node:net accepts it: `fe80::1%eth0`. */
const ZONE = /^[0-9A-Za-z.:-]+$/

/** Dotted-quad IPv4, no leading zeros (`10.0.0.1`, not `10.0.0.01`). */
export function isIPv4(value: string): boolean {
  const parts = value.split('.')
  return parts.length === 4 && parts.every((part) => IPV4_PART.test(part))
}

/** IPv6 with at most one `::`, an optional IPv4 tail (`::ffff:10.0.0.1`) and an optional `%zone`. */
export function isIPv6(value: string): boolean {
  const percent = value.indexOf('%')
  if (percent !== -1 && !ZONE.test(value.slice(percent + 1))) return false
  const halves = (percent === -1 ? value : value.slice(0, percent)).split('::')
  if (halves.length > 2) return false
  const groupsOf = (text: string) => (text === '' ? [] : text.split(':'))
  const head = groupsOf(halves[0])
  const tail = halves.length === 2 ? groupsOf(halves[1]) : []
  // An IPv4 tail may only end the address: last of the part after `::`, or of the whole.
  const last = halves.length === 2 ? tail : head
  let groups = 0
  for (const [index, group] of [...head, ...tail].entries()) {
    if (IPV6_GROUP.test(group)) groups += 1
    else if (index === head.length + tail.length - 1 && last.length > 0 && isIPv4(group)) groups += 2
    else return false
  }

  return halves.length === 2 ? groups <= 7 : groups === 8
}

/** 4 or 6 for an IP literal of that version, 0 for anything else: node:net's isIP. */
export function ipVersion(value: string): 0 | 4 | 6 {
  if (isIPv4(value)) return 4
  return isIPv6(value) ? 6 : 0
}

/** An IP literal as a number (32 or 128 bits) and its version; undefined for anything else. A zone is ignored. */
export function ipNumber(value: string): undefined | {bits: bigint; version: 4 | 6} {
  const version = ipVersion(value)
  if (version === 4) return {bits: value.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n), version}
  if (version === 0) return undefined
  const plain = value.split('%')[0]
  const [head, tail] = plain.includes('::') ? plain.split('::') : [plain, undefined]
  const words = (text: string | undefined) =>
    (text ? text.split(':') : []).flatMap((group) => {
      if (!group.includes('.')) return [Number.parseInt(group, 16)]
      const v4 = Number(ipNumber(group)!.bits)
      return [Math.floor(v4 / 65_536), v4 % 65_536]
    })
  const [first, last] = [words(head), words(tail)]
  const all = tail === undefined ? first : [...first, ...Array.from({length: 8 - first.length - last.length}, () => 0), ...last]
  return {bits: all.reduce((n, word) => (n << 16n) | BigInt(word), 0n), version: 6}
}

/** A network as `ADDRESS/BITS` (`10.20.0.0/16`, `2001:db8::/32`); undefined unless both parts are valid. */
export function parseCidr(value: string): undefined | {base: bigint; prefix: number; version: 4 | 6} {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value)
  const ip = match ? ipNumber(match[1]) : undefined
  if (!match || !ip || value.includes('%')) return undefined
  const prefix = Number(match[2])
  const width = ip.version === 4 ? 32 : 128
  if (prefix > width) return undefined
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix)
  return {base: ip.bits & mask, prefix, version: ip.version}
}

/** Whether the IP literal `address` is inside the network `cidr` (false for a hostname or another IP version). */
export function cidrContains(cidr: string, address: string): boolean {
  const network = parseCidr(cidr)
  const ip = ipNumber(address)
  if (!network || !ip || network.version !== ip.version) return false
  const width = ip.version === 4 ? 32 : 128
  return ip.bits >> BigInt(width - network.prefix) === network.base >> BigInt(width - network.prefix)
}
