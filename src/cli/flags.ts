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
export const targetFlag = Flags.option({description: 'which proxy (default: relayd on OpenBSD, else haproxy)', helpValue: 'haproxy|relayd', options: ['haproxy', 'relayd'] as const})()

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

/**
 * `--ca FILE`: the CA certificates to trust instead of the system's, for requests through the
 * proxy (probe, apply, scale) and for chains and handshakes (validate tls, tls deploy).
 */
export const caFlag = Flags.string({description: "CA certificate(s) to trust instead of the system's (a private or test CA); overrides proxy.tls.ca", helpValue: 'FILE'})

/** `--max-sessions N`: relayd's reload cuts every open session, so a command that reloads it can be told how many it may cut. */
export const maxSessionsFlag = Flags.integer({description: 'relayd: refuse, changing nothing, when a reload would cut more open sessions than this', min: 0})

/** `--name`: validate tls and tls deploy check that the certificate covers it besides the public name. */
export const certificateNameFlag = Flags.string({description: 'another name the certificate must cover (repeatable), e.g. a TURN name sharing port 443', multiple: true})

/** `--ssl-dir`: relayd's keypair folder, as validate tls and tls deploy look for it. */
export const sslDirFlag = Flags.string({default: '/etc/ssl', description: 'where relayd reads keypairs (--target relayd)', helpValue: 'DIR'})

/** The PEM text of a `--ca FILE`; an unreadable file is an error naming it. */
export async function readCa(file?: string): Promise<string | undefined> {
  if (file === undefined) return undefined
  return readFile(file, 'utf8').catch((error: Error) => {
    throw new JproxyError('inputUnreadable', `--ca ${file}: ${error.message}`)
  })
}

/** `--proxy NAME`: one fleet proxy's view of the inventory (its own listen, targets, apply and probe). */
export const proxyFlag = Flags.string({description: "this fleet proxy's view: its own listen, targets, apply and probe (fleet.proxies[].name)", helpValue: 'NAME'})

/** `--strict`: the check's warnings (each command's help says which) fail it as errors do. */
export const strictFlag = Flags.boolean({description: 'treat warnings as errors'})
