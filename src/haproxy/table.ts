/**
 * The runtime API's `show table` answers, as HAProxy 2.6 prints them (management guide, "show
 * table"; src/stick_table.c's table_dump_head_to_buffer and table_dump_entry_to_buffer):
 *
 *   # table: be_prosody, type: string, size:200000, used:2
 *   0x7fe1380470b0: key=acme/room1 use=0 exp=299991 server_id=2 server_key=-
 *   0x7fe1380473d0: key=room3 use=0 exp=299990 server_id=4 server_key=-
 *
 * `show table` alone prints only the header of every table; `show table NAME [key K]` adds the
 * entries. Several commands in one line (`a;b`) answer one block each; a key that is not in
 * the table answers an empty line, without a header.
 */

export interface TableEntry {
  /** The stored data (`server_id`, `server_key`, counters), as printed. */
  data: Record<string, string>
  /** Milliseconds until the entry expires unless it is used again (`exp`). */
  expiresInMs: number
  key: string
}

export interface TableBlock {
  /** The entries printed after this header (none for a bare `show table`). */
  entries: TableEntry[]
  name: string
  size: number
  type: string
  /** Entries the table holds: the whole count, whatever was printed. */
  used: number
}

const HEADER = /^# table: (\S+?), type: (\S+?), size:(\d+), used:(\d+)/
// A string key may hold spaces: it ends at the ` use=` that HAProxy prints after it.
const ENTRY = /^0x[\da-f]+: key=(.*?) use=\d+ exp=(\d+)(.*)$/i
const DATUM = /(\S+?)=(\S*)/g

/** Every table block of a `show table` answer, in order; empty for an answer with none (a key not found). Throws on a CLI error. */
export function parseShowTable(text: string): TableBlock[] {
  const blocks: TableBlock[] = []
  for (const line of text.split('\n')) {
    const head = HEADER.exec(line)
    if (head) {
      blocks.push({entries: [], name: head[1], size: Number(head[3]), type: head[2], used: Number(head[4])})
      continue
    }

    const entry = ENTRY.exec(line)
    if (entry) {
      const block = blocks.at(-1)
      if (!block) throw new Error(`not a "show table" answer (an entry before any header): ${text.slice(0, 200)}`)
      const data = Object.fromEntries([...entry[3].matchAll(DATUM)].map((m) => [m[1], m[2]]))
      block.entries.push({data, expiresInMs: Number(entry[2]), key: entry[1]})
      continue
    }

    // "No such table", "Unknown command", "Can't find the target PID …" from the master CLI.
    if (line.trim() !== '') throw new Error(`not a "show table" answer: ${line.slice(0, 200)}`)
  }

  return blocks
}

/** The one table named `name` of a bare `show table` answer (headers only), or undefined when HAProxy has none by that name. */
export function tableHeader(text: string, name: string): TableBlock | undefined {
  return parseShowTable(text).find((b) => b.name === name)
}

/**
 * Whether a key can be written on a CLI line as it is. HAProxy splits a line on `;` and words on
 * blanks, and reads `\` as an escape; Jitsi's room keys (a query parameter) hold none of them.
 */
export const plainKey = (key: string) => /^[!-~]+$/.test(key) && !/[;\\#]/.test(key)
