import {type FleetStatus, peerLinks, type ProxyStatus} from '../fleet/status.js'

/**
 * `fleet status` as text: the rollout, one line per proxy (what it runs; with HAProxy its worker,
 * reloads and peer links; when its agent was seen; then its drift and its notes), and the summary.
 */
export function formatFleetStatus(status: FleetStatus): string {
  const {rollout} = status
  const head = rollout ? [`rollout ${rollout.id}: ${rollout.state} (published ${rollout.publishedAt} by ${rollout.publisher})`] : []
  const haproxy = rollout?.target === 'haproxy'
  return [...head, ...status.proxies.map((p) => proxyLine(p, haproxy)), status.message].join('\n') + '\n'
}

function proxyLine(p: ProxyStatus, haproxy: boolean): string {
  const seen = p.lastSeenMs === undefined ? 'never seen' : `seen ${Math.round(p.lastSeenMs / 1000)} s ago`
  const facts = haproxy ? ` worker ${p.workerPid ?? '-'} reloads ${p.reloads ?? '-'} peers ${links(p)}` : ''
  const problem = p.problem ? `: ${p.problem}` : ''
  const notes = p.notes ? `; note: ${p.notes.join('; ')}` : ''
  return `${p.name}: rollout ${p.rollout ?? '-'} sha256 ${p.sha256?.slice(0, 12) ?? '-'}${facts} ${seen}${problem}${notes}`
}

/** `b:up,c:down/CONN`: each remote peer's link, with its last status when down; `-` when HAProxy did not say. */
function links(p: ProxyStatus): string {
  if (!p.peers) return '-'
  const all = peerLinks(p.peers).map(({name, peer}) => `${name}:${peer.connected ? 'up' : `down/${peer.status}`}`)
  return all.length > 0 ? all.join(',') : 'none'
}
