import {connect} from 'node:net'

import {settleOnce} from '../system/settle-once.js'

/** Output beyond this is cut: `show stat` of a large proxy is a few hundred KiB. */
const MAX_ANSWER = 16 * 1024 * 1024

/**
 * Sends one command line to an HAProxy CLI socket (stats or master) and returns everything it
 * answers until it closes. `;quit` is appended because the master CLI of 2.6 may keep the
 * connection open after answering. A reset after some output is a normal end (the master
 * re-executes on `reload`); a failure to connect throws. `payload` is sent after the command as
 * HAProxy's `<<` payload (it must hold no empty line: the first one ends it).
 */
export function socketCommand(path: string, command: string, timeoutMs = 5000, payload?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    let answer = ''
    let connected = false
    const done = settleOnce<{error?: Error; text: string}>(
      ({error, text}) => (error ? reject(error) : resolve(text)),
      {timeoutMs},
      () => ({error: connected ? undefined : new Error(`${path}: no connection within ${timeoutMs} ms`), text: answer}),
      () => socket.destroy(),
    )
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      connected = true
      // A payload (`<<`, then lines, then an empty line) ends the command; the stats socket closes after answering it.
      socket.write(payload === undefined ? `${command};quit\n` : `${command} <<\n${payload}\n\n`)
    })
    socket.on('data', (chunk: string) => {
      answer += chunk
      if (answer.length > MAX_ANSWER) {
        done.settle({error: new Error(`${path}: answer to "${command}" over ${MAX_ANSWER} bytes`), text: ''})
        socket.destroy()
      }
    })
    socket.on('end', () => done.settle({text: answer}))
    socket.on('close', () => done.settle({text: answer}))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      done.settle(connected && error.code === 'ECONNRESET' ? {text: answer} : {error: new Error(`${path}: ${error.message}`), text: ''})
      socket.destroy()
    })
  })
}
