"""Admission policies written in CEL: ValidatingAdmissionPolicy with its bindings, and the
expression helpers webhooks' matchConditions share."""
