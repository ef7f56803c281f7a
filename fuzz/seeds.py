#!/usr/bin/env python3
"""Write the seed corpora of fuzz/corpus/<target>/ (run from anywhere).

The seeds are committed; this script is how they were made, so they can
be changed in one place. Each target's input format is described at the
top of its fuzz_<target>.c.
"""
import json
import os
import shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
UUID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def validate():
    # selector, two parameter bytes, the string
    seeds = {
        "uuid": (0, 0, 0, UUID),
        "uuid-upper": (0, 0, 0, UUID.upper()),
        "ulong": (1, 1, 0, "9697"),
        "port-over": (2, 0, 0, "65536"),
        "addr-v4": (3, 0, 0, "169.254.169.254"),
        "addr-v6": (3, 2, 0, "fe80::a9fe:a9fe"),
        "addr-zone": (3, 2, 0, "fe80::1%eth0"),
        "ifname": (4, 0, 0, "qr-1a2b3c4d-5e"),
        "netns": (5, 0, 0, "qrouter-" + UUID),
        "path": (6, 3, 0, "/var/lib/neutron/metadata_proxy"),
        "path-dotdot": (6, 7, 0, "/var/lib/neutron/../../etc/shadow"),
        "path-nl": (6, 7, 0, "/var/lib/neutron\n    server evil /tmp/x"),
        "component": (7, 0, 0, "neutron-ns-metadata-proxy-" + UUID + ".log"),
        "account": (8, 0, 0, "neutron"),
        "account-id": (8, 0, 0, "4294967295"),
        "timeout": (9, 0, 0, "30s"),
        "timeout-us": (9, 0, 0, "1500us"),
        # leading zeros are not decimal; ':' and a leading '-' not a name
        "ulong-leading-zero": (1, 1, 0, "080"),
        "port-leading-zero": (2, 0, 0, "09697"),
        "account-leading-zero": (8, 0, 0, "00"),
        "timeout-leading-zero": (9, 0, 0, "010s"),
        "ifname-colon": (4, 0, 0, "tap:1"),
        "ifname-dash": (4, 0, 0, "-tap0123abcd-ef"),
        "facility": (10, 0, 0, "LOG_LOCAL0"),
        "escape": (11, 80, 64, "a\x01b'c\\d\xff" * 4),
    }
    for name, (sel, p1, p2, s) in seeds.items():
        write("validate", name, bytes([sel, p1, p2]) + s.encode("latin-1"))


def cli():
    lines = {
        # what neutron's agents run (l3 agent, dhcp agent), and ovn
        "neutron-router": [
            "neutron-ns-metadata-proxy",
            "--pid_file=/var/lib/neutron/external/pids/%s.pid" % UUID,
            "--metadata_proxy_socket=/var/lib/neutron/metadata_proxy",
            "--router_id=%s" % UUID, "--state_path=/var/lib/neutron",
            "--metadata_port=9697", "--metadata_proxy_user=996",
            "--metadata_proxy_group=996", "--debug",
            "--log-file=neutron-ns-metadata-proxy-%s.log" % UUID,
            "--log-dir=/var/log/neutron"],
        "neutron-network": [
            "neutron-ns-metadata-proxy", "--network_id", UUID,
            "--state_path", "/var/lib/neutron", "--nometadata_proxy_watch_log",
            "--metadata_proxy_user", "neutron", "--bind_address", "::",
            "--bind-address-v6", "fe80::a9fe:a9fe", "--bind-interface",
            "tap1234", "--use-syslog", "--syslog-log-facility", "local3"],
        "run-builtin": [
            "ns-metadata-proxy", "run", "--network-id=" + UUID,
            "--engine", "builtin", "--netns", "ovnmeta-" + UUID,
            "--flavor=ovn", "--rate-limit-enabled",
            "--base-window-duration=10", "--burst-query-rate-limit=5",
            "--timeout-client=90s", "--timeout-http-request=1500us"],
        "bad-abbrev": ["ns-metadata-proxy", "--net=" + UUID, "render"],
        "bad-twice": ["ns-metadata-proxy", "--network-id=" + UUID,
                      "--network_id=" + UUID],
        "bad-newline": ["ns-metadata-proxy", "render", "--router-id=" + UUID,
                        "--state-path=/tmp/x\n    server evil 1.2.3.4:80"],
        "help": ["ns-metadata-proxy", "--help"],
        "dashdash": ["ns-metadata-proxy", "--network-id", UUID, "--",
                     "status", "extra"],
    }
    for name, argv in lines.items():
        write("cli", name, "\0".join(argv))


