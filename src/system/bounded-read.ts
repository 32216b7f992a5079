import {closeSync, constants, createReadStream, fstatSync, openSync, readSync} from 'node:fs'

/** A file jproxy refused to read whole: too large, not a regular file, or unreadable (`code` is errno's when known). */
export class BoundedReadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${path}: ${reason}`)
    this.name = 'BoundedReadError'
  }
}

const MiB = 1024 * 1024

/** `4 MiB`, `512 KiB`: how a byte limit is stated in messages. */
export function formatBytes(bytes: number): string {
  return bytes >= MiB ? `${+(bytes / MiB).toFixed(1)} MiB` : `${+(bytes / 1024).toFixed(1)} KiB`
}

const tooLarge = (path: string, maxBytes: number) => new BoundedReadError(path, `larger than ${formatBytes(maxBytes)}`, 'EFBIG')
const failed = (path: string, error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code
  return new BoundedReadError(path, code ?? (error as Error).message, code)
}

/**
 * Reads a file as UTF-8, at most `maxBytes` of it: `/dev/zero`, a FIFO that never ends or a huge
 * file costs `maxBytes`, not the machine's memory. A directory fails with EISDIR. Non-regular
 * files (a FIFO, `/dev/stdin`) are read, since process substitution is a normal way to pass a file.
 * Synchronous inside: node:fs/promises costs a hot command more start-up time than the read.
 */
export async function readBoundedFile(path: string, maxBytes: number): Promise<string> {
  return readBounded(path, maxBytes, constants.O_RDONLY, false)
}

/**
 * Reads a regular file only, at most `maxBytes`, synchronously (for parsers that include files as
 * they go). Opened non-blocking, so a FIFO is refused instead of waiting for a writer.
 */
export function readRegularFileSync(path: string, maxBytes: number): string {
  return readBounded(path, maxBytes, constants.O_RDONLY | constants.O_NONBLOCK, true)
}

function readBounded(path: string, maxBytes: number, flags: number, regularOnly: boolean): string {
  let fd: number
  try {
    fd = openSync(path, flags)
  } catch (error) {
    throw failed(path, error)
  }

  try {
    if (regularOnly) {
      const info = fstatSync(fd)
      if (!info.isFile()) throw new BoundedReadError(path, 'not a regular file')
      if (info.size > maxBytes) throw tooLarge(path, maxBytes)
    }

    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - total))
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      chunks.push(chunk.subarray(0, bytesRead))
      total += bytesRead
      if (total > maxBytes) throw tooLarge(path, maxBytes)
    }

    return Buffer.concat(chunks).toString('utf8')
  } catch (error) {
    throw error instanceof BoundedReadError ? error : failed(path, error)
  } finally {
    closeSync(fd)
  }
}

/** Reads an open descriptor (stdin) to its end, at most `maxBytes`; a directory on stdin fails with EISDIR. */
export function readBoundedFd(fd: number, name: string, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream('', {autoClose: false, fd})
    const chunks: Buffer[] = []
    let total = 0
    stream.on('data', (chunk: string | Buffer) => {
      if (typeof chunk === 'string') chunk = Buffer.from(chunk)
      total += chunk.length
      if (total > maxBytes) {
        stream.destroy()
        reject(tooLarge(name, maxBytes))
        return
      }

      chunks.push(chunk)
    })
    stream.on('error', (error) => reject(failed(name, error)))
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}
