import {readFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import * as z from '../inventory/zod.js'
import {appendPrivate, ensurePrivateDir, writePrivate} from '../system/private-files.js'

/** What survives between runs for the metrics: the reload count and the last success. */
const Counters = z.object({
  lastRunAt: z.optional(z.string()),
  lastSuccess: z.optional(z.boolean()),
  lastSuccessAt: z.optional(z.string()),
  reloads: z._default(z.number().check(z.int(), z.gte(0)), 0),
})
export type Counters = z.infer<typeof Counters>

/** One line of the history log. */
export interface HistoryEntry {
  at: string
  changed: boolean
  /** The command, when not `apply` (e.g. `tls deploy`). */
  command?: string
  durationMs: number
  exitCode: number
  message: string
  outcome: string
  reloads: number
  /** `tls deploy`: the serial of the certificate it deployed (or refused). */
  serial?: string
  sha256: string
  target: string
}

export async function appendHistory(path: string, entry: HistoryEntry): Promise<void> {
  await ensurePrivateDir(dirname(path))
  // One write of one line with O_APPEND: concurrent runs of other targets never interleave within it.
  await appendPrivate(path, `${JSON.stringify(entry)}\n`)
}

/** Reads the counters (missing or unreadable: start at zero), applies this run, writes them back. */
export async function updateCounters(path: string, run: {at: Date; reloads: number; success: boolean}): Promise<Counters> {
  const text = await readFile(path, 'utf8').catch(() => '{}')
  let previous: Counters
  try {
    previous = Counters.parse(JSON.parse(text))
  } catch {
    previous = Counters.parse({})
  }

  const counters: Counters = {
    lastRunAt: run.at.toISOString(),
    lastSuccess: run.success,
    lastSuccessAt: run.success ? run.at.toISOString() : previous.lastSuccessAt,
    reloads: previous.reloads + run.reloads,
  }
  await ensurePrivateDir(dirname(path))
  await writePrivate(path, `${JSON.stringify(counters)}\n`, 0o644)
  return counters
}
