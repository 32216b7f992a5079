import {mkdir, readFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import * as z from '../inventory/zod.js'
import {withFileLock} from '../system/file-lock.js'
import {writePrivate} from '../system/private-files.js'
import type {Health} from './model.js'

/** Where rise/fall counts live when the inventory does not say. */
export function defaultStateFile(platform: NodeJS.Platform = process.platform): string {
  // A folder of the watcher's own inside root's apply.dir: the watcher never gets a folder root writes in.
  return platform === 'openbsd' ? '/var/db/jproxy/probe/probe-state.json' : '/var/lib/jproxy/probe/probe-state.json'
}

const BackendState = z.object({
  changed: z.string(),
  failures: z.number().check(z.int(), z.gte(0)),
  state: z.enum(['down', 'up']),
  successes: z.number().check(z.int(), z.gte(0)),
})
export type BackendState = z.infer<typeof BackendState>

const StateFile = z.object({backends: z.record(z.string(), BackendState), version: z.literal(1)})
export type ProbeState = z.infer<typeof StateFile>

/** One backend after damping: the state traffic decisions use, and whether this run flipped it. */
export interface Damped extends BackendState {
  flipped: boolean
}

/**
 * HAProxy-style damping across runs: a backend goes down after `fall` failed probes in a row and
 * up after `rise` good ones; `transitional` counts as failed, `unknown` (cut by the deadline)
 * changes nothing (and a first sighting that is `unknown` gives no state at all). A backend seen
 * for the first time takes what was seen.
 */
export function damp(previous: BackendState | undefined, health: Health, limits: {fall: number; rise: number}, now: Date): Damped | undefined {
  if (health === 'unknown') return previous && {...previous, flipped: false}
  const good = health === 'up'
  // A new backend that is down is news (cron's --quiet must say so); one that is up is not.
  if (!previous) return {changed: now.toISOString(), failures: good ? 0 : 1, flipped: !good, state: good ? 'up' : 'down', successes: good ? 1 : 0}
  const successes = good ? previous.successes + 1 : 0
  const failures = good ? 0 : previous.failures + 1
  const flipsUp = previous.state === 'down' && successes >= limits.rise
  const flipsDown = previous.state === 'up' && failures >= limits.fall
  const flipped = flipsUp || flipsDown
  return {changed: flipped ? now.toISOString() : previous.changed, failures, flipped, state: flipsUp ? 'up' : flipsDown ? 'down' : previous.state, successes}
}

/**
 * A damped state on its way to flipping: `checks` of the `needed` checks in a row that flip it
 * `toward` the other state have been seen (down with good checks coming in, or up and failing).
 */
export interface PendingFlip {
  checks: number
  needed: number
  toward: 'down' | 'up'
}

/** How far a backend is from flipping, or undefined when its last check agreed with its state. */
export function pendingFlip(state: BackendState, limits: {fall: number; rise: number}): PendingFlip | undefined {
  if (state.state === 'down' && state.successes > 0) return {checks: state.successes, needed: limits.rise, toward: 'up'}
  if (state.state === 'up' && state.failures > 0) return {checks: state.failures, needed: limits.fall, toward: 'down'}
  return undefined
}

/**
 * Reads the state, lets `update` compute the next one and writes it back atomically, all under a
 * lock so concurrent runs (cron overlapping a manual run) apply their observations one after the
 * other. A missing file is an empty state; an unreadable or corrupt one is reported through
 * `warn` and rebuilt, never a crash.
 */
export async function updateStateFile<T>(path: string, warn: (message: string) => void, update: (state: ProbeState) => {result: T; state: ProbeState}): Promise<T> {
  await mkdir(dirname(path), {recursive: true})
  return withFileLock(`${path}.lock`, {staleMs: 120_000, waitMs: 10_000}, async () => {
    const {result, state} = update(await readProbeState(path, warn))
    // Root's probe and apply runs write here too, in the watcher's folder: never through a link.
    await writePrivate(path, `${JSON.stringify(state, null, 1)}\n`, 0o644)
    return result
  })
}

/** The damped states of the last probe runs; readers need no lock, since the file is renamed in whole. */
export async function readProbeState(path: string, warn: (message: string) => void): Promise<ProbeState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {backends: {}, version: 1}
    throw error
  }

  try {
    const parsed = StateFile.safeParse(JSON.parse(text))
    if (parsed.success) return parsed.data
    warn(`state file ${path} has an unexpected shape (${parsed.error.issues[0]?.message ?? 'invalid'}); rise/fall counts start afresh`)
  } catch (error) {
    warn(`state file ${path} is not valid JSON (${(error as Error).message}); rise/fall counts start afresh`)
  }

  return {backends: {}, version: 1}
}
