#!/usr/bin/python3
"""Write one metadata-proxy haproxy config with neutron's own code.

This is what neutron's agents do before they start haproxy for a network:
register the options the launcher reads, then call the launcher callback of
neutron.agent.metadata.driver.MetadataDriver with the pidfile path, which
builds a HaproxyConfigurator and calls create_config_file().

usage: neutron_config.py STATE_PATH NETWORK_ID BIND_ADDRESS PORT USER GROUP
           [--in-process N]

Prints the path of the config written. With --in-process N, the callback is
called N more times in the same process and the median time of one call (in
microseconds) is printed on a second line: the cost inside an agent that has
already imported neutron.
"""

import os
import statistics
import sys
import time

from oslo_config import cfg
from oslo_log import log as logging

from neutron.agent.metadata import driver
from neutron.conf import common as common_conf
from neutron.conf.agent.metadata import config as meta_conf


def neutron_conf(state_path, user, group):
    """cfg.CONF as an agent has it: the options the launcher reads."""
    conf = cfg.CONF
    common_conf.register_core_common_config_opts(conf)  # state_path
    meta_conf.register_meta_conf_opts(meta_conf.SHARED_OPTS, conf)
    logging.register_options(conf)  # debug, read by HaproxyConfigurator
    conf(
        ["--state_path", state_path],
        project="neutron",
        default_config_files=[],
        default_config_dirs=[],
    )
    conf.set_override("metadata_proxy_user", user)
    conf.set_override("metadata_proxy_group", group)
    return conf


def main(argv):
    if len(argv) not in (7, 9):
        sys.stderr.write(__doc__)
        return 64
    state_path, network_id, bind_address, port, user, group = argv[1:7]
    repeat = 0
    if len(argv) == 9:
        if argv[7] != "--in-process":
            sys.stderr.write(__doc__)
            return 64
        repeat = int(argv[8])

    conf = neutron_conf(state_path, user, group)

    # The pidfile neutron's ProcessManager passes: $state_path/external/pids.
    pid_file = os.path.join(state_path, "external", "pids", network_id + ".pid")
    callback = driver.MetadataDriver._get_metadata_proxy_callback(
        bind_address, int(port), conf, network_id=network_id
    )
    cmd = callback(pid_file)
    print(cmd[-1])

    if repeat > 0:
        times = []
        for _ in range(repeat):
            start = time.perf_counter_ns()
            callback(pid_file)
            times.append(time.perf_counter_ns() - start)
        print("%.1f" % (statistics.median(times) / 1000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
