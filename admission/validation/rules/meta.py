"""ObjectMeta and label selectors, as apimachinery validates them for every kind
(k8s.io/apimachinery/pkg/api/validation/objectmeta.go, pkg/apis/meta/v1/validation): names,
labels, annotations, owner references, finalizers, what an update may not change, and
LabelSelectors with what they select.
"""
from __future__ import annotations

from collections.abc import Callable

from admission.gofmt import Go, go_quote, go_string_list, go_string_map
from admission.gotime import go_time
from admission.validation.fielderrors import Causes, child, IMMUTABLE
from admission.validation.names import is_dns1123_label, is_label_value, is_qualified_name
from admission.validation.objects import as_dict, as_list, semantic

_ANNOTATIONS_LIMIT = 256 * 1024


NameFn = Callable[[str], list[str]]
_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
_META_IMMUTABLE = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")


def mask_trailing_dash(name: str) -> str:
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def validate_labels(c: Causes, labels, path: str) -> None:
    for key, value in sorted(as_dict(labels).items()):
        c.check(path, key, is_qualified_name)
        c.invalid_each(path, value, is_label_value(str(value)))


def validate_annotations(c: Causes, annotations, path: str) -> None:
    annotations = as_dict(annotations)
    for key in sorted(annotations):
        c.invalid_each(path, key, is_qualified_name(key.lower()))
    if sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
        c.too_long(path, _ANNOTATIONS_LIMIT)


def _owner_references(c: Causes, refs, path: str) -> None:
    controller = ""
    for ref in as_list(refs):
        ref = as_dict(ref)
        api_version = ref.get("apiVersion") or ""
        if not api_version or api_version.count("/") > 1 or api_version.endswith("/"):
            c.invalid(child(path, "apiVersion"), api_version, "version must not be empty")
        for field in ("kind", "name", "uid"):
            if not ref.get(field):
                c.invalid(child(path, field), ref.get(field) or "", "must not be empty")
        if ref.get("controller") is True:
            this = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if controller:
                c.invalid(path, refs, "Only one reference can have Controller set to true. Found \"true\" in "
                                      f"references for {controller} and {this}")
            else:
                controller = this


def _finalizers(c: Causes, finalizers, path: str, core: bool) -> None:
    finalizers = [f for f in as_list(finalizers) if isinstance(f, str)]
    for f in finalizers:
        c.check(path, f, is_qualified_name)
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        c.invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set")
    for i, f in enumerate(finalizers):
        if core:
            validate_kube_finalizer_name(c, f, child(path, i))


def validate_kube_finalizer_name(c: Causes, name: str, path: str) -> None:
    """A finalizer without a domain prefix is one of kube's own."""
    if "/" not in name and name not in _STANDARD_FINALIZERS:
        c.invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified")


def _meta_common(c: Causes, meta: dict, path: str, core: bool) -> None:
    """`core`: the kind is validated with kube's core ObjectMeta rules, which add the
    standard-finalizer check; CRDs and custom resources get apimachinery's generic rules only."""
    validate_labels(c, meta.get("labels"), child(path, "labels"))
    validate_annotations(c, meta.get("annotations"), child(path, "annotations"))
    _owner_references(c, meta.get("ownerReferences"), child(path, "ownerReferences"))
    _finalizers(c, meta.get("finalizers"), child(path, "finalizers"), core)


def validate_object_meta(c: Causes, meta: dict, name_fn: NameFn, namespaced: bool, path: str = "metadata",
                         core: bool = True) -> None:
    generate = meta.get("generateName")
    if generate:
        c.invalid_each(child(path, "generateName"), generate, name_fn(mask_trailing_dash(generate)))
    name = meta.get("name")
    if not name:
        c.required(child(path, "name"), "name or generateName is required")
    else:
        c.check(child(path, "name"), name, name_fn)
    namespace = meta.get("namespace")
    if namespaced and not namespace:
        c.required(child(path, "namespace"))
    elif namespaced:
        c.check(child(path, "namespace"), namespace, is_dns1123_label)
    elif namespace:
        c.forbidden(child(path, "namespace"), "not allowed on this type")
    c.nonnegative(child(path, "generation"), meta.get("generation"))
    _meta_common(c, meta, path, core)


def validate_object_meta_update(c: Causes, meta: dict, old_meta: dict, path: str = "metadata",
                                core: bool = True) -> None:
    if old_meta.get("deletionTimestamp"):
        added = sorted(set(as_list(meta.get("finalizers"))) - set(as_list(old_meta.get("finalizers"))))
        if added:
            c.forbidden(child(path, "finalizers"), "no new finalizers can be added if the object is being deleted, "
                                                   f"found new finalizers {go_string_list(added)}")
    if (meta.get("generation") or 0) < (old_meta.get("generation") or 0):
        c.invalid(child(path, "generation"), meta.get("generation") or 0, "must not be decremented")
    for field in _META_IMMUTABLE:
        new, old = meta.get(field), old_meta.get(field)
        if semantic(new) != semantic(old):
            c.invalid(child(path, field), go_time(new) if field.endswith("Timestamp") else new, IMMUTABLE)
    _meta_common(c, meta, path, core)


_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def go_label_selector(selector: dict | None) -> Go:
    if selector is None:
        return Go("null")
    exprs = selector.get("matchExpressions")
    rendered = "[]v1.LabelSelectorRequirement(nil)" if exprs is None else (
        "[]v1.LabelSelectorRequirement{" + ", ".join(
            f"v1.LabelSelectorRequirement{{Key:{go_quote(e.get('key') or '')}, "
            f"Operator:{go_quote(e.get('operator') or '')}, Values:{go_string_list(e.get('values'))}}}"
            for e in exprs) + "}")
    return Go(f"v1.LabelSelector{{MatchLabels:{go_string_map(selector.get('matchLabels'))}, "
              f"MatchExpressions:{rendered}}}")


def validate_label_selector(c: Causes, selector, path: str) -> None:
    selector = as_dict(selector)
    validate_labels(c, selector.get("matchLabels"), child(path, "matchLabels"))
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        expr, at = as_dict(expr), child(path, "matchExpressions", i)
        operator, values = expr.get("operator") or "", as_list(expr.get("values"))
        if operator in ("In", "NotIn") and not values:
            c.required(child(at, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist") and values:
            c.forbidden(child(at, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        elif operator not in _SELECTOR_OPERATORS:
            c.invalid(child(at, "operator"), operator, "not a valid selector operator")
        c.check(child(at, "key"), expr.get("key") or "", is_qualified_name)
        for j, value in enumerate(values):
            c.invalid_each(child(at, "values", j), value, is_label_value(str(value)))


def selector_converts(selector) -> bool:
    """Whether metav1.LabelSelectorAsSelector accepts the selector."""
    probe = Causes()
    validate_label_selector(probe, selector, "")
    return not probe.items


def selector_is_empty(selector) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_matches(selector, labels) -> bool:
    """metav1.LabelSelectorAsSelector(selector).Matches(labels): a nil selector matches nothing."""
    if not isinstance(selector, dict):
        return False
    labels = as_dict(labels)
    if any(labels.get(k) != v for k, v in as_dict(selector.get("matchLabels")).items()):
        return False
    for expr in as_list(selector.get("matchExpressions")):
        key, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        present = key in labels
        if ((op == "In" and (not present or labels[key] not in values))
                or (op == "NotIn" and present and labels[key] in values)
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present)):
            return False
    return True
