import {createSocket} from 'node:dgram'

/** A UDP "resolver" on 127.0.0.1 that reads every query and never answers; counts what it got. */
export async function startSilentUdp(): Promise<{close: () => Promise<void>; port: number; received: () => number}> {
  const socket = createSocket('udp4')
  let count = 0
  socket.on('message', () => count++)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    close: () => new Promise((resolve) => socket.close(() => resolve())),
    port: socket.address().port,
    received: () => count,
  }
}
