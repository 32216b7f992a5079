import {randomInt} from 'node:crypto'
import {createSocket} from 'node:dgram'
import {connect} from 'node:net'
import dnsPacket from 'dns-packet'

import {type Deadline, type Limit, settleOnce} from '../system/settle-once.js'
import {ipVersion} from '../system/ip.js'

/** A DNS server to ask, by address (never the system's resolver unless named). */
export interface Resolver {
  address: string
  port: number
}

export type QueryType = 'A' | 'AAAA' | 'CNAME' | 'SRV'

/** How a lookup ended, by rcode and answer (RFC 2308: NODATA is NOERROR with no answer). */
export type Outcome = 'answer' | 'nodata' | 'nxdomain' | 'refused' | 'servfail' | 'timeout' | 'error'

export interface DnsRecord {
  data: string
  name: string
  ttl: number
  type: string
}

export interface Lookup {
  /** Every attempt made, counting retries and the TCP retry of a truncated answer. */
  attempts: number
  latencyMs: number
  name: string
  /** SOA minimum of a negative answer (NXDOMAIN/NODATA): how long resolvers cache the absence. */
  negativeTtl?: number
  outcome: Outcome
  rcode?: string
  /** Answer section as received: CNAMEs first, then the records of the asked type. */
  records: DnsRecord[]
  /** Why, for `error` and `timeout`. */
  reason?: string
  resolver: Resolver
  transport: 'tcp' | 'udp'
  type: QueryType
}

export interface QueryOptions {
  /** The end of the whole run: a lookup in flight then ends as a timeout, and no retry starts. */
  deadline?: Deadline
  /** Retries after a UDP attempt that got no answer (each its own timeout). */
  retries: number
  timeoutMs: number
}

type Reply = {ok: false; reason: string; timeout: boolean} | {ok: true; packet: dnsPacket.DecodedPacket & {rcode?: string}}

/**
 * One lookup at one resolver: UDP first (no EDNS, so a big answer comes back truncated), retried
 * on silence, and over TCP when the answer is truncated. Classified by rcode, never thrown.
 */
export async function queryDns(resolver: Resolver, name: string, type: QueryType, options: QueryOptions): Promise<Lookup> {
  const started = performance.now()
  const question = {name: name.replace(/\.$/, ''), type}
  const base = {name: question.name, resolver, type}
  let attempts = 0
  // Stays so only when the run's deadline came before the first attempt.
  let reply: Reply = {ok: false, reason: 'run deadline reached', timeout: true}
  let transport: Lookup['transport'] = 'udp'
  while (attempts <= options.retries && !options.deadline?.expired) {
    attempts++
    reply = await exchangeUdp(resolver, question, options)
    if (reply.ok || !reply.timeout) break
  }

  if (reply.ok && reply.packet.flag_tc) {
    attempts++
    transport = 'tcp'
    reply = await exchangeTcp(resolver, question, options)
  }

  const latencyMs = Math.round(performance.now() - started)
  if (!reply.ok) return {...base, attempts, latencyMs, outcome: reply.timeout ? 'timeout' : 'error', reason: reply.reason, records: [], transport}
  return {...base, attempts, latencyMs, ...classify(reply.packet, type), transport}
}

function classify(packet: dnsPacket.DecodedPacket & {rcode?: string}, type: QueryType): Pick<Lookup, 'negativeTtl' | 'outcome' | 'rcode' | 'records'> {
  const records = (packet.answers ?? []).filter((a) => a.type === type || a.type === 'CNAME').map((a) => ({data: recordData(a), name: a.name, ttl: (a as {ttl?: number}).ttl ?? 0, type: a.type}))
  const soa: (dnsPacket.SoaAnswer & {ttl?: number}) | undefined = (packet.authorities ?? []).find((a) => a.type === 'SOA')
  const negativeTtl = soa ? Math.min(soa.ttl ?? Number.POSITIVE_INFINITY, soa.data.minimum ?? 0) : undefined
  const rcode = packet.rcode ?? 'NOERROR'
  const negative = negativeTtl === undefined ? {} : {negativeTtl}
  switch (rcode) {
    case 'NOERROR': {
      const answered = type === 'CNAME' ? records.length > 0 : records.some((r) => r.type === type)
      return answered ? {outcome: 'answer', rcode, records} : {...negative, outcome: 'nodata', rcode, records}
    }

    case 'NXDOMAIN': {
      return {...negative, outcome: 'nxdomain', rcode, records}
    }

    case 'REFUSED': {
      return {outcome: 'refused', rcode, records}
    }

    case 'SERVFAIL': {
      return {outcome: 'servfail', rcode, records}
    }

    default: {
      return {outcome: 'error', rcode, records}
    }
  }
}

