#!/usr/bin/python3
"""neutron's agents starting and watching metadata proxies, for the tests.

One long-lived process plays the part of neutron's DHCP agent, L3 agent
and OVN metadata agent in what they do with the metadata proxy: their
oslo.config options, one external_process.ProcessMonitor each (the
DHCP agent's "dhcp", the L3 agent's "router", the OVN agent's
"metadata"), and the drivers' own calls:

  DHCP  neutron.agent.metadata.driver.MetadataDriver
        .spawn_monitored_metadata_proxy(monitor, ns, 80, conf,
        bind_address=169.254.169.254, network_id=ID), as the DHCP agent's
        enable_isolated_metadata_proxy() makes it
  L3    the same with router_id=ID, the L3 agent's metadata_port (9697)
        and the driver's default bind address (0.0.0.0)
  OVN   neutron.agent.ovn.metadata.driver.MetadataDriver
        .spawn_monitored_metadata_proxy(monitor, ns, 80, conf,
        bind_address=169.254.169.254, network_id=ID), as the OVN metadata
        agent's provision_datapath() makes it

and destroy_monitored_metadata_proxy() of the same driver. The drivers
write the haproxy config (state_path/ns-metadata-proxy/ID.conf, or
ovn-metadata-proxy/), run `ip netns exec NS haproxy -f CONF` and find the
proxy by the pidfile external_pids/ID.pid.haproxy and the id in its
command line, exactly as on a network node; the monitors check every
second and respawn what is gone. `haproxy` is whatever comes first on
PATH.

The DHCP and L3 agents' options are cfg.CONF; the OVN agent, another
process on a real node, has its own ConfigOpts here (the same state_path,
its own metadata_proxy_socket: the OVN agent's).

Only what talks to things that do not exist here is changed:
  - no sudo or rootwrap: we run as root, so AGENT.root_helper is "" and
    the commands run as they are;
  - no oslo.privsep daemon (it would be started through the root helper):
    every privsep context of neutron runs its entrypoints in this process
    (set_client_mode(False), as neutron's keepalived-state-change, which
    runs as root, does and as the privsep daemon itself does); they are
    the kill of a proxy and the removal of its pidfile and config;
  - AGENT.kill_scripts_path points at an empty directory, so a node's own
    kill scripts are never used.

Commands, one line each on stdin; one answer line each on stdout:
  spawn FLAVOR ID NS [FLAVOR ID NS ...]
        FLAVOR dhcp, l3 or ovn; all at once (as the agents' green thread
        pools do); "spawned N" or "spawn failed K of N: ID: why; ..."
  active ID        "active ID PID" or "inactive ID PID|-": the driver's
                   ProcessManager for ID, its .active and .pid
  actives          "actives A T [ID ...]": A of the T known are active,
                   then the ids of those that are not
  destroy ID [ID ...]
                   destroy_monitored_metadata_proxy for each, all at once;
                   "destroyed N" or "destroy failed K of N: ..."
  freeze SECONDS   hold the whole process (the monitors with it) still for
                   SECONDS, then "thawed": a test's window between a
                   proxy's death and its respawn
  quit             "bye"; the monitors stop, the proxies stay
Prints "ready" once set up. The log (neutron's, with the monitors'
"Respawning" lines) goes to --log-file.

usage: neutron_procmgr.py --state-path DIR --socket PATH --ovn-socket PATH
           --user U --group G --log-file FILE [--debug]
Run it with /usr/bin/python3, where the package is.
"""

# As neutron's agents do before anything else is imported: green threads
# everywhere, so the monitors' checks run while we wait for a command.
from neutron.common import eventlet_utils

eventlet_utils.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import eventlet  # noqa: E402
from eventlet import hubs  # noqa: E402
from eventlet import patcher  # noqa: E402
from neutron_lib import constants as n_const  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
from oslo_privsep import priv_context  # noqa: E402

from neutron.agent.linux import external_process  # noqa: E402
from neutron.agent.metadata import driver as neutron_driver  # noqa: E402
from neutron.agent.ovn.metadata import driver as ovn_driver  # noqa: E402
from neutron.common import config as n_config  # noqa: E402
from neutron.conf.agent import common as agent_conf  # noqa: E402
from neutron.conf.agent.l3 import config as l3_conf  # noqa: E402
from neutron.conf.agent.metadata import config as meta_conf  # noqa: E402
from neutron.conf import common as core_conf  # noqa: E402
from neutron import privileged  # noqa: E402

