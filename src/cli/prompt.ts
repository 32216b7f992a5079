import {createInterface} from 'node:readline/promises'

import {JproxyError} from '../errors.js'

export interface Question {
  /** Why an answer cannot be taken (it is asked again), or undefined to take it. */
  check?: (answer: string) => string | undefined
  fallback?: string
  question: string
}

/**
 * Questions on the terminal, each answer checked as it is given and asked again until it passes.
 * Lines are read through one iterator, which keeps answers typed or pasted ahead (readline's
 * question() drops lines that arrive while none is asked). An empty answer takes the default.
 * Ctrl-C ends the run at once (exit 130, as a shell reports a SIGINT death); Ctrl-D, the end of
 * input, ends it too (usage): an answer that never came is not taken as empty.
 */
export async function askAll(questions: readonly Question[]): Promise<string[]> {
  const rl = createInterface({input: process.stdin, output: process.stderr})
  let interrupted = false
  // Without a listener readline only pauses on Ctrl-C, and the pending read waits for ever.
  rl.on('SIGINT', () => {
    interrupted = true
    rl.close()
  })
  try {
    const lines = rl[Symbol.asyncIterator]()
    const answers: string[] = []
    for (const {check, fallback, question} of questions) {
      for (;;) {
        rl.setPrompt(fallback === undefined ? `${question}: ` : `${question} [${fallback}]: `)
        rl.prompt()
        const next = await lines.next()
        // The error goes on a line of its own, not after the prompt.
        if (interrupted || next.done) process.stderr.write('\n')
        if (interrupted) throw new JproxyError('interrupted', 'interrupted (Ctrl-C); nothing was written')
        if (next.done) throw new JproxyError('usage', `input ended (Ctrl-D) before "${question}" was answered; nothing was written`)
        const typed = String(next.value).trim()
        const answer = typed === '' ? (fallback ?? '') : typed
        const problem = check?.(answer)
        if (problem === undefined) {
          answers.push(answer)
          break
        }

        process.stderr.write(`  ${problem}; try again\n`)
      }
    }

    return answers
  } finally {
    rl.close()
  }
}
