import {socketCommand} from '../../src/haproxy/socket.js'
import {tableHeader} from '../../src/haproxy/table.js'
import {ROOM_TABLE} from '../../src/haproxy/vocabulary.js'

/** The key of the i-th made-up room: spread over a few tenants, as `stick on var(txn.room_key)` stores them. */
export const roomKey = (i: number) => `tenant${i % 7}/room-${i}`

/**
 * Fills the room table with `count` rooms through the admin socket (`set table … data.server_id`,
 * 200 commands a line), each pinned to one of `serverIds`, as HAProxy's `stick on` stores a room.
 */
export async function fillRooms(socket: string, count: number, serverIds: number[] = [1]): Promise<void> {
  for (let i = 0; i < count; i += 200) {
    const commands = []
    for (let j = i; j < Math.min(count, i + 200); j++) commands.push(`set table ${ROOM_TABLE} key ${roomKey(j)} data.server_id ${serverIds[j % serverIds.length]}`)
    const answer = await socketCommand(socket, commands.join(';'), 10_000)
    if (answer.trim() !== '') throw new Error(`set table: ${answer.slice(0, 200)}`)
  }
}

/** The rooms the table holds, by the stats socket (or `prefix` on the master CLI: `@!PID `). */
export async function roomCount(socket: string, prefix = ''): Promise<number> {
  const header = tableHeader(await socketCommand(socket, `${prefix}show table`, 5000), ROOM_TABLE)
  if (!header) throw new Error(`no table ${ROOM_TABLE}`)
  return header.used
}
