import {lstat} from 'node:fs/promises'

import {JproxyError} from '../errors.js'
import {isHostname} from '../inventory/schema.js'
import {ipVersion} from '../system/ip.js'
import {parseEndpoint} from './starter.js'

/** The answers `init` asks for, by the flag that can give each instead. */
export type AnswerName = 'domain' | 'jvb' | 'listen' | 'prosody' | 'web'

/*
 * The inventory schema's own rules (fully qualified domain, IPv4 listen address, IP literal or
 * hostname), checked as each answer is given, so a typo is asked again rather than reported at
 * the end against a file that was never written.
 */
function addressProblem(value: string): string | undefined {
  const {address, port} = parseEndpoint(value)
  if (ipVersion(address) === 0 && !isHostname(address)) return `${address} is not an IP address or a hostname`
  if (port !== undefined && (port < 1 || port > 65_535)) return `port ${port} is not between 1 and 65535`
  return undefined
}

/** Why `value` cannot be the answer to `name`, or undefined when it can. */
export function answerProblem(name: AnswerName, value: string): string | undefined {
  switch (name) {
    case 'domain': {
      return isHostname(value) && value.includes('.') ? undefined : `${value || 'an empty name'} is not a fully qualified domain name (e.g. meet.example.org)`
    }

    case 'jvb': {
      // Empty: a shard without a videobridge yet.
      return value === '' ? undefined : addressProblem(value)
    }

    case 'listen': {
      return ipVersion(value) === 4 ? undefined : `${value || 'an empty answer'} is not an IPv4 address (e.g. 192.0.2.10)`
    }

    default: {
      return value === '' ? 'an address is needed' : addressProblem(value)
    }
  }
}

/**
 * Refuses an existing `file` (a dangling symlink counts) unless `force`: checked before the first
 * question, so nobody answers them all to be told at the end.
 */
export async function refuseExisting(file: string, force: boolean): Promise<void> {
  if (force) return
  const there = await lstat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
  )
  if (there) throw new JproxyError('initExists', `${file} exists; not overwritten (use --force to replace it)`, {file})
}
