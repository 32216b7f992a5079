import {int, keyRange, type KeyValue, keyValue, type WireKv} from './codec.js'
import {etcdFailure, EtcdError, type EtcdTransport} from './transport.js'

export interface WatchOptions {
  /** Also watch every key under `key`. */
  prefix?: boolean
  /** Stops the watch: the iterator then ends quietly. */
  signal?: AbortSignal
  /** The first revision to report (the list's revision + 1); unset: changes from now on. */
  startRevision?: number
  /** How long opening the watch (etcd's `created` answer) may take; unset: the client's timeout. */
  timeoutMs?: number
}

/**
 * What a watch reports: a change, or why it stopped. `compacted`: the start revision is older than
 * etcd keeps (`compact_revision` is the oldest still there), so the caller lists again; `canceled`:
 * etcd ended the watch for another reason.
 */
export type WatchEvent =
  | {compactRevision: number; type: 'compacted'}
  | {kv: KeyValue; prevKv?: KeyValue; type: 'delete' | 'put'}
  | {reason: string; type: 'canceled'}

interface WireWatch {
  cancel_reason?: string
  canceled?: boolean
  compact_revision?: string
  created?: boolean
  events?: Array<{kv?: WireKv; prev_kv?: WireKv; type?: 'DELETE' | 'PUT'}>
}

/**
 * One `/v3/watch` stream: the gateway writes one JSON object (`{"result": ...}`) per line. Each line
 * is capped at the transport's byte limit; the first one (`created`) must come within the timeout.
 */
export async function* watchEvents(transport: EtcdTransport, key: string, options: WatchOptions): AsyncGenerator<WatchEvent, void, undefined> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  const request = {create_request: {...keyRange(key, options.prefix), ...(options.startRevision ? {start_revision: options.startRevision} : {})}}
  try {
    // Already stopped (the listener would never fire): the stream is not even opened.
    if (options.signal?.aborted) return
    const {body, endpoint} = await transport.stream('/v3/watch', request, stop.signal, options.timeoutMs)
    let created = false
    const opened = setTimeout(() => stop.abort(), options.timeoutMs ?? transport.timeoutMs)
    try {
      for await (const message of lines(body, transport.maxBytes, endpoint)) {
        const result = parse(message, endpoint)
        if (result.created) {
          created = true
          clearTimeout(opened)
        }

        if (result.canceled) {
          yield result.compact_revision && int(result.compact_revision) > 0
            ? {compactRevision: int(result.compact_revision), type: 'compacted'}
            : {reason: result.cancel_reason ?? 'canceled by etcd', type: 'canceled'}
          return
        }

        for (const event of result.events ?? []) {
          yield {
            kv: keyValue(event.kv ?? {}),
            ...(event.prev_kv ? {prevKv: keyValue(event.prev_kv)} : {}),
            type: event.type === 'DELETE' ? 'delete' : 'put',
          }
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return
      if (!created && stop.signal.aborted) throw new EtcdError(endpoint, 'the watch was not opened in time')
      throw error instanceof EtcdError ? error : new EtcdError(endpoint, `watch stream broke: ${(error as Error).message}`)
    } finally {
      clearTimeout(opened)
    }

    if (!options.signal?.aborted) throw new EtcdError(endpoint, 'the watch stream ended')
  } catch (error) {
    if (options.signal?.aborted) return
    throw error
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    // Leaving the loop early (break, return) closes the stream too.
    stop.abort()
  }
}

function parse(line: string, endpoint: string): WireWatch {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    throw new EtcdError(endpoint, `watch message is not JSON: ${line.slice(0, 200)}`)
  }

  const failure = etcdFailure(parsed)
  if (failure) throw new EtcdError(endpoint, failure.message, failure.code)
  return (parsed as {result?: WireWatch}).result ?? {}
}

/** The stream's newline-separated messages, each at most `maxBytes`. */
async function* lines(body: AsyncIterable<Buffer>, maxBytes: number, endpoint: string): AsyncGenerator<string> {
  let pending = Buffer.alloc(0)
  for await (const chunk of body) {
    pending = Buffer.concat([pending, chunk])
    let end: number
    while ((end = pending.indexOf(0x0a)) !== -1) {
      const line = pending.subarray(0, end).toString('utf8').trim()
      pending = pending.subarray(end + 1)
      if (line) yield line
    }

    if (pending.length > maxBytes) throw new EtcdError(endpoint, `watch message larger than ${maxBytes} bytes`)
  }
}
