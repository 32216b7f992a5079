import type {Inventory} from '../inventory/schema.js'
import {type BackendReport, type ProbeReport, stateReason} from '../probe/probe.js'

export interface GateVerdict {
  ok: boolean
  /** Why the config is refused: a required pool with no healthy member. */
  problems: string[]
  /** Unhealthy members that stay in the config (see the policy below). */
  warnings: string[]
}

const why = (b: BackendReport) => {
  const reason = stateReason(b)
  return `${b.key} ${b.state}${reason ? ` (${reason})` : ''}`
}

/**
 * Required pools must each have a member that is up after rise/fall damping: the web nodes,
 * and every shard's prosody (a shard without it loses every room hashed to it). Policy for
 * everything else, videobridges included: unhealthy members stay in the rendered config,
 * because the proxy's own health checks keep them out of rotation and bring them back without
 * another apply, and a health change alone then never rewrites the config (nor reloads relayd).
 * They are listed as warnings.
 */
export function healthGate(inventory: Inventory, report: ProbeReport): GateVerdict {
  const byKey = new Map(report.backends.map((b) => [b.key, b]))
  const problems: string[] = []
  const refused = new Set<string>()
  const web = inventory.web.map((w) => byKey.get(`web/${w.name}`)).filter((b) => b !== undefined)
  if (!web.some((b) => b.state === 'up')) {
    problems.push(`no web node is up: ${web.map((b) => why(b)).join('; ')}`)
    for (const b of web) refused.add(b.key)
  }

  for (const shard of inventory.shards) {
    const prosody = byKey.get(`prosody/${shard.name}`)
    if (prosody && prosody.state !== 'up') {
      problems.push(`shard ${shard.name} has no prosody up: ${why(prosody)}`)
      refused.add(prosody.key)
    }
  }

  const warnings = report.backends
    .filter((b) => b.role !== 'proxy' && b.state !== 'up' && !refused.has(b.key))
    .map((b) => `${why(b)}: kept in the config; the proxy's health checks keep it out of rotation`)
  return {ok: problems.length === 0, problems, warnings}
}
