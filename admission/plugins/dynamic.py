"""The plugins configured by API objects: webhooks and admission policies, reading their
configurations through `sources` (given by the composition root):
  configs(plural) -> () -> list of admissionregistration.k8s.io objects (an informer's cache),
  namespace(name) -> the namespace or None (async),
  resolve(namespace, service, port) -> (host, port) where a webhook Service is served (async),
  params(apiVersion, kind, namespace, name, selector) -> a policy's parameter objects (async).
"""
from __future__ import annotations

from ..chain import Plugin
from ..policies.mutating import MutatingAdmissionPolicy
from ..policies.validating import ValidatingAdmissionPolicy
from ..webhooks.client import WebhookClient
from ..webhooks.dispatch import Webhooks
from ..webhooks.plugins import MutatingAdmissionWebhook, ValidatingAdmissionWebhook


def dynamic_plugins(sources) -> list[Plugin]:
    """In kube's order: MutatingAdmissionPolicy and MutatingAdmissionWebhook (mutating), then
    ValidatingAdmissionPolicy and ValidatingAdmissionWebhook (validating); the two webhook plugins
    share one HTTPS client. Policies of a kind the served release lacks are never listed."""
    client = WebhookClient(sources.resolve)
    return [MutatingAdmissionPolicy(sources.configs("mutatingadmissionpolicies"),
                                    sources.configs("mutatingadmissionpolicybindings"), sources.namespace, sources.params),
            MutatingAdmissionWebhook(Webhooks(sources.configs("mutatingwebhookconfigurations"), sources.namespace,
                                              client)),
            ValidatingAdmissionPolicy(sources.configs("validatingadmissionpolicies"),
                                      sources.configs("validatingadmissionpolicybindings"),
                                      sources.namespace, sources.params),
            ValidatingAdmissionWebhook(Webhooks(sources.configs("validatingwebhookconfigurations"),
                                                sources.namespace, client))]
