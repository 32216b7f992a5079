import {createInterface} from 'node:readline/promises'

/**
 * Questions on the terminal. Lines are read through one iterator, which keeps answers typed or
 * pasted ahead (readline's question() drops lines that arrive while none is asked). An empty
 * answer, or the end of input, takes the default.
 */
export async function askAll(questions: ReadonlyArray<{fallback?: string; question: string}>): Promise<string[]> {
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const lines = rl[Symbol.asyncIterator]()
    const answers: string[] = []
    for (const {fallback, question} of questions) {
      rl.setPrompt(fallback === undefined ? `${question}: ` : `${question} [${fallback}]: `)
      rl.prompt()
      const next = await lines.next()
      const answer = next.done ? '' : String(next.value).trim()
      answers.push(answer === '' ? (fallback ?? '') : answer)
    }

    return answers
  } finally {
    rl.close()
  }
}
