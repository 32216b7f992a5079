/**
 * Runs in a worker thread for the mutation property test, so a linter that loops forever is
 * stopped by the test's deadline instead of hanging mocha. Posts one result per input.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {lintRelaydConf} from '../../src/relayd/lint.js'
import {seededRandom} from './config-generator.js'
import {mutateText} from './mutation.js'

export interface MutationJob {
  corpus: string[]
  count: number
  files: Record<string, string>
  pool: string[]
  seed: number
}

export type MutationResult = {elapsedMs: number; error?: string; findings: number; index: number; text: string}

const job = workerData as MutationJob
const random = seededRandom(job.seed)
for (let index = 0; index < job.count; index++) {
  const base = job.corpus[Math.floor(random() * job.corpus.length)]
  const text = mutateText(base, random, job.pool, 1 + Math.floor(random() * 4))
  // The worker posts before it lints, so the input that never returns is the last one the test saw.
  parentPort!.postMessage({index, start: true, text})
  const started = performance.now()
  let result: MutationResult
  try {
    const findings = lintRelaydConf(text, {file: 'mutated.conf', readFile: (path) => job.files[path]})
    result = {elapsedMs: performance.now() - started, findings: findings.length, index, text}
  } catch (error) {
    result = {elapsedMs: performance.now() - started, error: (error as Error).stack ?? String(error), findings: 0, index, text}
  }

  parentPort!.postMessage(result)
}
