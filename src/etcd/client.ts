import {b64, int, keyRange, type KeyValue, keyValue, revisionOf, unb64, type WireHeader, type WireKv} from './codec.js'
import {EtcdTransport, type EtcdTransportOptions} from './transport.js'
import {watchEvents, type WatchEvent, type WatchOptions} from './watch.js'

export type {KeyValue} from './codec.js'
export {EtcdError, type EtcdTls} from './transport.js'
export type {WatchEvent, WatchOptions} from './watch.js'

/** One comparison of a txn: `target` of `key` against `value` (`=` unless `result` says otherwise). */
export interface Compare {
  key: string
  result?: '!=' | '<' | '=' | '>'
  /** `create`: create_revision (0 = the key does not exist); `mod`: mod_revision; `value`; `version`. */
  target: 'create' | 'mod' | 'value' | 'version'
  value: number | string
}

/** One operation of a txn branch. */
export type TxnOp =
  | {delete: {key: string; prefix?: boolean}}
  | {put: {key: string; lease?: string; value: string}}
  | {range: {key: string; prefix?: boolean}}

/** What one operation of the branch that ran gave: the keys read, or the count deleted, or nothing for a put. */
export type TxnResult = {deleted: number} | {kvs: KeyValue[]} | {put: true}

const TARGETS = {create: ['CREATE', 'create_revision'], mod: ['MOD', 'mod_revision'], value: ['VALUE', 'value'], version: ['VERSION', 'version']} as const
const RESULTS = {'!=': 'NOT_EQUAL', '<': 'LESS', '=': 'EQUAL', '>': 'GREATER'} as const

interface WireRange extends WireHeader {
  count?: string
  kvs?: WireKv[]
}

interface WireTxn extends WireHeader {
  responses?: Array<{response_delete_range?: {deleted?: string}; response_put?: object; response_range?: WireRange}>
  succeeded?: boolean
}

/**
 * A client of etcd 3.4's v3 JSON gateway (`/v3/...`) over undici: keys, compare-and-swap txns,
 * leases, the server-side lock and watch. Keys and values are text; the base64 the gateway wants
 * stays in here. Every call is bounded by the transport's timeout unless it says otherwise.
 */
export class EtcdClient {
  readonly #transport: EtcdTransport

  constructor(options: EtcdTransportOptions) {
    this.#transport = new EtcdTransport(options)
  }

  async close(): Promise<void> {
    await this.#transport.close()
  }

  /** The key (or every key under the prefix, in key order) and the store's revision when read. */
  async range(key: string, options: {prefix?: boolean; revision?: number} = {}): Promise<{kvs: KeyValue[]; revision: number}> {
    const body = {...keyRange(key, options.prefix), ...(options.revision ? {revision: options.revision} : {})}
    const answer = await this.#transport.call<WireRange>('/v3/kv/range', body, {idempotent: true})
    return {kvs: (answer.kvs ?? []).map((kv) => keyValue(kv)), revision: revisionOf(answer)}
  }

  /** Stores `value` at `key`, bound to `lease` when given (gone with it); the store's new revision. */
  async put(key: string, value: string, options: {lease?: string} = {}): Promise<{revision: number}> {
    const answer = await this.#transport.call<WireHeader>('/v3/kv/put', putBody(key, value, options.lease))
    return {revision: revisionOf(answer)}
  }

  /** Deletes the key (or every key under the prefix); how many went. */
  async deleteRange(key: string, options: {prefix?: boolean} = {}): Promise<{deleted: number; revision: number}> {
    const answer = await this.#transport.call<WireHeader & {deleted?: string}>('/v3/kv/deleterange', keyRange(key, options.prefix))
    return {deleted: int(answer.deleted), revision: revisionOf(answer)}
  }

