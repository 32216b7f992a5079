/**
 * The runtime API's `show peers` answer, as HAProxy 2.6 prints it (management guide, "show peers";
 * the layout is src/peers.c's peers_dump_head and peers_dump_peer). One block per peers section:
 *
 *   0x55cf897cd4f0: [07/Dec/2026:19:56:42] id=jproxy disabled=0 flags=0x6833 resync_timeout=<PAST> task_calls=8
 *     0x55cf897d0740: id=b(remote,active) addr=127.0.0.1:44281 last_status=ESTA last_hdshk=3s
 *           reconnect=4s heartbeat=2s confirm=0 tx_hbt=1 rx_hbt=1 no_hbt=0 new_conn=1 proto_err=0 coll=1
 *           flags=0x20000200 appctx:0x7fd0d8046f80 st0=7 st1=0 task_calls=6 state=EST
 *     0x55cf897cd6a0: id=a(local,inactive) addr=127.0.0.1:42589 last_status=NONE last_hdshk=<NEVER>
 *
 * (indented lines about tables and dictionaries follow each peer; they are not read here).
 */

/** A remote peer of a peers section as this process sees its link. */
export interface PeerLink {
  /** `host:port` the peer listens on (`addr=`). */
  address: string
  /**
   * The link is up: a session runs (`active`: the peer has an applet) and its last handshake
   * succeeded (ESTA). Either alone is not enough: `last_status` keeps ESTA for a moment after the
   * peer went away, and a session exists while it is still connecting (CONN, HSHK).
   */
  connected: boolean
  name: string
  /**
   * `last_status`: ESTA established, CONN connecting, HSHK handshaking, RETR told to retry, PROT a
   * protocol error, VERS a version mismatch, NAME the peer does not know this local peer name,
   * UNKN it does not know us as a peer, NONE never tried.
   */
  status: string
}

export interface PeersSection {
  name: string
  /** Remote peers only: the local peer is this process. */
  peers: PeerLink[]
  /**
   * Whether the table resync this process needed at start is over (the section's flags 0x1 and
   * 0x2: PEERS_F_RESYNC_LOCAL, PEERS_F_RESYNC_REMOTE): first from the old process of a reload,
   * then from a remote peer. Each is also set when it is no longer needed (a timeout, no such peer).
   */
  resync: {local: boolean; remote: boolean}
}

const SECTION = /^0x[\da-f]+: \[[^\]]*\] id=(\S+) .*?\bflags=0x([\da-f]+)/i
const PEER = /^\s+0x[\da-f]+: id=([^(\s]+)\((local|remote),(active|inactive)\) addr=(\S+) (?:.*? )?last_status=(\S+)/i

/** Every peers section of a `show peers` answer; an answer with none is an empty list. Throws on an answer that is not one. */
export function parseShowPeers(text: string): PeersSection[] {
  const sections: PeersSection[] = []
  for (const line of text.split('\n')) {
    const head = SECTION.exec(line)
    if (head) {
      const flags = Number.parseInt(head[2], 16)
      sections.push({name: head[1], peers: [], resync: {local: (flags & 0x1) !== 0, remote: (flags & 0x2) !== 0}})
      continue
    }

    const peer = PEER.exec(line)
    if (!peer) continue
    const section = sections.at(-1)
    if (!section) throw new Error(`not a "show peers" answer (a peer before any section): ${text.slice(0, 200)}`)
    const [, name, side, session, address, status] = peer
    if (side === 'local') continue
    section.peers.push({address, connected: session === 'active' && status === 'ESTA', name, status})
  }

  // A CLI error ("Unknown command", "No such peers") is one line that is neither.
  if (sections.length === 0 && text.trim() !== '') throw new Error(`not a "show peers" answer: ${text.slice(0, 200)}`)
  return sections
}
