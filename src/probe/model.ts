/** The roles jproxy probes; `proxy` is the end-to-end check through the proxy itself. */
export const ROLES = ['web', 'prosody', 'jicofo', 'jvb', 'proxy'] as const
export type Role = (typeof ROLES)[number]

/** One backend to probe, as the inventory describes it. */
export interface ProbeTarget {
  address: string
  /** JVB: the colibri websocket port whose reachability is checked too. */
  colibriPort?: number
  id: string
  /** Stable name across runs: `role/id` or `jvb/shard/id`; the state file is keyed by it. */
  key: string
  port: number
  role: Role
  /** Proxy: the public name sent as SNI and Host. */
  servername?: string
  shard?: string
}

/**
 * `transitional` is jicofo's 503: starting or stopping, not fit for traffic yet not broken.
 * `unknown`: the run's deadline came first, so this run says nothing about the backend.
 */
export type Health = 'down' | 'transitional' | 'unknown' | 'up'

/** One request or connection of a probe. */
export interface CheckResult {
  latencyMs: number
  name: string
  ok: boolean
  reason: string
  status?: number
  /** TLS failed because this run does not trust the proxy's CA (no proxy.tls.ca or --ca for a private one). */
  untrustedCa?: true
}

/** What one run saw of one backend, before damping. */
export interface ProbeResult extends ProbeTarget {
  checks: CheckResult[]
  /** JVB: `/colibri/drain` says no new conferences. */
  drain?: boolean
  health: Health
  /** Status of the check that decides health. */
  httpStatus?: number
  latencyMs: number
  /** JVB with jvbStats: current participants from `/colibri/stats`. */
  participants?: number
  reason: string
}
