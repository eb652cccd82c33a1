# SPDX-License-Identifier: GPL-2.0
"""The Prometheus programs that the checks run: the ones $PROMTOOL,
$PROMETHEUS and $NODE_EXPORTER name, else Debian's, which tools/prom/fetch
unpacks into the cache. Installing Debian's packages instead would start
their services, listening on every interface of the host."""

import os
import shutil
import subprocess

FETCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fetch')
ENVIRONMENT = {'promtool': 'PROMTOOL', 'prometheus': 'PROMETHEUS',
               'prometheus-node-exporter': 'NODE_EXPORTER'}


class Missing(Exception):
    pass


def locate(*names):
    """{name: path of the program} for each of NAMES (keys of ENVIRONMENT)."""
    chosen = {name: os.environ.get(ENVIRONMENT[name]) for name in names}
    if not all(chosen.values()):
        fetch = subprocess.run([FETCH], stdout=subprocess.PIPE)
        if fetch.returncode:
            raise Missing('%s failed (exit %d)' % (FETCH, fetch.returncode))
        bindir = os.path.join(fetch.stdout.decode().strip(), 'usr', 'bin')
        for name in names:
            chosen[name] = chosen[name] or os.path.join(bindir, name)
    paths = {}
    for name, program in chosen.items():
        paths[name] = shutil.which(program)
        if not paths[name]:
            raise Missing('%s is not a program: set %s to %s'
                          % (program, ENVIRONMENT[name], name))
    return paths
