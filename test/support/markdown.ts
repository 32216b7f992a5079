import {readFile} from 'node:fs/promises'

/** The fenced blocks of a Markdown page, in order: language tag and text. */
export async function fencedBlocks(page: string): Promise<Array<{lang: string; text: string}>> {
  const text = await readFile(page, 'utf8')
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({lang: m[1], text: m[2]}))
}