def render():
    # byte 0: id and flavour; then NUL-separated pieces, each an option
    # index of fuzz_render.c's table and its value (255: a raw argument)
    def opt(i, v=""):
        return bytes([i]) + v.encode()
    seeds = {
        "plain": (0, []),
        "router": (1, [opt(0, "/run/neutron/metadata_proxy"), opt(26)]),
        "ovn-v6": (2, [opt(1, "::"), opt(2, "fe80::a9fe:a9fe"),
                       opt(3, "eth0"), opt(4, "80")]),
        "rate": (3, [opt(28), opt(17, "6"), opt(18, "60"), opt(19, "100"),
                     opt(20, "1"), opt(21, "5")]),
        "timeouts": (0, [opt(12, "1500us"), opt(13, "2m"), opt(14, "1h"),
                         opt(15, "1d"), opt(16, "250")]),
        "accounts": (0, [opt(5, "neutron"), opt(6, "nogroup"),
                         opt(7, "/srv/state"), opt(8, "/run/x.pid")]),
        "inject-nl": (0, [opt(7, "/tmp\n    server evil 10.0.0.1:80")]),
        "inject-hash": (1, [opt(255, "--pid-file=/x #y")]),
    }
    for name, (b0, pieces) in seeds.items():
        write("render", name, bytes([b0]) + b"\0".join(pieces))




