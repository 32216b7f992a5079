import {expect} from 'chai'
import {Worker} from 'node:worker_threads'

import {ACCEPTED, INCLUDED} from './accepted-configs.js'
import {generateConfig, renderConfig, seededRandom} from './config-generator.js'
import {HOSTILE_TOKENS, MUTATION_INCLUDES, tokenize} from './mutation.js'
import type {MutationJob, MutationResult} from './mutation-worker.js'
import {REJECTED} from './rejected-configs.js'

// A new seed each run widens the search; JPROXY_SEED=<n> replays a failing run.
const SEED = Number(process.env.JPROXY_SEED ?? Math.floor(Math.random() * 2 ** 31))
const INPUTS = 3000
/** One input lints in well under 100 ms alone; the bound leaves room for a machine busy with other work. */
const PER_INPUT_MS = 2000

describe(`relayd lexer and parser under random token mutations (seed ${SEED}; replay with JPROXY_SEED=${SEED})`, function () {
  this.timeout(INPUTS * 50 + 30_000)

  it(`${INPUTS} mutated corpus files all end in findings or success, never an exception, each within ${PER_INPUT_MS} ms`, async () => {
    const corpus = [...ACCEPTED.map((c) => c.conf), ...REJECTED.map((c) => c.conf)]
    for (let i = 0; i < 20; i++) {
      const random = seededRandom(SEED + i)
      corpus.push(renderConfig(generateConfig(random, {size: 2}), random))
    }

    const pool = [...new Set(corpus.flatMap((text) => tokenize(text)).filter((t) => t.trim() !== '')), ...HOSTILE_TOKENS]
    const job: MutationJob = {corpus, count: INPUTS, files: {...INCLUDED, ...MUTATION_INCLUDES}, pool, seed: SEED}
    const results = await runWorker(job)
    expect(results).to.have.length(INPUTS)
    for (const result of results) {
      expect(result.error, `input ${result.index}:\n${result.text}`).to.equal(undefined)
      expect(result.elapsedMs, `input ${result.index}:\n${result.text}`).to.be.below(PER_INPUT_MS)
    }

    // The mutations broke most inputs: the property is not vacuous.
    expect(results.filter((r) => r.findings > 0).length).to.be.above(INPUTS / 2)
  })
})

/** Runs the job in a worker; an input that does not finish within PER_INPUT_MS fails the test with its text. */
function runWorker(job: MutationJob): Promise<MutationResult[]> {
  return new Promise((resolve, reject) => {
    // Node 20 workers do not inherit the tsx loader: the worker registers it before loading the TypeScript file.
    const script = new URL('mutation-worker.ts', import.meta.url).href
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}) })`
    const worker = new Worker(boot, {eval: true, workerData: job})
    const results: MutationResult[] = []
    let current = ''
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        void worker.terminate()
        reject(new Error(`an input did not finish within ${PER_INPUT_MS} ms:\n${current}`))
      }, PER_INPUT_MS)
    }

    worker.on('message', (message: MutationResult & {start?: boolean}) => {
      if (message.start) {
        current = message.text
        arm()
        return
      }

      results.push(message)
      if (results.length === job.count) {
        clearTimeout(timer)
        void worker.terminate().then(() => resolve(results))
      }
    })
    worker.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