LOG = logging.getLogger(__name__)

_os = patcher.original("os")
_time = patcher.original("time")


class Agents(object):
    def __init__(self, args):
        self.args = args
        self.conf = self.configure_neutron(args)
        self.ovn_conf = self.configure_ovn(args)
        # What each agent makes at its start (DhcpAgent, L3NATAgent,
        # ovn MetadataAgent): the checking green thread starts with it.
        self.monitors = {
            "dhcp": external_process.ProcessMonitor(
                config=self.conf, resource_type="dhcp"),
            "l3": external_process.ProcessMonitor(
                config=self.conf, resource_type="router"),
            "ovn": external_process.ProcessMonitor(
                config=self.ovn_conf, resource_type="metadata"),
        }
        self.known = {}  # id -> (flavor, namespace)

    @staticmethod
    def common(conf, args):
        conf.set_override("state_path", args.state_path)
        # Root already: no sudo in front of the commands (see above).
        conf.set_override("root_helper", "", "AGENT")
        conf.set_override("check_child_processes_interval", 1, "AGENT")
        conf.set_override("check_child_processes_action", "respawn",
                          "AGENT")
        conf.set_override("metadata_proxy_user", args.user)
        conf.set_override("metadata_proxy_group", args.group)

    def configure_neutron(self, args):
        # What neutron-dhcp-agent and neutron-l3-agent register, as far as
        # the metadata proxy reads it: core options (state_path), logging,
        # the root helper, external_pids and the process monitor's (done
        # by external_process itself on cfg.CONF), the shared metadata
        # options (metadata_proxy_socket, _user, _group) and the L3
        # agent's metadata_port.
        conf = cfg.CONF
        n_config.register_common_config_options()
        agent_conf.register_root_helper(conf)
        meta_conf.register_meta_conf_opts(meta_conf.SHARED_OPTS, conf)
        l3_conf.register_l3_agent_config_opts(l3_conf.OPTS, conf)
        conf([], project="neutron", default_config_files=[],
             default_config_dirs=[])
        self.common(conf, args)
        conf.set_override("metadata_proxy_socket", args.socket)
        conf.set_override("kill_scripts_path", args.state_path + "/kill",
                          "AGENT")
        conf.set_override("debug", args.debug)
        conf.set_override("log_file", args.log_file)
        conf.set_override("use_stderr", False)
        logging.setup(conf, "neutron")
        return conf

    def configure_ovn(self, args):
        # neutron-ovn-metadata-agent's options, in a ConfigOpts of its own.
        conf = cfg.ConfigOpts()
        core_conf.register_core_common_config_opts(conf)
        conf.register_opts(agent_conf.EXTERNAL_PROCESS_OPTS)
        agent_conf.register_process_monitor_opts(conf)
        agent_conf.register_root_helper(conf)
        meta_conf.register_meta_conf_opts(meta_conf.SHARED_OPTS, conf)
        conf([], project="neutron", default_config_files=[],
             default_config_dirs=[])
        self.common(conf, args)
        conf.set_override("metadata_proxy_socket", args.ovn_socket)
        return conf

    def driver(self, flavor):
        if flavor == "ovn":
            return ovn_driver.MetadataDriver, self.ovn_conf
        return neutron_driver.MetadataDriver, self.conf

    def spawn(self, flavor, uuid, ns):
        drv, conf = self.driver(flavor)
        monitor = self.monitors[flavor]
        self.known[uuid] = (flavor, ns)
        if flavor == "dhcp":
            drv.spawn_monitored_metadata_proxy(
                monitor, ns, n_const.METADATA_PORT, conf,
                bind_address=n_const.METADATA_V4_IP, network_id=uuid)
        elif flavor == "l3":
            drv.spawn_monitored_metadata_proxy(
                monitor, ns, conf.metadata_port, conf, router_id=uuid)
        else:
            drv.spawn_monitored_metadata_proxy(
                monitor, ns, n_const.METADATA_PORT, conf,
                bind_address=n_const.METADATA_V4_IP, network_id=uuid)

    def manager(self, uuid):
        flavor, ns = self.known[uuid]
        drv, conf = self.driver(flavor)
        return drv._get_metadata_proxy_process_manager(uuid, conf,
                                                       ns_name=ns)

    def destroy(self, uuid):
        flavor, ns = self.known[uuid]
        drv, conf = self.driver(flavor)
        drv.destroy_monitored_metadata_proxy(self.monitors[flavor], uuid,
                                             conf, ns)
        del self.known[uuid]