GET = ("GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n"
       "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
HEAD = ("HEAD /latest/meta-data/instance-id HTTP/1.1\r\n"
        "Host: 169.254.169.254\r\n\r\n")


def http_request():
    # byte 0: configuration, byte 1: how the bytes arrive (0: at once)
    seeds = {
        "get": (0, 0, GET),
        "get-bytewise": (0, 1, GET),
        "get-10": (4, 0, "GET /openstack/latest/meta_data.json HTTP/1.0\r\n"
                   "\r\n"),
        "pipelined": (1, 5, GET + GET.replace("meta-data/", "user-data") +
                      "GET /latest/meta-data/public-keys HTTP/1.1\r\n"
                      "Host: 169.254.169.254\r\nConnection: close\r\n\r\n"),
        "spoofed": (2, 6, "GET /latest/meta-data/instance-id HTTP/1.1\r\n"
                    "Host: x\r\nX-Forwarded-For: 10.0.0.99\r\n"
                    "x_neutron_router_id: 11111111-1111-1111-1111-111111111111\r\n"
                    "X-OVN-Network-ID: 22222222-2222-2222-2222-222222222222\r\n"
                    "X-Neutron-Network-ID: evil\r\nx-forwarded_for: 1.2.3.4\r\n"
                    "Connection: keep-alive, X-Custom\r\nX-Custom: 1\r\n"
                    "Keep-Alive: timeout=5\r\nUpgrade: h2c\r\nTE: trailers\r\n"
                    "\r\n"),
        "post-length": (0, 3, "POST /openstack/2013-04-04/password HTTP/1.1\r\n"
                        "Host: 169.254.169.254\r\nContent-Length: 11\r\n"
                        "Content-Type: text/plain\r\n\r\nhello world" + GET),
        "post-chunked": (0, 2, "POST /openstack/latest/password HTTP/1.1\r\n"
                         "Host: 169.254.169.254\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n" + GET),
        "smuggle-cl-te": (0, 0, "POST / HTTP/1.1\r\nHost: a\r\n"
                          "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"
                          "\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n"),
        "smuggle-cl-cl": (0, 0, "POST / HTTP/1.1\r\nHost: a\r\n"
                          "Content-Length: 4\r\nContent-Length: 40\r\n\r\n"
                          "abcdGET / HTTP/1.1\r\n\r\n"),
        "smuggle-te-obs": (0, 0, "POST / HTTP/1.1\r\nHost: a\r\n"
                           "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        "smuggle-bare-lf": (0, 0, "GET / HTTP/1.1\nHost: a\n"
                            "X-Neutron-Network-ID: x\n\n"),
        "obs-fold": (0, 0, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n"
                     " X-Forwarded-For: 1.1.1.1\r\n\r\n"),
        "trailer": (0, 0, "POST / HTTP/1.1\r\nHost: a\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
                    "X-Forwarded-For: 1.2.3.4\r\n\r\n"),
        # byte 0 bit 6: a body cap of 100 bytes
        "body-over-cap": (0x40, 3, "POST / HTTP/1.1\r\nHost: a\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"
                          + "a\r\n0123456789\r\n" * 11 + "0\r\n\r\n"),
        "absolute-form": (0, 0, "GET http://evil.example/latest HTTP/1.1\r\n"
                          "Host: a\r\n\r\n"),
        "no-host": (0, 0, "GET /latest HTTP/1.1\r\n\r\n"),
        "huge-length": (0, 0, "POST / HTTP/1.1\r\nHost: a\r\n"
                        "Content-Length: 9223372036854775817\r\n\r\n"),
        "many-headers": (0, 4, "GET / HTTP/1.1\r\nHost: a\r\n" +
                         "X-A: b\r\n" * 100 + "\r\n"),
        "chunk-ext-long": (0, 6, "POST / HTTP/1.1\r\nHost: a\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n5;" + "e" * 1100 +
                           "\r\nhello\r\n0\r\n\r\n"),
        "identity-headers": (0, 0, "GET / HTTP/1.1\r\nHost: a\r\n"
                             "Forwarded: for=1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\n"
                             "x_instance_id: i-1\r\nX-Instance-ID-Signature: s\r\n"
                             "X-Tenant-ID: t\r\n\r\n"),
        "big-head": (0x18, 7, "GET /" + "a" * 300 + " HTTP/1.1\r\nHost: a\r\n"
                     "X-Long: " + "b" * 600 + "\r\n\r\n"),
        "agent-limit": (0x20, 4, "GET / HTTP/1.1\r\nHost: a\r\nCookie: " +
                        "c" * 480 + "\r\n\r\n"),
        "connect": (0, 0, "CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n"),
        "http2-preface": (0, 0, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        # Agent connection reuse: read byte by byte (byte 1 = 8), so that a
        # head's end is the end of what was read (nothing pipelined behind
        # it) and the next request goes on the same agent stream; or in
        # small pieces, so that it sometimes is.
        "reuse-gets": (0, 8, GET * 3),
        "reuse-gets-split": (2, 4, GET + GET.replace("meta-data/", "user-data")
                             + HEAD + GET),
        "reuse-head": (0, 8, HEAD + HEAD + "HEAD / HTTP/1.1\r\nHost: a\r\n"
                       "Connection: close\r\n\r\n"),
        "reuse-then-post": (0, 8, GET + "POST /openstack/latest/password "
                            "HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                            "\r\nabc" + GET),
        # A length, a coding or an expectation as a WSGI agent reads them,
        # some spelt so that http_parser does not: never on a kept agent
        # connection.
        "reuse-content_length": (0, 8, "GET / HTTP/1.1\r\nHost: a\r\n"
                                 "Content_Length: 0\r\n\r\n" + GET),
        "reuse-cl-zero": (0, 8, "GET / HTTP/1.1\r\nHost: a\r\n"
                          "content-length: 0\r\n\r\n" + GET),
        "reuse-expect": (0, 8, "GET / HTTP/1.1\r\nHost: a\r\n"
                         "expect: 100-continue\r\n\r\n" + GET),
        "reuse-te-underscore": (0, 5, "GET / HTTP/1.1\r\nHost: a\r\n"
                                "TRANSFER_ENCODING: chunked\r\n\r\n" + GET),
        "reuse-10-keep-alive": (0, 8, "GET / HTTP/1.0\r\n"
                                "Connection: keep-alive\r\n\r\n" + GET),
    }
    for name, (b0, b1, s) in seeds.items():
        write("http_request", name, bytes([b0, b1]) + s.encode())
    # Found by the fuzzer: the status must not depend on where the input
    # is cut (a body over the cap; a head of too many lines).
    write("http_request", "body-cap-split", (
        b'A\x02POST /optt/password HTTP/1.1\r\nHost: 169.255.16'
        b'9.2u4\r\nTransfer-Encoding: chunked\r\n\r\n6a\r\nlello\r\n'
        b'4;\x02\x06GET /latepassword HTTP/1.1\r\nHost: 169.255.16'
        b'9.2u4\r\nTransfer-Encoding: chunked\r\n\r\n5a\r\nlello\r\n'
        b'4;\x02\x06GET /st/Aet=1\r\nm'))
    write("http_request", "header-lines-split", (
        b'\x00\x03POST /o\xa9penstack/2013-0 HTTP/1.1\r\nHost: 169.25'
        b'4.1il\r\nx-: 1ngth: rk-ID: evil\r\nx-: 10kbk-ID\r\nX-O'
        b"VN'Network-ID: 2222222T /latest/m-adatet4\r\nKve: "
        b'\r\nTE:aaKeep2-2O222-, X\xadCus4om\r\nX-Custom: ep-al-I'
        b'D: 2222222T /latest/m-adatet5\r\nKve: \r\nTE:aKeep22'
        b'22T /latest/m-adatet4\r\nKve: \r\nTE:aKee-adatet4\r\nK'
        b've: \r\nTE:aKeep2-2O222-, X\xadCus4om\r\nX-Custom: ep-a'
        b"liveil\r\nx-: 10kbk-ID\r\nX-OVN'Network-ID: 2222222T"
        b' /latest/m-adatet4\r\nKve: \r\nTE:aKeep2222T /lateEt'
        b'/m-adatet4\r\nKve: \r\nTE:aKee-adatet4\r\nKve: \r\nTE:aK'
        b'eep2-2O222-, X\xadCus4om\r\nX-Custom: ep-al-ID4\r\nKve:'
        b' \r\nTE:aKee-adatet4\r\nKve: \r\nTE:aKeep2-2O222-, X\xadC'
        b'us4om\r\nX-Custom: ep-al-ID: 2222222222222T /lates'
        b't/m-adatet4\r\nKve: \r\nTE:aKeep2222T /latest/m-adat'
        b'et4\r\nKve: \r\nTE:aKee-adatet4\r\nKve: \r\nTE:aKeep2-2O'
        b'222-, X\xadCus4om\r\nX-Custom: ep-alive, X-Cus4om\r\nX-'
        b'Custom: h2c\xf3\xf5\xab\xbd: traileerncodKeep2222T /latest/m'
        b'-adatet4\r\nKve: \r\nTE:aKee-ep2222T /latest/m-adate'
        b't4\r\nKve: \r\nTE:aKee-adatet4\r\nKve: \r\nTE:aKeep2-2O2'
        b'22-, X\xadCus4om\r\nX-Custom: ep-aliveil\r\nx-: 10kbk-I'
        b"D\r\nX-OVN'Netw: 2222222222222K /latest/m-adatet4\r"
        b'\nKve: \r\nTE:aKeep2222T /latest/m-adatet4\r\nKve: \r\n'
        b'TE:aKee-adatet4\r\nKve: \r\nTE:aKeep2-2O222-, X\xadCus4'
        b'om\r\nX-Custom: ep-alive, X-Cus4om\r\nX-Custom: h2c\xf3'
        b'\xf5\xab\xbd: traileerncodKeep2222T /latest/m-adatet4\r\nKv'
        b'e: \r\nTE:aKee-ep2222T /latest/m-adatet4\r\nKve: \r\nT'
        b'E:aKee-adatet4\r\nKve: \r\nTE:aKeep2-2O222-, X\xadCus4o'
        b"m\r\nX-Custom: ep-aliveil\r\nx-: 10kbk-ID\r\nX-OVN'Net"
        b'work-ID: 2222222T /latest/m-adatet4\r\nKve: \r\nTE:a'
        b'Keep2222T latest/m-adatet4\r\nKve: \r\nTE:aKeep2222T'
        b' /latest/m-T /latest/m-adatet4\r\nKve: \r\nTE:aKeep2'
        b'222saltT/ et/m-adatet4\r\nKve: \r\nTE:aKee-adatet4\r\n'
        b'Kve: \r\nTE:aKeep2-2O222-, X\xadCus4om\r\nX-Custom: ep-'
        b';ext=1alive, X-Cus4om\r\nX-Custom: h2c\xf3\xf5\xab\xbd: traile'
        b'erncodKeX-Neutron-Router-ID: tet4\r\nKve: \r\nTE:aKe'
        b'e-ep2222T /latest/m-adatet4\r\nKve: \r\nTE:aKee-adat'
        b'et4\r\nKveTE:aKeep2222T latest/m-adatet4\r\nKve:ve: '
        b'\r\nTE:aKee-ep2222T /latest/m-adatet4\r\nKve: \r\nTE:a'
        b'Kee-adatet4\r\nKve: \r\nTE:aKeep2-2O222m, X\xadCp-alive'
        b"il\r\nx-: 10kbk-ID\r\nX-OVN'Network-ID: 2222222T /la"
        b'test/m-adatet4\r\nKve: \r\nTE:aKeep2222T latest/m-ad'
        b'atet4\r\nKve: \r\nTE:aKeep2222T /latest/m-T /latest/'
        b'm-adatet4\r\nKve: \r\nTE:aKeep2222saltT/ et/m-adatet'
        b'4\r\nKve: us4om\r\nX-Custom: ep-alivdil\r\nx-: 10kbk-I'
        b"D\r\nX-OVN'Network-ID: 2222222T /latest/m-\xbbdatet4\r"
        b'\nKve: \r\nTE:aKeep2222T latest/m-adatet4\r\nKve: \r\nT'
        b'E:aKe HTTP/1.1\r\nin\xc4ue\r\n\r\n/7.88.1 */*\r\n\r\n$'))


def http_response():
    # byte 0: bit 0 the request was HEAD, bit 1 the client wants keep-alive,
    # bits 2 and 3 the same for the second response (what follows the first,
    # to the reset parser), bit 4 stop at the end of the first response as
    # the engine does; byte 1: how the bytes arrive (0: at once)
    ok = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"
          "Content-Length: 36\r\nDate: Sun, 29 Nov 2026 10:00:00 GMT\r\n\r\n"
          + UUID)
    seeds = {
        "ok": (2, 0, ok),
        "ok-bytewise": (2, 1, ok),
        "head": (3, 0, ok[:-36]),
        "chunked": (2, 3, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                    "\r\n4\r\nami-\r\n8\r\n00000001\r\n0\r\n\r\n"),
        "eof-body": (2, 5, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                     "i-0000002a"),
        "not-found": (0, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
                      "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n"
                      "Not Found"),
        "continue": (2, 2, "HTTP/1.1 100 Continue\r\n\r\n" + ok),
        "no-content": (2, 0, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n"
                       "\r\n"),
        "hop": (2, 0, "HTTP/1.1 200 OK\r\nConnection: X-Secret, close\r\n"
                "X-Secret: 1\r\nProxy-Connection: keep-alive\r\nUpgrade: h2\r\n"
                "Content-Length: 2\r\n\r\nok"),
        "cl-te": (2, 0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        "trailer": (2, 4, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                    "\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n"),
        "extra": (2, 0, ok + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "bad": (2, 0, "HTTP/1.1 2000 OK\r\n\r\n"),
        # more interim responses than the reference parse keeps messages
        "many-interim": (2, 0, "HTTP/1.1 100 Continue\r\n\r\n" * 70 + ok),
        # chunked and a tab: http_parser frames it to the close (502 now)
        "te-tab": (2, 4, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t"
                   "\r\n\r\n2\r\n\nX-T:"),
        # Agent connection reuse: one response, then the next on the same
        # connection, to the reset parser. Only the first, framed by its
        # Content-Length alone, keeps the connection.
        "reuse-cl": (0x1a, 0, ok + ok),
        "reuse-cl-bytewise": (0x1a, 8, ok + "HTTP/1.1 404 Not Found\r\n"
                              "Content-Length: 9\r\n\r\nNot Found"),
        "reuse-head-cl": (0x1f, 3, ok[:-36] + ok[:-36]),
        "reuse-head-then-get": (0x1b, 0, ok[:-36] + ok),
        "reuse-chunked": (0x1a, 2, "HTTP/1.1 200 OK\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"
                          "4\r\nami-\r\n0\r\n\r\n" + ok),
        "reuse-no-length": (0x1a, 5, "HTTP/1.1 200 OK\r\n"
                            "Content-Type: text/plain\r\n\r\n" + ok),
        "reuse-close": (0x1a, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                        "Connection: close\r\n\r\nok" + ok),
        "reuse-10": (0x1a, 0, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n"
                     "Connection: keep-alive\r\n\r\nok" + ok),
        "reuse-304": (0x1a, 0, "HTTP/1.1 304 Not Modified\r\n"
                      "Content-Length: 36\r\n\r\n" + ok),
        "reuse-continue": (0x1a, 4, "HTTP/1.1 100 Continue\r\n\r\n" + ok
                           + "HTTP/1.1 100 Continue\r\n\r\n" + ok),
        # the same back to back, the first read on to the agent's close
        "back-to-back": (0x0a, 0, ok + ok),
        "back-to-back-error": (0x1a, 0, "HTTP/1.1 200 OK\r\n"
                               "Content-Length: x\r\n\r\n" + ok),
    }
    for name, (b0, b1, s) in seeds.items():
        write("http_response", name, bytes([b0, b1]) + s.encode())


def haproxy_cfg():
    # byte 0: 0 one file, else two cut at (size - 1) * byte / 256
    net = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    head = ("global\n"
            "    log         /dev/log local0 info\n"
            "    log-tag     haproxy-metadata-proxy-" + net + "\n"
            "    user        root\n"
            "    group       root\n"
            "    maxconn     1024\n"
            "    pidfile     /var/lib/neutron/external/pids/" + net + ".pid\n"
            "    daemon\n\n"
            "defaults\n"
            "    log global\n"
            "    mode http\n"
            "    option httplog\n"
            "    option dontlognull\n"
            "    option http-server-close\n"
            "    option forwardfor\n"
            "    retries                 3\n"
            "    timeout http-request    30s\n"
            "    timeout connect         30s\n"
            "    timeout client          32s\n"
            "    timeout server          32s\n"
            "    timeout http-keep-alive 30s\n\n")
    network = ("listen listener\n"
               "    bind 169.254.169.254:80\n"
               "    server metadata /var/lib/neutron/metadata_proxy\n"
               "    http-request del-header X-Neutron-Router-ID\n"
               "    http-request set-header X-Neutron-Network-ID " + net + "\n")
    router = ("listen listener\n"
              "    bind 0.0.0.0:9697\n"
              "    bind fe80::a9fe:a9fe:9697 interface qr-1a2b3c4d-5e\n"
              "    server metadata /var/lib/neutron/metadata_proxy\n"
              "    http-request del-header X-Neutron-Network-ID\n"
              "    http-request set-header X-Neutron-Router-ID " + net + "\n")
    ovn = ("listen listener\n"
           "    bind 169.254.169.254:80\n"
           "    server metadata /var/lib/neutron/metadata_proxy\n"
           "    http-request add-header X-OVN-Network-ID " + net + "\n")
    rate = ("backend base_rate_limiter\n"
            "    stick-table type ip size 10k expire 10s store http_req_rate(10s)\n\n"
            "backend burst_rate_limiter\n"
            "    stick-table type ip size 10k expire 10s store http_req_rate(10s)\n\n"
            "listen listener\n"
            "    bind 169.254.169.254:80\n"
            "    http-request track-sc0 src table base_rate_limiter\n"
            "    http-request track-sc1 src table burst_rate_limiter\n"
            "    http-request deny deny_status 429 if { src_http_req_rate(base_rate_limiter) gt 10 }\n"
            "    http-request deny deny_status 429 if { src_http_req_rate(burst_rate_limiter) gt 10 }\n"
            "    server metadata /var/lib/neutron/metadata_proxy\n"
            "    http-request set-header X-Neutron-Network-ID " + net + "\n")
    ours = ("listen listener\n"
            "    bind 169.254.169.254:80\n"
            "    server metadata /var/lib/neutron/metadata_proxy\n"
            "    http-request del-header '(?i)^x[-_](neutron|ovn)[-_]' -m reg\n"
            "    http-request del-header '(?i)^x[-_]forwarded[-_]for$' -m reg\n"
            "    http-request set-header X-Neutron-Network-ID " + net + "\n")
    seeds = {
        "network": (0, head + network),
        "router-v6": (0, head + router),
        "ovn": (0, head + ovn),
        "rate-limited": (0, head + rate),
        "our-deletions": (0, head + ours),
        "two-files": (128, head + network),
        "injected-line": (0, head + network.replace(
            "metadata_proxy\n", "metadata_proxy\n    server evil /tmp/x\n")),
        "nul": (0, head + "\0" + network),
    }
    for name, (b0, text) in seeds.items():
        write("haproxy_cfg", name, bytes([b0]) + text.encode())


def fleet_proto():
    # one control message, as one datagram brings it: read as a request,
    # as a reply, and by the server
    net = {"id": UUID, "kind": "network", "flavor": "neutron",
           "socket": "/var/lib/neutron/metadata_proxy",
           "bind": "169.254.169.254", "port": 80}
    full = {"id": UUID, "kind": "router", "flavor": "neutron",
            "socket": "/var/lib/neutron/metadata_proxy", "bind": "0.0.0.0",
            "bind_v6": "fe80::a9fe:a9fe", "interface": "qr-1a2b3c4d-5e",
            "port": 9697, "max_conns_per_source": 64,
            "max_body_size": 65536,
            "timeouts": {"http_request": 30000, "connect": 30000,
                         "client": 32000, "server": 32000,
                         "http_keep_alive": 30000},
            "rate_limit": {"enabled": True, "ip_version": 6,
                           "base_window": 10, "base_limit": 10,
                           "burst_window": 1, "burst_limit": 5}}
    info = {"id": UUID, "kind": "router", "flavor": "neutron",
            "netns": "qrouter-" + UUID, "netns_inode": 4026532000,
            "binds": ["0.0.0.0:9697", "[fe80::a9fe:a9fe]:9697"],
            "requests": 12, "refused": 1, "conns": 0,
            "last_error": "agent refused", "last_error_at": 1700000000,
            "since": 1690000000, "held": False}

    def msg(o):
        return json.dumps(o, separators=(",", ":"))
    seeds = {
        "add": msg({"v": 1, "op": "add", "network": net}),
        "add-full": msg({"v": 1, "op": "add", "network": full,
                         "netns": "qrouter-" + UUID, "hold": True}),
        "add-ovn": msg({"v": 1, "op": "add", "network": dict(
            net, flavor="ovn", bind="::", port=80)}),
        "del": msg({"v": 1, "op": "del", "id": UUID}),
        "show": msg({"v": 1, "op": "show", "id": UUID}),
        "list": msg({"v": 1, "op": "list"}),
        "list-after": msg({"v": 1, "op": "list", "after": UUID}),
        "metrics": msg({"v": 1, "op": "metrics"}),
        "health": msg({"v": 1, "op": "health"}),
        "reply-metrics": msg({"v": 1, "ok": True, "metrics_bytes": 7425}),
        "reply-health": msg({"v": 1, "ok": True, "health": {
            "status": "degraded", "networks": 2, "listeners": 2,
            "listening": 2, "agents": [
                {"path": "/var/lib/neutron/metadata_proxy",
                 "reachable": False, "error": "Connection refused"},
                {"path": "/run/ovn/metadata_proxy", "reachable": True}]}}),
        "reply-ok": msg({"v": 1, "ok": True}),
        "reply-error": msg({"v": 1, "ok": False,
                            "error": "network " + UUID + " is not served"}),
        "reply-list": msg({"v": 1, "ok": True, "more": True, "networks": [
            info, dict(info, id=UUID.replace("6f", "7f"), kind="network",
                       flavor="ovn", netns="", binds=["169.254.169.254:80"],
                       last_error="", held=True)]}),
        # refusals: a NUL, a newline in a value, depth, bytes after it
        "bad-nul": msg({"v": 1, "op": "add", "network": dict(
            net, socket="/run/a\0b")}),
        "bad-newline": msg({"v": 1, "op": "add", "network": dict(
            net, socket="/run/a\n    server evil /tmp/x")}),
        "bad-ovn-router": msg({"v": 1, "op": "add", "network": dict(
            net, flavor="ovn", kind="router")}),
        "bad-v6-alone": msg({"v": 1, "op": "add", "network": dict(
            net, bind_v6="fe80::a9fe:a9fe")}),
        "bad-port": msg({"v": 1, "op": "add", "network": dict(
            net, port=65536)}),
        "bad-reply-binds": msg({"v": 1, "ok": True, "networks": [dict(
            info, binds=["0.0.0.0:9697", "[::]:9697", "[::1]:9697"])]}),
        "bad-deep": "[" * 64,
        "bad-trailing": msg({"v": 1, "op": "list"}) + "{}",
    }
    for name, text in seeds.items():
        write("fleet_proto", name, text)


def front():
    # selector byte (even: front.conf, odd: the stub's handover), the text
    confs = {
        "conf-all": "# the fleet\nfleet = on\n"
                    "control_socket = /run/ns-metadata-proxy/fleet.sock\n"
                    "reconnect_timeout = 60\n",
        "conf-off": "fleet = off  # rolled back\r\n",
        "conf-twice": "fleet = on\nfleet = off\n",
        "conf-bad-path": "control_socket = /run/../x.sock\n",
    }
    for name, text in confs.items():
        write("front", name, b"\x00" + text.encode())
    req = json.dumps({"v": 1, "op": "add", "hold": True, "network": {
        "id": UUID, "kind": "network", "flavor": "neutron",
        "socket": "/var/lib/neutron/metadata_proxy",
        "bind": "169.254.169.254", "port": 80}}, separators=(",", ":"))
    ho = ("id=%s\ncontrol_socket=/run/ns-metadata-proxy/fleet.sock\n"
          "reconnect_timeout=60\nconn=3\nlisten=9,10\npidfile_fd=5\n"
          "pidfile_dir=4\npidfile_name=%s.pid.haproxy\nlog_fd=-1\n"
          "log_path=\nsyslog=local0\nident=haproxy-metadata-proxy\n"
          "debug=0\nuid=65534\ngid=65534\nctl_gid=107\nrequest=%s\n"
          % (UUID, UUID, req))
    write("front", "handover", b"\x01" + ho.encode())
    write("front", "handover-no-request",
          b"\x01" + ho.replace("request=", "x=").encode())


def main():
    for t in ("validate", "cli", "render", "http_request", "http_response",
              "haproxy_cfg", "fleet_proto", "front"):
        shutil.rmtree(os.path.join(ROOT, t), ignore_errors=True)
    validate()
    cli()
    render()
    http_request()
    http_response()
    haproxy_cfg()
    fleet_proto()
    front()


if __name__ == "__main__":
    main()
