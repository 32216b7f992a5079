/**
 * HAProxy places each server on its consistent-hash ring by its numeric id
 * (`full_hash(id * 4096 + node)`), so two proxies rendered from one inventory agree on every
 * room only if each shard keeps one id everywhere. Deriving the id from the shard's name
 * (FNV-1a) keeps it stable when other shards are added, removed or reordered, so only the
 * rooms of the shard that changed move. The range keeps `id * 4096` inside 32 bits.
 */
export const MAX_SERVER_ID = 524_287

/** The stable HAProxy server id of a shard, 1..MAX_SERVER_ID. */
export function shardServerId(name: string): number {
  let hash = 0x81_1C_9D_C5
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01_00_01_93) >>> 0
  }

  return (hash % MAX_SERVER_ID) + 1
}

/**
 * The weight of every shard's server. HAProxy gives a server `weight * 16` points on the
 * consistent-hash ring; at weight 1 the 16 points split 3 shards 31/28/40 %, at 256 (the
 * maximum) 4,096 points split them within a few percent. The id range above leaves room for
 * all 4,096 points of one id before the next.
 */
export const SHARD_WEIGHT = 256