def each(fn, jobs):
    """fn(*job) for every job at once in green threads; the failures."""
    pool = eventlet.GreenPool(8)
    bad = []

    def one(job):
        try:
            fn(*job)
        except Exception as e:  # noqa: B902 - reported to the test
            LOG.exception("%s%s failed", fn.__name__, job)
            bad.append("%s: %s" % (job[1] if len(job) > 1 else job[0],
                                   " ".join(str(e).split())[:300]))

    for job in jobs:
        pool.spawn_n(one, job)
    pool.waitall()
    return bad


def handle(agents, words):
    cmd, rest = words[0], words[1:]
    if cmd == "spawn":
        jobs = [tuple(rest[i:i + 3]) for i in range(0, len(rest), 3)]
        if not jobs or len(rest) % 3 or any(
                j[0] not in ("dhcp", "l3", "ovn") for j in jobs):
            return "error usage: spawn FLAVOR ID NS ..."
        bad = each(agents.spawn, jobs)
        if bad:
            return "spawn failed %d of %d: %s" % (len(bad), len(jobs),
                                                  "; ".join(bad))
        return "spawned %d" % len(jobs)
    if cmd == "active" and len(rest) == 1:
        if rest[0] not in agents.known:
            return "error unknown id %s" % rest[0]
        pm = agents.manager(rest[0])
        pid = pm.pid
        return "%s %s %s" % ("active" if pm.active else "inactive", rest[0],
                             pid if pid else "-")
    if cmd == "actives" and not rest:
        off = [u for u in sorted(agents.known)
               if not agents.manager(u).active]
        return " ".join(["actives", str(len(agents.known) - len(off)),
                         str(len(agents.known))] + off)
    if cmd == "destroy" and rest:
        unknown = [u for u in rest if u not in agents.known]
        if unknown:
            return "error unknown id %s" % unknown[0]
        bad = each(agents.destroy, [(u,) for u in rest])
        if bad:
            return "destroy failed %d of %d: %s" % (len(bad), len(rest),
                                                    "; ".join(bad))
        return "destroyed %d" % len(rest)
    if cmd == "freeze" and len(rest) == 1:
        # Not a green sleep: nothing else in this process runs meanwhile.
        _time.sleep(float(rest[0]))
        return "thawed"
    return "error unknown command: %s" % " ".join(words)[:200]


def lines(fd):
    """stdin's lines, waiting in the hub so the green threads run."""
    buf = b""
    while True:
        while b"\n" not in buf:
            try:
                hubs.trampoline(fd, read=True)
            except hubs.IOClosed:
                return
            chunk = _os.read(fd, 65536)
            if not chunk:
                if buf:
                    yield buf.decode()
                return
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        yield line.decode()


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-path", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--ovn-socket", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--log-file", required=True)
    ap.add_argument("--debug", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.state_path + "/kill", exist_ok=True)
    # No privsep daemon: every context of neutron's runs in this process.
    for name in dir(privileged):
        ctx = getattr(privileged, name)
        if isinstance(ctx, priv_context.PrivContext):
            ctx.set_client_mode(False)
    agents = Agents(args)
    say("ready")
    for line in lines(sys.stdin.fileno()):
        words = line.split()
        if not words:
            continue
        if words == ["quit"]:
            break
        try:
            answer = handle(agents, words)
        except Exception as e:  # noqa: B902 - reported to the test
            LOG.exception("command %s failed", words[0])
            answer = "error %s: %s" % (words[0], " ".join(str(e).split()))
        say(answer)
    for m in agents.monitors.values():
        m.stop()
    say("bye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
