import {relaydKeypair} from './keypair.js'
import {addressFamily} from './addresses.js'
import type {Diagnostic, RelaydConfig} from './model.js'

/** Rule ids of the Jitsi-specific checks; `--strict` turns their warnings into errors. */
export const JITSI_RULES = ['websockets', 'hash-key', 'hash-families', 'connection-close', 'colibri-exact', 'keypair-files', 'script-path'] as const

const WEBSOCKET_PATH = /xmpp-websocket|colibri-ws|colibri-relay-ws/
const COLIBRI_PATH = /^\/colibri(?:-relay)?-ws\//
const EXACT_COLIBRI_PATH = /^\/colibri(?:-relay)?-ws\/[^/*?[\]]+\/\*?$/
const HASHED = new Set(['hash', 'loadbalance', 'source-hash'])

/** Options of the Jitsi rules: the keypair check needs to look at files. */
export interface JitsiRuleOptions {
  checkFiles?: boolean
  fileExists?: (path: string) => boolean
}

/**
 * What breaks Jitsi behind relayd although relayd accepts it (jitsi.md §7, relayd.md §2):
 * websocket routes without `http websockets`, hashing without a fixed key or across address
 * families, `Connection: close` on upgrades, colibri routes that do not pin one server-id, and
 * TLS keypairs relayd will not find.
 */
export function checkJitsiRules(config: RelaydConfig, options: JitsiRuleOptions = {}): Diagnostic[] {
  const found: Diagnostic[] = []
  const warn = (rule: (typeof JITSI_RULES)[number], message: string, at: {file: string; line: number}) =>
    found.push({file: at.file, line: at.line, message, rule, severity: 'warning'})

  for (const protocol of config.protocols.values()) {
    for (const rule of protocol.rules) {
      const path = rule.path?.option === 'strip' ? undefined : rule.path?.key
      if (path !== undefined && WEBSOCKET_PATH.test(path) && !protocol.websockets) {
        warn('websockets', `websocket route "${path}" in protocol ${protocol.name} without "http websockets": relayd answers the upgrade with 403`, rule)
      }

      const {header} = rule
      if (header && (header.option === 'set' || header.option === 'append') && header.key?.toLowerCase() === 'connection' && /close/i.test(header.value ?? '')) {
        warn('connection-close', `rule sets "Connection: close": it breaks websocket upgrades and doubles the Connection header`, rule)
      }

      if (rule.forwardTo !== undefined && path !== undefined && COLIBRI_PATH.test(path) && !EXACT_COLIBRI_PATH.test(path)) {
        warn('colibri-exact', `colibri websocket route "${path}" does not name one exact server-id; a bridge refuses sockets meant for another`, rule)
      }
    }
  }

  for (const relay of config.relays) {
    for (const forward of relay.forwards) {
      // relayd runs check scripts with execlp from `/`: a bare name is looked up in relayd's PATH, a relative one under /.
      if (forward.script !== undefined && !forward.script.startsWith('/')) {
        warn('script-path', `check script "${forward.script}" is not an absolute path: relayd runs it from / (a bare name through its PATH)`, forward)
      }

      if (HASHED.has(forward.mode) && forward.hashKey === undefined) {
        warn('hash-key', `mode ${forward.mode} without a fixed key: relayd draws a new key at every load, so rooms change shards on reload and relayd hosts disagree`, forward)
      }
    }

    const families = new Set(relay.listens.map((l) => addressFamily(l.address)).filter((f) => f !== undefined))
    if (families.size > 1 && relay.forwards.some((f) => HASHED.has(f.mode))) {
      warn('hash-families', `relay ${relay.name} hashes with listeners in both address families; the hash includes the listen address, so IPv4 and IPv6 members of one room reach different shards`, relay)
    }

    if (options.checkFiles && options.fileExists) {
      const protocol = relay.protocol === undefined ? undefined : config.protocols.get(relay.protocol)
      for (const listen of relay.listens.filter((l) => l.tls)) {
        const names = protocol && protocol.keypairs.length > 0 ? protocol.keypairs : [listen.address]
        for (const name of names) {
          const files = relaydKeypair(name, listen.port, options.fileExists)
          const missing = files.tried.some((path) => options.fileExists!(path)) ? [files.key].filter((path) => !options.fileExists!(path)) : [files.tried.join(' or '), files.key]
          if (missing.length > 0) {
            warn('keypair-files', `keypair "${name}" for the TLS listener on port ${listen.port} not found: relayd reads ${missing.join(' and ')}`, listen)
          }
        }
      }
    }
  }

  return found
}
