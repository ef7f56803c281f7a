#!/usr/bin/python3
"""Write metadata-proxy haproxy configs for many networks with neutron's code.

What neutron's DHCP agent does before it starts haproxy for each network
(as bench/launch.d/neutron_config.py, for one): register the options the
launcher reads, then, for each network id read on standard input (one a
line), call the launcher callback of neutron.agent.metadata.driver.
MetadataDriver with the pidfile path neutron's ProcessManager passes
($state_path/external/pids/<uuid>.pid), which builds a HaproxyConfigurator
and calls create_config_file(). neutron is imported once for all.

usage: neutron_configs.py STATE_PATH BIND_ADDRESS PORT USER GROUP SOCKET < IDS

Prints, for each id, "ID<TAB>CONFIG<TAB>PIDFILE".
"""

import os
import sys

from neutron.agent.metadata import driver

# The agent's options, as bench/launch.d/neutron_config.py sets them.
sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "launch.d"))
from neutron_config import neutron_conf  # noqa: E402


def main(argv):
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 64
    state_path, bind_address, port, user, group, socket_path = argv[1:7]

    conf = neutron_conf(state_path, user, group)
    conf.set_override("metadata_proxy_socket", socket_path)

    pids = os.path.join(state_path, "external", "pids")
    os.makedirs(pids, mode=0o755, exist_ok=True)
    for line in sys.stdin:
        network_id = line.strip()
        if not network_id:
            continue
        pid_file = os.path.join(pids, network_id + ".pid")
        callback = driver.MetadataDriver._get_metadata_proxy_callback(
            bind_address, int(port), conf, network_id=network_id
        )
        cmd = callback(pid_file)
        print("%s\t%s\t%s" % (network_id, cmd[-1], pid_file))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
