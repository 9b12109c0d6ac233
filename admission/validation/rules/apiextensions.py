"""What kube's own validation of a CustomResourceDefinition's object adds to ObjectMeta's: its name is
plural.group. The rest of a CRD, its schemas above all, is `admission.crdschema`'s to judge.
"""
from __future__ import annotations

from admission.validation.fielderrors import Causes
from admission.validation.objects import as_dict


def validate_custom_resource_definition(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    expected = f"{as_dict(spec.get('names')).get('plural', '')}.{spec.get('group', '')}"
    name = as_dict(obj.get("metadata")).get("name") or ""
    if name and name != expected:
        c.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
