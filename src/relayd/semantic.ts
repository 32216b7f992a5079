import type {Diagnostic, RelaydConfig} from './model.js'

/** relayd refuses to start a relay whose table has more hosts than this (RELAY_MAXHOSTS). */
export const RELAY_MAX_HOSTS = 32

/**
 * The checks relayd makes once the whole file is read (load_config), plus what relayd does not
 * check but gets wrong at run time: tables over 32 hosts (a fatal at relay start, not a parse
 * error), rule tables a relay does not forward to (silently ignored), `:` in table names, and
 * globals after the first section (relayd's first pass, which sizes prefork, stops there).
 */
export function checkLoaded(config: RelaydConfig, file: string): Diagnostic[] {
  const found: Diagnostic[] = []
  const add = (severity: Diagnostic['severity'], rule: string, message: string, at: {file: string; line: number} = {file, line: 0}) =>
    found.push({file: at.file, line: at.line, message, rule, severity})

  if (config.relays.length === 0 && config.redirects.length === 0 && config.routers.length === 0) {
    add('error', 'semantic', 'no actions, nothing to do')
  }

  const intervalMs = config.intervalSeconds * 1000
  if (config.globalTimeoutMs >= intervalMs) {
    const at = config.globals.findLast((g) => g.keyword === 'timeout') ?? config.globals.findLast((g) => g.keyword === 'interval')
    add('error', 'semantic', 'global timeout exceeds interval', at)
  }

  for (const global of config.globals) {
    const section = config.firstSection
    if (section && (global.file !== section.file || global.line > section.line)) {
      add('warning', 'globals-order', `global option "${global.keyword}" comes after the first section (line ${section.line}); relayd's first pass, which sizes prefork, does not see it`, global)
    }
  }

  for (const table of config.tables.values()) {
    if (table.name.includes(':')) add('error', 'table-name', `table name ${table.name} contains ":"; relayd appends ":port" to table names and cuts them at the first ":"`, table)
  }

  for (const relay of config.relays) {
    for (const forward of relay.forwards) {
      const template = config.tables.get(forward.table)
      if (!template) continue
      if ((forward.timeoutMs ?? template.timeoutMs) >= intervalMs) add('error', 'semantic', `table timeout exceeds interval: ${forward.table}:${forward.port}`, forward)
      if (template.hosts.length > RELAY_MAX_HOSTS) {
        add('error', 'relay-max-hosts', `table ${forward.table} has ${template.hosts.length} hosts; a relay table may have at most ${RELAY_MAX_HOSTS} (relayd exits at start)`, forward)
      }
    }

    const protocol = relay.protocol === undefined ? undefined : config.protocols.get(relay.protocol)
    for (const rule of protocol?.rules ?? []) {
      if (rule.forwardTo !== undefined && !relay.forwards.some((f) => f.table === rule.forwardTo)) {
        add('error', 'rule-table', `relay ${relay.name} has no "forward to <${rule.forwardTo}>", so relayd ignores this rule of protocol ${protocol!.name} there`, rule)
      }
    }
  }

  for (const protocol of config.protocols.values()) {
    if (!protocol.used) add('warning', 'unused-protocol', `unused protocol: ${protocol.name}`, protocol)
  }

  return found
}
