import type {Dispatcher} from 'undici'

import type {Inventory} from '../inventory/schema.js'
import type {ProbeResult, Role} from './model.js'
import {filterTargets, type ProbePlan, probePlan} from './plan.js'
import {runProbes} from './run.js'

/**
 * relayd's `check script` contract (relayd.conf(5)): the script gets the table host as its only
 * argument and relayd "expects a positive return value on success and zero on failure"; it is
 * killed after the table's timeout. So up exits 1 and down, or anything going wrong, exits 0.
 */
export const CHECK_SCRIPT_EXIT = {down: 0, up: 1} as const

/**
 * Part of relayd's timeout left for probing; the rest covers process start-up (bench/probe.ts),
 * since relayd kills the script at the timeout and reads that as down.
 */
const SHARE_OF_TIMEOUT = 0.5

export interface HostCheck {
  results: ProbeResult[]
  up: boolean
  why: string
}

export interface HostCheckOptions {
  dispatchers?: {http: Dispatcher; https: Dispatcher}
  host: string
  roles?: Role[]
  timeoutMs?: number
}

/**
 * Probes every backend of the inventory at `host` (narrowed by `roles`) without damping: relayd
 * counts retries itself. Up only when at least one backend matched and all of them are up.
 */
export async function checkHost(options: HostCheckOptions & {inventory: Inventory}): Promise<HostCheck> {
  return checkPlannedHost({...options, plan: probePlan(options.inventory)})
}

/** checkHost on a probe plan (the plan cache's, for the fast path). */
export async function checkPlannedHost(options: HostCheckOptions & {plan: ProbePlan}): Promise<HostCheck> {
  const {plan} = options
  const targets = filterTargets(plan.targets, {host: options.host, roles: options.roles})
  if (targets.length === 0) {
    const roles = options.roles && options.roles.length > 0 ? `${options.roles.join('/')} ` : ''
    return {results: [], up: false, why: `no ${roles}backend at ${options.host} in the inventory`}
  }

  const timeoutMs = options.timeoutMs ?? Math.max(100, Math.floor(plan.timeoutMs * SHARE_OF_TIMEOUT))
  const results = await runProbes(targets, {
    concurrency: targets.length,
    deadlineMs: timeoutMs + 50,
    dispatchers: options.dispatchers,
    domain: plan.domain,
    jvbStats: false,
    timeoutMs,
    webPath: plan.webPath,
  })
  const up = results.every((r) => r.health === 'up')
  return {results, up, why: results.map((r) => `${r.key} ${r.health}: ${r.reason}`).join('; ')}
}
