"""Admission webhooks: the configurations' matching rules, the AdmissionReview exchange over
HTTPS, and the two plugins (MutatingAdmissionWebhook, ValidatingAdmissionWebhook)."""
