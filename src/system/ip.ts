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
