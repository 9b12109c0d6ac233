"""Virtual-cluster mode: the syncer that runs a virtual cluster's pods on a host cluster.

`names.py` says what a virtual object is called on the host, `host.py` is the host client,
`syncer.py` the one loop every kind goes through, `translators/` one small translator per kind.
"""
