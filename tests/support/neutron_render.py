#!/usr/bin/python3
"""Write one metadata-proxy haproxy config with neutron's own code.

Uses the HaproxyConfigurator of Debian's python3-neutron, as neutron's
agents do before they run `haproxy -f FILE`: the one of the DHCP and L3
agents (neutron.agent.metadata.driver) or of the OVN metadata agent
(neutron.agent.ovn.metadata.driver). Run it with /usr/bin/python3, where
the package is. Prints the path of the config written.

usage: neutron_render.py --driver neutron|ovn --state-path DIR
           (--network-id UUID | --router-id UUID) --bind ADDR --port N
           --socket PATH --user U --group G --pidfile PATH
           [--bind-v6 ADDR --interface IF] [--debug]
           [--and ANOTHER CONFIG'S OPTIONS ...]

Each --and starts another config, written by the same process (importing
neutron takes a second or more; the tests render several).
"""

import argparse
import sys

from oslo_config import cfg
from oslo_log import log as logging


def parse(argv):
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--driver", choices=("neutron", "ovn"), required=True)
    ap.add_argument("--state-path", required=True)
    ap.add_argument("--network-id")
    ap.add_argument("--router-id")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--bind-v6")
    ap.add_argument("--interface")
    ap.add_argument("--debug", action="store_true")
    return ap.parse_args(argv)


def render(a):
    # The configurator reads cfg.CONF.debug for its log level.
    cfg.CONF.set_override("debug", a.debug)
    if a.driver == "neutron":
        from neutron.agent.metadata import driver
        conf = driver.HaproxyConfigurator(
            a.network_id, a.router_id, a.socket, a.bind, a.port, a.user,
            a.group, a.state_path, a.pidfile, host_v6=a.bind_v6,
            bind_interface=a.interface)
    else:
        from neutron.agent.ovn.metadata import driver
        conf = driver.HaproxyConfigurator(
            a.network_id, a.router_id, a.socket, a.bind, a.port, a.user,
            a.group, a.state_path, a.pidfile)
    conf.create_config_file()
    print(conf.cfg_path)


def main():
    jobs, cur = [], []
    for arg in sys.argv[1:]:
        if arg == "--and":
            jobs.append(cur)
            cur = []
        else:
            cur.append(arg)
    jobs.append(cur)
    parsed = [parse(j) for j in jobs]
    logging.register_options(cfg.CONF)
    cfg.CONF([], project="neutron", default_config_files=[],
             default_config_dirs=[])
    for a in parsed:
        render(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
