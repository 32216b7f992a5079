import {ipVersion} from '../system/ip.js'

/**
 * What relayd's host() accepts without a live system: an IP literal, or a name that could be a
 * DNS name, an interface or an interface group. relayd resolves names at load time; a linter
 * cannot, so a well-formed name is taken on trust and a malformed one is refused.
 */
export function isHostAddress(value: string): boolean {
  if (ipVersion(value) !== 0) return true
  if (value.length === 0 || value.length > 255) return false
  const labels = value.replace(/\.$/, '').split('.')
  // All-numeric dotted names are broken IP literals (300.1.1.1), not names.
  if (labels.length > 1 && labels.every((label) => /^\d+$/.test(label))) return false
  return labels.every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))
}

/** The address family of an IP literal, or undefined for names. */
export function addressFamily(value: string): 4 | 6 | undefined {
  const family = ipVersion(value)
  return family === 4 || family === 6 ? family : undefined
}

/** Well-known services relayd's getservice() finds in /etc/services, for `port NAME`. */
export const SERVICES: Readonly<Record<string, number>> = {
  domain: 53,
  ftp: 21,
  http: 80,
  https: 443,
  imap: 143,
  imaps: 993,
  ldap: 389,
  ldaps: 636,
  ntp: 123,
  pop3: 110,
  pop3s: 995,
  smtp: 25,
  ssh: 22,
  submission: 587,
  www: 80,
}

/** HTTP methods relayd knows (relay_httpmethod_byname). */
export const HTTP_METHODS: ReadonlySet<string> = new Set([
  'ACL', 'BASELINE-CONTROL', 'CHECKIN', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LABEL', 'LOCK', 'MERGE',
  'MKACTIVITY', 'MKCOL', 'MKREDIRECTREF', 'MKWORKSPACE', 'MOVE', 'OPTIONS', 'ORDERPATCH', 'PATCH', 'POST', 'PROPFIND',
  'PROPPATCH', 'PUT', 'REPORT', 'SEARCH', 'TRACE', 'UNCHECKOUT', 'UNLOCK', 'UPDATE', 'UPDATEREDIRECTREF', 'VERSION-CONTROL',
])
