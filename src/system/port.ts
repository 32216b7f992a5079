import {createServer} from 'node:net'

/** What binding a TCP port says about it: `denied` (EACCES) tells nothing about who holds it. */
export type PortState = 'denied' | 'free' | 'in-use' | 'not-local'

/**
 * Binds `address:port` and lets it go again: the same call HAProxy makes on a reload, so the
 * answer is what the reload will meet (EADDRINUSE: another process holds it).
 */
export function tryBind(address: string, port: number): Promise<PortState> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve('in-use')
      else if (error.code === 'EADDRNOTAVAIL') resolve('not-local')
      else if (error.code === 'EACCES' || error.code === 'EPERM') resolve('denied')
      else reject(error)
    })
    server.listen({exclusive: true, host: address, port}, () => server.close(() => resolve('free')))
  })
}
