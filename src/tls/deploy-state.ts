import {readFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {ensurePrivateDir, writePrivate} from '../system/private-files.js'
import * as z from '../inventory/zod.js'
import type {CertificateSummary} from './certificate.js'

/** What the deploy metrics need across runs: the last success, and what is served since. */
const DeployState = z.object({
  lastRunAt: z.optional(z.string()),
  lastSuccess: z.optional(z.boolean()),
  lastSuccessAt: z.optional(z.string()),
  /** The certificate the last successful deploy put in place. */
  notAfter: z.optional(z.string()),
  serial: z.optional(z.string()),
})
export type DeployState = z.infer<typeof DeployState>

/** Reads the state (missing or unreadable: empty), applies this run, writes it back. */
export async function recordDeployState(path: string, run: {at: Date; certificate?: CertificateSummary; success: boolean}): Promise<DeployState> {
  const text = await readFile(path, 'utf8').catch(() => '{}')
  let previous: DeployState
  try {
    previous = DeployState.parse(JSON.parse(text))
  } catch {
    previous = {}
  }

  const state: DeployState = {
    lastRunAt: run.at.toISOString(),
    lastSuccess: run.success,
    lastSuccessAt: run.success ? run.at.toISOString() : previous.lastSuccessAt,
    notAfter: run.success ? run.certificate?.notAfter : previous.notAfter,
    serial: run.success ? run.certificate?.serial : previous.serial,
  }
  await ensurePrivateDir(dirname(path))
  await writePrivate(path, `${JSON.stringify(state)}\n`, 0o644)
  return state
}
