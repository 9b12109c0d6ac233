"""API conformance cases that run against any cluster named by $KUBECONFIG."""
