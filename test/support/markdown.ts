import {readFile} from 'node:fs/promises'

/** The fenced blocks of a Markdown page, in order: language tag and text. */
export async function fencedBlocks(page: string): Promise<Array<{lang: string; text: string}>> {
  const text = await readFile(page, 'utf8')
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({lang: m[1], text: m[2]}))
}

/** The text of the fenced block right after the line `<!-- MARK -->` in the page; fails naming both when there is none. */
export async function markedBlock(page: string, mark: string): Promise<string> {
  const text = await readFile(page, 'utf8')
  const escaped = mark.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`^<!-- ${escaped} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(text)
  if (!match) throw new Error(`${page} has no block marked "${mark}"`)
  return match[1]
}
