# Fixtures shared by tests/ and conformance/: a real server (or $KUBECONFIG's cluster) and clients.
# The host and virtual clusters of virtual-mode tests (tests/virtual_fixtures.py).
pytest_plugins = ["conformance.fixtures", "tests.virtual_fixtures"]
