import {createInterface} from 'node:readline/promises'

/** One question on the terminal; an empty answer takes the default. */
export async function ask(question: string, fallback?: string): Promise<string> {
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = (await rl.question(fallback === undefined ? `${question}: ` : `${question} [${fallback}]: `)).trim()
    return answer === '' ? (fallback ?? '') : answer
  } finally {
    rl.close()
  }
}
