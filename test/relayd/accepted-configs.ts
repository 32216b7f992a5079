/**
 * Configurations relayd accepts, written from parse.y 1.258's grammar (relayd.md §1): each must
 * lint without an error. Every one has a relay or redirect (else "no actions, nothing to do").
 */
const RELAY = 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check tcp\n}\n'
const TABLE = 'table <t> { 10.0.0.1 }\n'
const BASE = TABLE + RELAY

export const ACCEPTED: Array<{conf: string; name: string}> = [
  {conf: BASE, name: 'a table and a relay'},
  {conf: 'ext = "127.0.0.1"\n' + TABLE + 'relay "r" {\n\tlisten on $ext port 8080\n\tforward to <t> port 80 check tcp\n}\n', name: 'a macro used as the listen address'},
  {conf: 'hosts = "10.0.0.1 10.0.0.2"\ntable <t> { $hosts }\n' + RELAY, name: 'a macro holding several tokens'},
  {conf: 'p = "8080"\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port $p\n\tforward to <t> port 80 check tcp\n}\n', name: 'a quoted number as macro value, expanded to a number'},
  {conf: 'interval 5\ntimeout 1000\nprefork 5\nlog state changes\nlog host checks\nlog connection\nlog connection errors\nsocket "/var/run/r.sock"\nagentx context "c" path "/var/agentx/master"\n' + BASE, name: 'every global option'},
  {conf: '# comment\n\n' + BASE + '# trailing comment', name: 'comments and blank lines'},
  {conf: 'table <t> { 10.0.0.1, 10.0.0.2 10.0.0.3\n\t10.0.0.4 }\n' + RELAY, name: 'hosts separated by comma, space and newline'},
  {conf: 'table <t> disable { 10.0.0.1 } { 10.0.0.2 } disable\n' + RELAY, name: 'table with disable and two host blocks'},
  {conf: 'table <t> { 10.0.0.1 retry 2 parent 1 priority 5 ip ttl 64 }\n' + RELAY, name: 'every host option'},
  {conf: 'table <t> { 2001:db8::1, ::1, fe80::1 }\n' + RELAY, name: 'IPv6 hosts'},
  {conf: 'table <t> { www.example.org }\n' + RELAY, name: 'a host name'},
  {conf: 'table <"relay"> { 10.0.0.1 }\nrelay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <"relay"> port 80 check tcp\n}\n', name: 'a keyword quoted as table name'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check icmp\n}\n', name: 'check icmp'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 443 check tls\n}\n', name: 'check tls'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check http "/" host www.example.org code 200\n}\n', name: 'check http with host and code'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 443 check https "/health" code 204\n}\n', name: 'check https'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check http "/" digest "a9993e364706816aba3e25717850c26c9cd0d89d"\n}\n', name: 'check http digest (sha1)'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check https "/" digest "900150983cd24fb0d6963f7d28e17f72"\n}\n', name: 'check https digest (md5)'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 25 check send nothing expect "220 *"\n}\n', name: 'check send nothing expect'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 110 check send "HELO\\r\\n" expect "+OK*" tls\n}\n', name: 'check send expect tls'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 9 check binary send "0a0b" expect "0c0d"\n}\n', name: 'check binary send expect'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check script "/usr/local/bin/check"\n}\n', name: 'check script'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 mode roundrobin\n}\n', name: 'mode roundrobin, no check'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 mode random check tcp\n}\n', name: 'mode random'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 mode hash "k" check tcp\n}\n', name: 'mode hash with a key'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 mode loadbalance "0x000102030405060708090a0b0c0d0e0f"\n}\n', name: 'mode loadbalance with a hex key'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 mode source-hash "k"\n}\n', name: 'mode source-hash'},
  {conf: 'interval 10\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check tcp interval 20 timeout 500 demote carp\n}\n', name: 'table interval, timeout and demote'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> check tcp\n}\n', name: 'forward without port takes the listen port'},
  {conf: TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080 tls\n\tlisten on ::1 port 8081\n\tforward with tls to <t> port 443 check tcp\n\tsession timeout 3600\n\tdisable\n}\n', name: 'two listeners, tls, session timeout, disable'},
  {conf: 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to 10.0.0.1 port 80 retry 3 inet\n}\n', name: 'forward to an address'},
  {conf: 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\ttransparent forward to nat lookup retry 1\n}\n', name: 'transparent forward to nat lookup'},
  {conf: 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to destination\n}\n', name: 'forward to destination'},
  {conf: 'relay "r" {\n\tlisten on 127.0.0.1 port http\n\tforward to 10.0.0.1 port https\n}\n', name: 'ports by service name'},
  {conf: 'protocol "p"\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tprotocol "p"\n\tforward to <t> port 80 check tcp\n}\n', name: 'a protocol without options'},
  {conf: 'tcp protocol "p" { }\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tprotocol p\n\tforward to <t> port 80 check tcp\n}\n', name: 'tcp protocol with empty braces on one line'},
  {conf: 'tcp protocol "p" {\n\ttcp nodelay\n\ttcp { sack, no splice, backlog 100 }\n\ttcp socket buffer 65536\n\ttcp ip minttl 2\n\ttcp no nodelay\n}\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tprotocol "p"\n\tforward to <t> port 80 check tcp\n}\n', name: 'every tcp option'},
  {conf: 'http protocol "p" {\n\ttls { no tlsv1.2, tlsv1.3, cipher-server-preference }\n\ttls ciphers "HIGH:!aNULL"\n\ttls ecdhe "X25519,P-256"\n\ttls edh params "auto"\n\ttls no edh\n\ttls session tickets\n\ttls no session tickets\n\ttls ca file "/etc/ssl/ca.pem"\n\ttls ca key "/etc/ssl/ca.key" password "secret"\n\ttls ca cert "/etc/ssl/cacert.pem"\n\ttls client ca "/etc/ssl/client.pem"\n\ttls keypair "www.example.org"\n\ttls keypair "www.example.net"\n}\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8443 tls\n\tprotocol "p"\n\tforward to <t> port 80 check tcp\n}\n', name: 'every tls option'},
  {conf: 'http protocol "p" {\n\thttp websockets\n\thttp { headerlen 16384, no websockets }\n\treturn error style "body { color: red }"\n}\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tprotocol "p"\n\tforward to <t> port 80 check tcp\n}\n', name: 'http options and return error'},
  {conf: TABLE + 'table <u> { 10.0.0.2 }\nhttp protocol "p" {\n\tmatch request header set "X-Forwarded-For" value "$REMOTE_ADDR"\n\tmatch request header append "X-Via" value "relayd"\n\tmatch request header remove "X-Secret"\n\tmatch response header set "Server" value "r"\n\tpass request quick path "/static/*" forward to <u>\n\tblock request path "/admin/*"\n\tmatch request query hash "room"\n\tmatch request query log "q"\n\tmatch request cookie hash "session"\n\tmatch request url log "www.example.org/x"\n\tmatch request url digest "a9993e364706816aba3e25717850c26c9cd0d89d"\n\tmatch request method GET tag "get"\n\tmatch request tagged "get" label "l1"\n\tmatch request no tag\n\tmatch request no label\n\tmatch request path strip 1\n\tblock inet from 10.0.0.0/8 to 192.0.2.1\n\tpass inet6 from 2001:db8::/32\n\tblock response header "Content-Type" value "text/*"\n}\nrelay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tprotocol "p"\n\tforward to <t> port 80 check tcp\n\tforward to <u> port 80 check tcp\n}\n', name: 'filter rules with every key type and action'},
  {conf: 'dns protocol "d" {\n\tmatch request header log "x"\n}\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 5353\n\tprotocol "d"\n\tforward to <t> port 53 check tcp\n}\n', name: 'dns protocol'},
  {conf: TABLE + 'redirect "www" {\n\tlisten on 127.0.0.1 tcp port 80 interface lo0 pflog\n\tforward to <t> check tcp mode least-states\n\tsticky-address\n\tmatch pftag "REDIR"\n\tsession timeout 600\n\tdisable\n}\n', name: 'a redirect with every option'},
  {conf: 'table <t> { 10.0.0.1 }\ntable <b> { 10.0.0.2 }\nredirect "dns" {\n\tlisten on 127.0.0.1 udp port 53\n\tforward to <t> port 53 check icmp\n\tforward to <b> port 53 check icmp\n}\n', name: 'a redirect with a backup table'},
  {conf: 'table <gw> { 10.0.0.1 }\nrouter "up" {\n\troute 0.0.0.0/0\n\tforward to <gw> port 80 check icmp\n\trtable 1\n\trtlabel "x"\n}\n', name: 'a router'},
  {conf: 'include "tables.conf"\n' + RELAY, name: 'an include'},
  {conf: 'table <t> {\n\t10.0.0.1 \\\n\tretry 2\n}\n' + RELAY, name: 'backslash continuation'},
  {conf: 'ka = "k"\n' + TABLE + 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 mode hash $ka check tcp\n}\n', name: 'a macro as hash key'},
  {conf: 'table <t> { 10.0.0.1 }\nrelay r {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check tcp\n}\n', name: 'unquoted relay name'},
]

/** Files the include case reads. */
export const INCLUDED: Record<string, string> = {'tables.conf': 'table <t> { 10.0.0.1 }\n'}
