/**
 * The signaling paths of a Jitsi room (jitsi.md §1.2-1.5). Each may carry a tenant prefix
 * (`/<tenant>/http-bind`) and every one carries `?room=`, so all of them are routed to the
 * shard the room key picks. Page loads and static assets go to the web pool instead.
 */
export const PROSODY_PATHS = ['http-bind', 'xmpp-websocket', '_api/room-info'] as const
export const JICOFO_PATHS = ['conference-request/v1'] as const
export const SIGNALING_PATHS = [...PROSODY_PATHS, ...JICOFO_PATHS] as const

/** The colibri websocket prefixes; the segment after them is the JVB's server-id. */
export const COLIBRI_PREFIXES = ['/colibri-ws/', '/colibri-relay-ws/'] as const
