import {Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'

import {JproxyError} from '../errors.js'
import {parseDuration} from '../inventory/duration.js'
import {DEFAULT_INVENTORY} from '../inventory/default-path.js'

/** `--inventory/-i`, shared by every command that reads the inventory. */
export const inventoryFlag = Flags.string({
  char: 'i',
  default: DEFAULT_INVENTORY,
  description: 'inventory file (YAML)',
  env: 'JPROXY_INVENTORY',
  helpValue: 'FILE',
})

/** `--format human|nagios`: nagios follows the plugin API (exit 0-3, UNKNOWN when the check cannot run). */
export const formatFlag = Flags.option({default: 'human', description: 'output format', options: ['human', 'nagios'] as const})()

/** `--prom-file`: node_exporter textfile metrics, written to a temporary file and renamed over. */
export const promFileFlag = Flags.string({description: 'also write node_exporter textfile metrics here (write, then rename)', helpValue: 'PATH'})

/** A duration flag (`500ms`, `2s`, `1m`), parsed to milliseconds like the inventory's. */
export const duration = Flags.custom<number>({
  helpValue: 'DURATION',
  async parse(input) {
    const ms = parseDuration(input)
    if (ms === undefined) throw new Error(`"${input}" is not a duration such as 500ms, 2s or 1m`)
    return ms
  },
})

/** The proxy a command acts on when not told: relayd on OpenBSD, HAProxy elsewhere. */
export function defaultTarget(target?: string): 'haproxy' | 'relayd' {
  return (target as 'haproxy' | 'relayd' | undefined) ?? (process.platform === 'openbsd' ? 'relayd' : 'haproxy')
}

/** `--target haproxy|relayd`: how every command that acts on a running proxy is told which one. */
export const targetFlag = Flags.option({description: 'which proxy (default: relayd on OpenBSD, else haproxy)', helpValue: 'haproxy|relayd', options: ['haproxy', 'relayd'] as const})

/**
 * The target given the old way, as a positional argument (`jproxy apply haproxy`), still works but
 * says so once on stderr; given both ways, the two must agree.
 */
export function targetFromArgs(flag: string | undefined, positional: string | undefined, warn: (message: string) => void): 'haproxy' | 'relayd' {
  if (positional !== undefined) {
    if (flag !== undefined && flag !== positional) throw new JproxyError('usage', `the target is given twice and differs: ${positional} and --target ${flag}`)
    warn(`the target as an argument is deprecated; use --target ${positional}`)
  }

  return defaultTarget(flag ?? positional)
}

/** `--ca FILE`: a private CA for requests through the proxy (probe, apply, scale). */
export const caFlag = Flags.string({description: 'CA certificate(s) to trust for requests through the proxy (a private CA)', helpValue: 'FILE'})

/** The PEM text of a `--ca FILE`; an unreadable file is an error naming it. */
export async function readCa(file?: string): Promise<string | undefined> {
  if (file === undefined) return undefined
  return readFile(file, 'utf8').catch((error: Error) => {
    throw new JproxyError('inputUnreadable', `--ca ${file}: ${error.message}`)
  })
}
