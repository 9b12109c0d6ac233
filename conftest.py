# Fixtures shared by tests/ and conformance/: a real server (or $KUBECONFIG's cluster) and clients.
pytest_plugins = ["conformance.fixtures"]
