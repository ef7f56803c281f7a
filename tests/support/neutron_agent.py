#!/usr/bin/python3
"""neutron's own metadata agent, on a unix socket, for the end-to-end tests.

Runs the metadata agent of Debian's python3-neutron as its commands do:
eventlet monkey patching first, then UnixDomainMetadataProxy().run(),
which starts neutron's UnixDomainWSGIServer (eventlet.wsgi) with neutron's
MetadataProxyHandler on --socket. --flavor neutron is the agent of the
DHCP and L3 agents (neutron.agent.metadata.agent: X-Neutron-Network-ID or
X-Neutron-Router-ID); --flavor ovn is the OVN metadata agent's server
(neutron.agent.ovn.metadata.server: X-OVN-Network-ID). Run it with
/usr/bin/python3, where the package is.

Only what needs the rest of a cloud is replaced:
  - the port lookup: for neutron, MetadataPluginAPI (the RPC client whose
    get_ports neutron-server answers); for OVN, MetadataAgentOvnSbIdl (the
    southbound database connection whose get_network_port_bindings_by_ip
    answers). The stub answers every lookup with exactly one port whose
    device id and project encode what the handler asked for: the network
    ids it searched (a router's network is "router:<router id>", so the
    router the handler chose shows through) and the address or MAC;
  - the call to nova: the `requests` module as the handler module sees it.
    The stub answers 200 with a JSON body of what the handler concluded
    (see conclude()) and appends the same JSON as one line to --record;
  - the agent's state reports to neutron-server (RPC), and the southbound
    connection being opened by the forked worker: with metadata_workers 0
    the server runs in this process, so we publish the worker's AFTER_INIT
    event ourselves and print "ready" where the state reports would start.
Everything else is neutron's code, unmodified: reading the request off
the socket (eventlet.wsgi via neutron's UnixDomainHttpProtocol), the
WSGI environment, the headers the handler reads, X-Forwarded-For parsing,
the choice between router and network, the signing of the instance id.

usage: neutron_agent.py --socket PATH [--record FILE] [--flavor neutron|ovn]
           [--debug]
Prints "ready" on stdout once it accepts. Ends on SIGTERM or SIGINT.
"""

# As neutron/cmd/eventlet does before anything else is imported: the agent
# runs monkey patched, and eventlet.wsgi reads the request.
from neutron.common import eventlet_utils

eventlet_utils.monkey_patch()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
import urllib.parse  # noqa: E402

from neutron_lib.callbacks import events  # noqa: E402
from neutron_lib.callbacks import registry  # noqa: E402
from neutron_lib.callbacks import resources  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
import requests  # noqa: E402

from neutron.common import cache_utils  # noqa: E402
from neutron.common import config as n_config  # noqa: E402
from neutron.conf.agent.metadata import config as meta  # noqa: E402

SECRET = "ns-metadata-proxy-test-secret"
ROUTER_NET = "router:"  # the network the stub gives a router's interface
ARGS = None


def encode(what, networks, address, mac):
    """A port's device id or project: what the handler looked up."""
    return what + "|" + json.dumps({"networks": list(networks or []),
                                    "address": address, "mac": mac},
                                   sort_keys=True)


def decode(value):
    what, _, data = (value or "").partition("|")
    try:
        return what, json.loads(data)
    except ValueError:
        return what, {}


class PluginLookup(object):
    """Stands in for neutron.agent.metadata.agent.MetadataPluginAPI."""

    def __init__(self, topic):
        pass

    def get_ports(self, context, filters):
        if "device_id" in filters:
            # _get_router_networks: the router's interfaces.
            return [{"network_id": ROUTER_NET + r}
                    for r in filters["device_id"]]
        address = (filters.get("fixed_ips") or {}).get("ip_address")
        address = address[0] if address else None
        mac = filters.get("mac_address")
        mac = mac[0] if mac else None
        nets = filters.get("network_id")
        return [{"device_id": encode("instance", nets, address, mac),
                 "tenant_id": encode("project", nets, address, mac),
                 "network_id": nets[0] if nets else None}]