function recordData(answer: dnsPacket.Answer): string {
  const {data} = answer as {data: unknown}
  if (answer.type === 'SRV') {
    const srv = data as dnsPacket.SrvAnswer['data']
    return `${srv.priority ?? 0} ${srv.weight ?? 0} ${srv.port} ${srv.target}`
  }

  return typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('hex') : JSON.stringify(data)
}

function request(question: {name: string; type: QueryType}): {id: number; packet: dnsPacket.Packet} {
  const id = randomInt(0, 0x1_00_00)
  return {id, packet: {flags: dnsPacket.RECURSION_DESIRED, id, questions: [question], type: 'query'}}
}

/** Whether `packet` answers our question: same id, same name and type (spoofed or stray answers are ignored). */
function answers(packet: dnsPacket.DecodedPacket, id: number, question: {name: string; type: QueryType}): boolean {
  const asked = packet.questions?.[0]
  return packet.id === id && asked?.type === question.type && asked.name.toLowerCase() === question.name.toLowerCase()
}

const limitReason = (limit: Limit, timeoutMs: number, over = '') => (limit === 'deadline' ? 'run deadline reached' : `no answer${over} within ${timeoutMs} ms`)

function exchangeUdp(resolver: Resolver, question: {name: string; type: QueryType}, {deadline, timeoutMs}: QueryOptions): Promise<Reply> {
  return new Promise((resolve) => {
    const socket = createSocket(ipVersion(resolver.address) === 6 ? 'udp6' : 'udp4')
    const {id, packet} = request(question)
    const done = settleOnce<Reply>(
      resolve,
      {deadline, timeoutMs},
      (limit) => ({ok: false, reason: limitReason(limit, timeoutMs), timeout: true}),
      () => socket.close(),
    )
    if (done.settled) return
    const end = (reply: Reply) => {
      done.settle(reply)
      socket.close()
    }

    socket.on('error', (error: NodeJS.ErrnoException) => end({ok: false, reason: `${error.code ?? 'error'}: ${error.message}`, timeout: false}))
    socket.on('message', (message) => {
      let decoded
      try {
        decoded = dnsPacket.decode(message)
      } catch {
        return // not DNS: keep waiting for the real answer
      }

      if (answers(decoded, id, question)) end({ok: true, packet: decoded})
    })
    socket.send(dnsPacket.encode(packet), resolver.port, resolver.address)
  })
}

function exchangeTcp(resolver: Resolver, question: {name: string; type: QueryType}, {deadline, timeoutMs}: QueryOptions): Promise<Reply> {
  return new Promise((resolve) => {
    const socket = connect({host: resolver.address, port: resolver.port})
    const {id, packet} = request(question)
    const done = settleOnce<Reply>(
      resolve,
      {deadline, timeoutMs},
      (limit) => ({ok: false, reason: limitReason(limit, timeoutMs, ' over TCP'), timeout: true}),
      () => socket.destroy(),
    )
    if (done.settled) return
    const end = (reply: Reply) => {
      done.settle(reply)
      socket.destroy()
    }

    let received = Buffer.alloc(0)
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(packet)))
    socket.on('error', (error: NodeJS.ErrnoException) => end({ok: false, reason: `TCP ${error.code ?? 'error'}: ${error.message}`, timeout: false}))
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return
      try {
        const decoded = dnsPacket.decode(received.subarray(2, 2 + received.readUInt16BE(0)))
        end(answers(decoded, id, question) ? {ok: true, packet: decoded} : {ok: false, reason: 'TCP answer for another question', timeout: false})
      } catch (error) {
        end({ok: false, reason: `malformed answer over TCP: ${(error as Error).message}`, timeout: false})
      }
    })
    socket.on('end', () => end({ok: false, reason: 'TCP connection closed before a whole answer', timeout: false}))
  })
}