  /**
   * If every comparison holds, runs `success`, else `failure`, atomically: a compare-and-swap is
   * `compare: [{key, target: 'mod', value: seenModRevision}]` (or `create` = 0 for "still absent").
   */
  async txn(request: {compare: Compare[]; failure?: TxnOp[]; success: TxnOp[]}): Promise<{responses: TxnResult[]; revision: number; succeeded: boolean}> {
    const body = {
      compare: request.compare.map((c) => {
        const [target, field] = TARGETS[c.target]
        return {key: b64(c.key), result: RESULTS[c.result ?? '='], target, [field]: c.target === 'value' ? b64(String(c.value)) : String(c.value)}
      }),
      failure: (request.failure ?? []).map((op) => wireOp(op)),
      success: request.success.map((op) => wireOp(op)),
    }
    const answer = await this.#transport.call<WireTxn>('/v3/kv/txn', body)
    const responses = (answer.responses ?? []).map((r): TxnResult => {
      if (r.response_range) return {kvs: (r.response_range.kvs ?? []).map((kv) => keyValue(kv))}
      if (r.response_delete_range) return {deleted: int(r.response_delete_range.deleted)}
      return {put: true}
    })
    return {responses, revision: revisionOf(answer), succeeded: answer.succeeded === true}
  }

  /** Drops the history before `revision`: a watch from an older revision is then told `compacted`. */
  async compact(revision: number): Promise<void> {
    await this.#transport.call('/v3/kv/compaction', {physical: true, revision})
  }

  /** A new lease of `ttlSeconds` (etcd raises anything under its minimum, 2 s with default timing). */
  async leaseGrant(ttlSeconds: number): Promise<{id: string; ttl: number}> {
    const answer = await this.#transport.call<{ID?: string; TTL?: string; error?: string}>('/v3/lease/grant', {TTL: ttlSeconds})
    return {id: answer.ID ?? '0', ttl: int(answer.TTL)}
  }

  /** Ends the lease now: every key bound to it (and a lock held with it) goes at once. */
  async leaseRevoke(id: string): Promise<void> {
    await this.#transport.call('/v3/lease/revoke', {ID: id})
  }

  /**
   * One renewal (one POST: the gateway answers the first keepalive of the stream and ends it);
   * the TTL it was renewed to, 0 when the lease is already gone.
   */
  async leaseKeepAlive(id: string): Promise<{ttl: number}> {
    const answer = await this.#transport.call<{result?: {TTL?: string}}>('/v3/lease/keepalive', {ID: id}, {idempotent: true})
    return {ttl: int(answer.result?.TTL)}
  }

  /** Seconds left (-1: expired or never granted), the TTL granted, and the keys bound to it. */
  async leaseTimeToLive(id: string): Promise<{grantedTtl: number; keys: string[]; ttl: number}> {
    const answer = await this.#transport.call<{TTL?: string; grantedTTL?: string; keys?: string[]}>(
      '/v3/lease/timetolive',
      {ID: id, keys: true},
      {idempotent: true},
    )
    return {grantedTtl: int(answer.grantedTTL), keys: (answer.keys ?? []).map((key) => unb64(key)), ttl: int(answer.TTL)}
  }

  /**
   * Waits (FIFO, server-side) to hold the lock `name` for the lease, at most `waitMs`; the key that
   * exists while it is held, which unlock takes and a txn can compare on (its create revision fences
   * writes). The lease expiring releases it to the next waiter.
   */
  async lock(name: string, lease: string, options: {signal?: AbortSignal; waitMs: number}): Promise<{key: string; revision: number}> {
    const answer = await this.#transport.call<WireHeader & {key?: string}>(
      '/v3/lock/lock',
      {lease, name: b64(name)},
      {signal: options.signal, timeoutMs: options.waitMs},
    )
    return {key: unb64(answer.key), revision: revisionOf(answer)}
  }

  /** Releases a held lock by the key lock returned; the next waiter gets it. */
  async unlock(key: string): Promise<void> {
    await this.#transport.call('/v3/lock/unlock', {key: b64(key)})
  }

  /**
   * The changes to the key (or prefix) from `startRevision` on, as an async iterator. It ends after a
   * `compacted` event (that revision is gone: list again, then watch from the list's revision + 1) or a
   * `canceled` one, and throws an EtcdError when the connection drops; `signal` stops it.
   */
  watch(key: string, options: WatchOptions): AsyncGenerator<WatchEvent, void, undefined> {
    return watchEvents(this.#transport, key, options)
  }
}

function putBody(key: string, value: string, lease?: string) {
  return {key: b64(key), value: b64(value), ...(lease && lease !== '0' ? {lease} : {})}
}

function wireOp(op: TxnOp) {
  if ('put' in op) return {request_put: putBody(op.put.key, op.put.value, op.put.lease)}
  if ('range' in op) return {request_range: keyRange(op.range.key, op.range.prefix)}
  return {request_delete_range: keyRange(op.delete.key, op.delete.prefix)}
}
