/*
 * etcd's JSON gateway speaks protobuf's JSON mapping: bytes as base64, 64-bit numbers as strings,
 * and every field at its zero value left out (`succeeded: false`, a PUT event's type, TTL 0).
 */

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
export const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8')

/** A revision or count; absent means 0. Revisions stay far below 2^53. */
export const int = (value: number | string | undefined) => Number(value ?? 0)

/**
 * The key just past every key starting with `prefix`: its last byte below 0xff plus one (etcd's
 * `GetPrefixRangeEnd`); `\0` (every key) when all bytes are 0xff.
 */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8')
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = bytes.subarray(0, i + 1)
      end[i]++
      return end.toString('base64')
    }
  }

  return Buffer.from([0]).toString('base64')
}

/** A key and, for a prefix, its range end: the `key`/`range_end` pair of range, delete and watch. */
export const keyRange = (key: string, prefix?: boolean) => ({key: b64(key), ...(prefix ? {range_end: prefixEnd(key)} : {})})

export interface WireKv {
  create_revision?: string
  key?: string
  lease?: string
  mod_revision?: string
  value?: string
  version?: string
}

/** One stored key as the client gives it: text key and value, numeric revisions, lease ID as a string. */
export interface KeyValue {
  createRevision: number
  key: string
  /** A lease ID ("0": none): 64-bit, so a string. */
  lease: string
  modRevision: number
  value: string
  version: number
}

export function keyValue(kv: WireKv): KeyValue {
  return {
    createRevision: int(kv.create_revision),
    key: unb64(kv.key),
    lease: kv.lease ?? '0',
    modRevision: int(kv.mod_revision),
    value: unb64(kv.value),
    version: int(kv.version),
  }
}

export interface WireHeader {
  header?: {revision?: string}
}

export const revisionOf = (answer: WireHeader) => int(answer.header?.revision)
