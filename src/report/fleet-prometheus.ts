import {ROLLOUT_STATES} from '../fleet/rollout.js'
import type {FleetStatus, ProxyStatus} from '../fleet/status.js'
import {gauge, type MetricRow} from './prometheus.js'

/**
 * The textfile metrics of one `fleet status` run. `status` undefined: etcd could not be asked, and
 * the file says only that (`jproxy_fleet_etcd_up 0`) and when, so an alert on it fires and no series
 * of an earlier run lingers. Labels: proxy (its fleet name); section and peer for a peer link.
 */
export function formatFleetPrometheus(status: FleetStatus | undefined, runAt: Date): string {
  const proxies = status?.proxies ?? []
  const rollout = status?.rollout
  const labels = (p: ProxyStatus) => ({proxy: p.name})
  const links = proxies.flatMap((p) =>
    (p.peers ?? []).flatMap((section) => section.peers.map((peer): MetricRow => [{...labels(p), section: section.name, peer: peer.name}, peer.connected ? 1 : 0])),
  )
  return [
    ...gauge('jproxy_fleet_etcd_up', 'Whether fleet status could read the fleet from etcd (1) or not (0).', [[{}, status ? 1 : 0]]),
    ...gauge('jproxy_fleet_rollout_id', 'The current rollout\'s number.', rollout ? [[{}, rollout.id]] : []),
    ...gauge(
      'jproxy_fleet_rollout_state',
      'The current rollout\'s state: 1 for the one it is in, 0 for the others.',
      rollout ? ROLLOUT_STATES.map((state) => [{state}, state === rollout.state ? 1 : 0]) : [],
    ),
    ...gauge('jproxy_fleet_proxy_rollout', 'The rollout the proxy\'s agent last applied (0: none).', proxies.map((p) => [labels(p), p.rollout ?? 0])),
    ...gauge(
      'jproxy_fleet_proxy_converged',
      'Whether the proxy runs the latest rollout with the live config it applied and its agent is seen (1), or drifts (0).',
      proxies.map((p) => [labels(p), p.problem ? 0 : 1]),
    ),
    ...gauge(
      'jproxy_fleet_agent_last_seen_seconds',
      'Age of the proxy agent\'s last report (+Inf: never seen, or its lease expired).',
      proxies.map((p) => [labels(p), p.lastSeenMs === undefined ? Infinity : p.lastSeenMs / 1000]),
    ),
    ...gauge(
      'jproxy_fleet_haproxy_reloads',
      'The HAProxy master\'s reload count on the proxy, as its agent last read it.',
      proxies.filter((p) => p.reloads !== undefined).map((p) => [labels(p), p.reloads!]),
    ),
    ...gauge('jproxy_fleet_peer_up', 'Whether the proxy\'s HAProxy peer link is established (1) or not (0), as its agent last read it.', links),
    ...gauge('jproxy_fleet_last_run_timestamp_seconds', 'When fleet status last ran.', [[{}, Math.round(runAt.getTime() / 1000)]]),
  ].join('\n') + '\n'
}
