"""Review kinds are answered, not stored: `kubectl auth can-i` and `kubectl auth whoami`."""
from __future__ import annotations

import pytest

from .helpers import raw


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_auth_can_i(kubectl, version):
    assert kubectl("auth", "can-i", "create", "deployments", version=version).stdout.strip() == "yes"


def test_auth_whoami(kubectl):
    out = kubectl("auth", "whoami", version="1.33").stdout
    assert "Username" in out and "system:authenticated" in out


def test_reviews_are_not_stored(api_client):
    body = ('{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",'
            '"spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}')
    status, review = raw(api_client, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body)
    assert status == 201 and review["status"]["allowed"] is True
    status, _ = raw(api_client, "GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert status == 405