class SouthboundLookup(object):
    """Stands in for neutron.agent.ovn.metadata.ovsdb.MetadataAgentOvnSbIdl
    and the OvsdbSbOvnIdl its start() returns."""

    def __init__(self, chassis=None, events=None, tables=None):
        pass

    def start(self):
        return self

    def get_network_port_bindings_by_ip(self, network, ip_address):
        from neutron.common.ovn import constants as ovn_const
        nets = [network] if network is not None else []
        return [types.SimpleNamespace(uuid="port-stub", external_ids={
            ovn_const.OVN_DEVID_EXT_ID_KEY: encode("instance", nets,
                                                   ip_address, None),
            ovn_const.OVN_PROJID_EXT_ID_KEY: encode("project", nets,
                                                    ip_address, None)})]


def conclude(method, url, headers, data):
    """What the handler concluded, from the request it makes to nova."""
    instance = headers.get("X-Instance-ID")
    _, found = decode(instance)
    nets = found.get("networks", [])
    network_id = router_id = None
    if len(nets) == 1 and nets[0].startswith(ROUTER_NET):
        router_id = nets[0][len(ROUTER_NET):]
    elif len(nets) == 1:
        network_id = nets[0]
    elif nets:
        network_id = nets
    parts = urllib.parse.urlsplit(url)
    want = hmac.new(SECRET.encode(), (instance or "").encode(),
                    hashlib.sha256).hexdigest()
    return {"flavor": ARGS.flavor, "method": method,
            "instance_id": instance,
            "project_id": headers.get("X-Tenant-ID"),
            "network_id": network_id, "router_id": router_id,
            "remote_address": found.get("address"),
            "remote_mac": found.get("mac"),
            "forwarded_for": headers.get("X-Forwarded-For"),
            "signed": headers.get("X-Instance-ID-Signature") == want,
            "path": parts.path, "query": parts.query,
            "body_bytes": len(data or b"")}


class Nova(object):
    """Stands in for the `requests` module in the handler's module."""

    @staticmethod
    def request(method, url, headers=None, data=None, **kwargs):
        entry = conclude(method, url, headers or {}, data)
        line = json.dumps(entry, sort_keys=True)
        if ARGS.record:
            with open(ARGS.record, "a") as f:
                f.write(line + "\n")
        resp = requests.models.Response()
        resp.status_code = 200
        resp.headers["Content-Type"] = "application/json"
        resp._content = line.encode()
        resp.url = url
        return resp


def configure(args):
    # What neutron's metadata agent commands register, less RPC and the
    # config files: cfg.CONF as the handler and the WSGI server read it.
    n_config.register_common_config_options()
    meta.register_meta_conf_opts(meta.SHARED_OPTS)
    meta.register_meta_conf_opts(meta.UNIX_DOMAIN_METADATA_PROXY_OPTS)
    meta.register_meta_conf_opts(meta.METADATA_PROXY_HANDLER_OPTS)
    cache_utils.register_oslo_configs(cfg.CONF)
    cfg.CONF([], project="neutron", default_config_files=[],
             default_config_dirs=[])
    cfg.CONF.set_override("debug", args.debug)
    logging.setup(cfg.CONF, "neutron")
    cfg.CONF.set_override("metadata_proxy_socket", args.socket)
    # One process: the forked workers neutron would start change nothing
    # in how a request is read or judged.
    cfg.CONF.set_override("metadata_workers", 0)
    # The proxy may run as another user (neutron's config drops to one).
    cfg.CONF.set_override("metadata_proxy_socket_mode", meta.ALL_MODE)
    cfg.CONF.set_override("metadata_proxy_shared_secret", SECRET)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--record")
    ap.add_argument("--flavor", choices=("neutron", "ovn"),
                    default="neutron")
    ap.add_argument("--debug", action="store_true")
    ARGS = ap.parse_args()
    configure(ARGS)

    def stop(*_):
        try:
            os.unlink(ARGS.socket)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def ready(*_):
        print("ready", flush=True)

    if ARGS.flavor == "neutron":
        from neutron.agent.metadata import agent
        agent.MetadataPluginAPI = PluginLookup
        agent.requests = Nova
        # run() starts the server, then the state reports: say ready there.
        agent.UnixDomainMetadataProxy._init_state_reporting = ready
        agent.UnixDomainMetadataProxy(cfg.CONF).run()
    else:
        from neutron.agent.ovn.metadata import server
        server.ovsdb.MetadataAgentOvnSbIdl = SouthboundLookup
        server.requests = Nova
        proxy = server.UnixDomainMetadataProxy(cfg.CONF, "chassis-stub")
        proxy.run()
        # What a forked worker announces; the handler opens its southbound
        # connection on it (post_fork_initialize).
        registry.publish(resources.PROCESS, events.AFTER_INIT, None)
        ready()
        proxy.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
