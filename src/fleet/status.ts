import type {ExitCodeName} from '../errors.js'
import type {PeerLink, PeersSection} from '../haproxy/peers.js'
import type {EtcdClient} from '../etcd/client.js'
import {type AgentReport, currentRollout, type FleetKeys, parseJson, type ProxyResult, type Rollout, type RolloutState, rolloutResults} from './rollout.js'

/** An agent not heard from for this many of its intervals counts as lost (drift). */
export const LOST_INTERVALS = 3

export interface ProxyStatus {
  /** Age of the agent's last report; undefined: never seen (or its lease expired). */
  lastSeenMs?: number
  /** The live config's sha256 as the agent last read it. */
  liveSha256?: string
  name: string
  /** Worth knowing but not drift, so the exit code does not change: a peer link down, HAProxy not answering its agent. */
  notes?: string[]
  /** HAProxy's peers sections and their links, as the agent last read them. */
  peers?: PeersSection[]
  /** Why this proxy is not converged, when it is not. */
  problem?: string
  /** The HAProxy master's reload count, as the agent last read it. */
  reloads?: number
  result?: ProxyResult
  /** The rollout it runs and the config digest it reported for it. */
  rollout?: number
  sha256?: string
  /** HAProxy's current worker, as the agent last read it. */
  workerPid?: number
}

export interface FleetStatus {
  code: ExitCodeName
  message: string
  proxies: ProxyStatus[]
  rollout?: {id: number; publishedAt: string; publisher: string; reason?: string; state: RolloutState; target: Rollout['target']}
}

/**
 * `jproxy fleet status`: per proxy of the current rollout, what it runs and reported, from etcd.
 * ok: every proxy runs the latest rollout with the live config it recorded; failure (1): drift (a
 * proxy behind, a live config edited since, an agent lost); refused (11): the rollout halted.
 */
export async function fleetStatus(options: {client: EtcdClient; keys: FleetKeys; now?: () => Date}): Promise<FleetStatus> {
  const {client, keys} = options
  const now = (options.now?.() ?? new Date()).getTime()
  const {rollout} = await currentRollout(client, keys)
  if (!rollout) return {code: 'ok', message: 'nothing published yet', proxies: []}
  const results = await rolloutResults(client, keys, rollout.id)
  const agents = new Map<string, AgentReport>()
  for (const kv of (await client.range(keys.agents, {prefix: true})).kvs) {
    const report = parseJson<AgentReport>(kv)
    if (report) agents.set(report.name, report)
  }

  const proxies = rollout.configs.map(({name}): ProxyStatus => {
    const agent = agents.get(name)
    const result = results.get(name)
    const lastSeenMs = agent ? Math.max(0, now - Date.parse(agent.at)) : undefined
    const status: ProxyStatus = {lastSeenMs, liveSha256: agent?.liveSha256, name, result, rollout: agent?.rollout, sha256: agent?.sha256}
    if (!agent) status.problem = 'agent never seen (or its lease expired)'
    else if (lastSeenMs! > LOST_INTERVALS * agent.intervalMs) status.problem = `agent last seen ${Math.round(lastSeenMs! / 1000)} s ago`
    else if (agent.rollout !== rollout.id) status.problem = `behind: runs rollout ${agent.rollout ?? 'none'}, the latest is ${rollout.id}`
    else if (agent.liveSha256 !== agent.sha256) status.problem = `the live config (sha256 ${short(agent.liveSha256)}) is not the one it applied: edited by hand?`
    if (agent && rollout.target === 'haproxy') Object.assign(status, haproxyStatus(agent))
    return status
  })
  const summary = {id: rollout.id, publishedAt: rollout.publishedAt, publisher: rollout.publisher, reason: rollout.reason, state: rollout.state, target: rollout.target}
  if (rollout.state === 'halted') return {code: 'refused', message: `rollout ${rollout.id} halted: ${rollout.reason}`, proxies, rollout: summary}
  const drift = proxies.filter((p) => p.problem)
  if (drift.length > 0) return {code: 'failure', message: `drift: ${drift.map((p) => `${p.name}: ${p.problem}`).join('; ')}`, proxies, rollout: summary}
  return {code: 'ok', message: `converged: every proxy runs rollout ${rollout.id}`, proxies, rollout: summary}
}

/** A digest as people compare them by eye (the JSON keeps the whole one). */
const short = (digest: string | undefined) => (digest === undefined ? 'unreadable' : digest.slice(0, 12))

/** What the agent read from HAProxy, and a note for each peer link that is not established or socket that did not answer. */
function haproxyStatus(agent: AgentReport): Pick<ProxyStatus, 'notes' | 'peers' | 'reloads' | 'workerPid'> {
  const notes: string[] = []
  if (agent.workerPid === undefined && agent.peers === undefined) notes.push('HAProxy did not answer')
  else if (agent.workerPid === undefined) notes.push('HAProxy\'s master CLI did not answer')
  else if (agent.peers === undefined) notes.push('HAProxy\'s admin socket did not answer')
  for (const {name, peer} of peerLinks(agent.peers ?? [])) {
    if (!peer.connected) notes.push(`peer ${name} not established`)
  }

  return {...(notes.length > 0 ? {notes} : {}), peers: agent.peers, reloads: agent.reloads, workerPid: agent.workerPid}
}

/** Every remote peer of `sections`, named `section/peer` only when there are several sections (jproxy's config has one). */
export function peerLinks(sections: PeersSection[]): Array<{name: string; peer: PeerLink}> {
  return sections.flatMap((section) => section.peers.map((peer) => ({name: sections.length > 1 ? `${section.name}/${peer.name}` : peer.name, peer})))
}
