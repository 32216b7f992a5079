import {createHash, createHmac, randomBytes} from 'node:crypto'
import {connect, type PeerCertificate, type TLSSocket} from 'node:tls'

const MAGIC = 0x21_12_a4_42
const ALLOCATE = 0x0003
const ALLOCATE_SUCCESS = 0x0103
const ALLOCATE_ERROR = 0x0113
const ATTR = {errorCode: 0x0009, integrity: 0x0008, lifetime: 0x000d, nonce: 0x0015, realm: 0x0014, relayed: 0x0016, transport: 0x0019, username: 0x0006, xorMapped: 0x0020}

/** What a TURN server answered to an Allocate over TLS. */
export interface AllocateOutcome {
  /** The certificate the server presented: passing through untouched, it is coturn's own. */
  certificate: PeerCertificate
  /** The client address as the TURN server saw it (XOR-MAPPED-ADDRESS). */
  mapped: string
  /** The relay address the server allocated (XOR-RELAYED-ADDRESS). */
  relayed: string
  /** The first answer: 401 with realm and nonce, as RFC 5766 long-term credentials require. */
  challenge: number
}

/**
 * Opens TLS with SNI `servername` to host:port and does a TURN Allocate with long-term
 * credentials (RFC 5766 §6, RFC 5389 §10.2): the unauthenticated request draws a 401 with
 * realm and nonce, the signed one an allocation. Bounded by `timeoutMs` overall.
 */
export async function turnAllocate(options: {ca: string; host: string; password: string; port: number; servername: string; timeoutMs: number; username: string}): Promise<AllocateOutcome> {
  const socket = connect({ca: options.ca, host: options.host, port: options.port, servername: options.servername})
  const timer = setTimeout(() => socket.destroy(new Error(`no TURN answer within ${options.timeoutMs} ms`)), options.timeoutMs)
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', reject)
    })
    const reader = messageReader(socket)
    const transport = attribute(ATTR.transport, Buffer.from([17, 0, 0, 0]))
    socket.write(message(ALLOCATE, [transport]))
    const first = await reader()
    if (first.type !== ALLOCATE_ERROR) throw new Error(`expected a 401 challenge, got message type 0x${first.type.toString(16)}`)
    const code = errorCode(first.attributes.get(ATTR.errorCode))
    const realm = first.attributes.get(ATTR.realm)
    const nonce = first.attributes.get(ATTR.nonce)
    if (!realm || !nonce) throw new Error(`the challenge (${code}) carries no realm or nonce`)

    const key = createHash('md5').update(`${options.username}:${realm.toString('utf8')}:${options.password}`).digest()
    socket.write(signed(ALLOCATE, [transport, attribute(ATTR.username, Buffer.from(options.username)), attribute(ATTR.realm, realm), attribute(ATTR.nonce, nonce)], key))
    const second = await reader()
    if (second.type !== ALLOCATE_SUCCESS) throw new Error(`allocate refused: ${errorCode(second.attributes.get(ATTR.errorCode))}`)
    return {
      certificate: socket.getPeerCertificate(),
      challenge: code,
      mapped: xorAddress(second.attributes.get(ATTR.xorMapped)),
      relayed: xorAddress(second.attributes.get(ATTR.relayed)),
    }
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}

function attribute(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(value.length, 2)
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)])
}

function message(type: number, attributes: Buffer[], lengthExtra = 0): Buffer {
  const body = Buffer.concat(attributes)
  const head = Buffer.alloc(20)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(body.length + lengthExtra, 2)
  head.writeUInt32BE(MAGIC, 4)
  randomBytes(12).copy(head, 8)
  return Buffer.concat([head, body])
}

/** A message with MESSAGE-INTEGRITY: HMAC-SHA1 over everything before it, the length already counting it. */
function signed(type: number, attributes: Buffer[], key: Buffer): Buffer {
  const unsigned = message(type, attributes, 24)
  const hmac = createHmac('sha1', key).update(unsigned).digest()
  return Buffer.concat([unsigned, attribute(ATTR.integrity, hmac)])
}

/** Reads whole STUN messages off a stream (over TCP/TLS they follow each other unframed). */
function messageReader(socket: TLSSocket): () => Promise<{attributes: Map<number, Buffer>; type: number}> {
  let buffered = Buffer.alloc(0)
  const waiting: Array<() => void> = []
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (const wake of waiting.splice(0)) wake()
  })
  return async () => {
    for (;;) {
      if (buffered.length >= 20 && buffered.length >= 20 + buffered.readUInt16BE(2)) {
        const length = 20 + buffered.readUInt16BE(2)
        const raw = buffered.subarray(0, length)
        buffered = buffered.subarray(length)
        const attributes = new Map<number, Buffer>()
        for (let at = 20; at + 4 <= raw.length; ) {
          const size = raw.readUInt16BE(at + 2)
          attributes.set(raw.readUInt16BE(at), raw.subarray(at + 4, at + 4 + size))
          at += 4 + size + ((4 - (size % 4)) % 4)
        }

        return {attributes, type: raw.readUInt16BE(0)}
      }

      await new Promise<void>((resolve, reject) => {
        waiting.push(resolve)
        socket.once('close', () => reject(new Error('the TURN connection closed before an answer')))
      })
    }
  }
}

function errorCode(value: Buffer | undefined): number {
  return value ? value[2] * 100 + value[3] : 0
}

/** An XOR-*-ADDRESS (IPv4) as `a.b.c.d:port`. */
function xorAddress(value: Buffer | undefined): string {
  if (!value || value[1] !== 0x01) throw new Error('no IPv4 XOR address in the answer')
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16)
  const address = value.readUInt32BE(4) ^ MAGIC
  return `${[24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join('.')}:${port}`
}
