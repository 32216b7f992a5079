import {JproxyError} from '../errors.js'
import {parseRelaydSessions, parseRelayctlTable} from '../relayd/relayctl.js'
import type {CommandRunner} from '../system/command.js'
import type {ReloadOutcome} from './haproxy-reload.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Sessions relayd is relaying now: every one of them is cut by a reload. */
export async function runningSessions(run: CommandRunner): Promise<number> {
  const result = await run(['relayctl', 'show', 'sessions'], {timeoutMs: 10_000})
  if (result.missing) throw new JproxyError('usage', 'relayctl is not installed here: apply and scale for relayd run on the relayd host')
  if (result.code !== 0) throw new Error(`relayctl show sessions exited ${result.code}: ${result.stderr.trim()}`)
  return parseRelaydSessions(result.stdout).filter((s) => s.running).length
}

/** Relay names a rendered relayd.conf declares. */
export function declaredRelays(config: string): string[] {
  return [...config.matchAll(/^relay\s+"?([^"\s{]+)"?/gm)].map((m) => m[1])
}

/**
 * `relayctl reload` (or the inventory's command) returns at once and says nothing, so the proof
 * is `relayctl show summary` listing every relay of the new config as active, within the timeout.
 */
export async function reloadRelayd(config: string, options: {reload?: readonly string[]; run: CommandRunner; timeoutMs: number}): Promise<ReloadOutcome> {
  const argv = options.reload ?? ['relayctl', 'reload']
  const result = await options.run(argv, {timeoutMs: options.timeoutMs})
  if (result.code !== 0) return {detail: `${argv.join(' ')} exited ${result.code}: ${result.stderr.trim()}`, method: 'command', ok: false}
  const wanted = declaredRelays(config)
  const deadline = Date.now() + options.timeoutMs
  let missing = wanted
  while (Date.now() < deadline) {
    await sleep(250)
    const summary = await options.run(['relayctl', 'show', 'summary'], {timeoutMs: 10_000})
    if (summary.code !== 0) continue
    const active = new Set(parseRelayctlTable(summary.stdout).filter((e) => e.type === 'relay' && e.status === 'active').map((e) => e.name))
    missing = wanted.filter((name) => !active.has(name))
    if (missing.length === 0) return {detail: `relays ${wanted.join(', ')} active`, method: 'command', ok: true}
  }

  return {detail: `relays not active ${options.timeoutMs} ms after the reload: ${missing.join(', ')}`, method: 'command', ok: false}
}
