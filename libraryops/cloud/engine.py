"""Plan, apply and drift: compare the spec with what Azure holds, and converge it.

- :func:`assess` GETs one declared resource and diffs only the keys the spec owns
  (libraryops.cloud.diff): create / update (field: old → new) / no change. Differences in
  create-only fields (a VM's OS profile and storage profile) are notes: never sent to Azure.
- :func:`leftovers` lists the managed resource groups' resources that the spec does not declare:
  those carrying this site's management tag (``managed-by=libraryops`` and
  ``libraryops-site=<site>``) are delete candidates ("would delete" unless ALLOW_DELETE=1);
  others are unmanaged (reported by drift, never touched). A managed resource group absent from
  the spec is a delete candidate only if everything in it is ours.
- :func:`apply` walks the declared resources in dependency order: GET, overlay the spec on what
  Azure returned (tags merged, subnets kept, NSG rules inline), PUT conditionally (``If-Match``
  the etag of that GET, or ``If-None-Match: *`` for a create), wait for the long-running
  operation, check the result matches; then deletes candidates in reverse dependency order when
  allowed, each read again first and deleted with ``If-Match`` that read's etag
  (:func:`remove`). A killed apply converges when re-run (every step starts from a fresh GET).

A write is read-modify-write: whenever it cannot go through as read, the resource is read
again and the body rebuilt, so a change someone else made meanwhile (Town IT adding a subnet
or a tag) is kept, never overwritten by a body built before it. That is after a 412
``PreconditionFailed`` (someone wrote between our GET and PUT: re-read at once) and after a 409
``AnotherOperationInProgress`` (someone is writing: wait :data:`CONFLICT_DELAYS`, then re-read).
429 is retried by the SDK's own retry policy (it honours ``Retry-After``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from libraryops.cloud.diff import Change, diff, overlay, without
from libraryops.cloud.resources import (
    KIND_BY_TYPE,
    KINDS,
    Declared,
    Kind,
    declared,
    is_managed,
)
from libraryops.cloud.spec import AzureSpec

#: Seconds to wait before each retry of a 409 AnotherOperationInProgress (then give up).
CONFLICT_DELAYS = (1, 5, 15, 30, 60)
CHANGES = ("create", "update", "delete", "would-delete")
_ORDER = {kind.key: i for i, kind in enumerate(KINDS)}


class ApplyError(RuntimeError):
    """Azure did not end up as the spec says after a PUT."""


@dataclass
class Item:
    """One line of a plan or drift report.

    Attributes:
        action: create, update, no-change, delete, would-delete, unmanaged, or kept (a managed
            resource group left because it holds resources libraryops does not manage).
        label: the kind for people ("virtual network", or ARM's type when unmanaged).
        title: ``<group>/<name>`` (the group alone for a resource group).
        id: the ARM id.
        changes: owned fields that differ (update).
        notes: create-only fields that differ (never applied to an existing resource).
        kind: the managed kind (None for unmanaged resources of other kinds).
        resource_group, name: where it is, for the SDK calls.
        current: Azure's writable state (``as_dict(exclude_readonly=True)``), or None.
        etag: the etag of the GET that gave ``current`` (None: absent, or a resource group,
            which ARM gives none).
        target: the declared resource, or None for leftovers.
    """

    action: str
    label: str
    title: str
    id: str
    changes: list[Change] = field(default_factory=list)
    notes: list[Change] = field(default_factory=list)
    kind: Kind | None = None
    resource_group: str = ""
    name: str = ""
    current: dict[str, Any] | None = None
    etag: str | None = None
    target: Declared | None = None

    def as_dict(self) -> dict[str, Any]:
        """The item for the JSON plan."""
        return {"action": self.action, "type": self.label, "resource": self.title, "id": self.id,
                "changes": [c.as_dict() for c in self.changes],
                "create_only_notes": [c.as_dict() for c in self.notes]}


def _comparable(target: Declared, exists: bool) -> dict[str, Any]:
    """The desired body as Azure can echo it: write-only fields dropped for existing resources."""
    return without(target.body, target.kind.write_only) if exists else target.body


def assess(clients: Any, target: Declared) -> Item:
    """GET one declared resource and compare it with the spec (see the module docstring)."""
    kind = target.kind
    item = Item("create", kind.label, target.title, target.id, kind=kind,
                resource_group=target.resource_group, name=target.name, target=target)
    try:
        model = kind.get(clients, target.resource_group, target.name)
    except ResourceNotFoundError:
        return item
    item.current = model.as_dict(exclude_readonly=True)
    item.etag = getattr(model, "etag", None)
    for change in diff(item.current, _comparable(target, exists=True)):
        create_only = any(change.path[:len(p)] == p for p in kind.create_only)
        (item.notes if create_only else item.changes).append(change)
    item.action = "update" if item.changes else "no-change"
    return item


def leftovers(clients: Any, spec: AzureSpec, site: str, targets: list[Declared],
              allow_delete: bool) -> list[Item]:
    """Resources in the managed resource groups that the spec does not declare.

    Returns delete candidates (``delete`` or ``would-delete``) in reverse dependency order,
    then ``unmanaged`` and ``kept`` items.
    """
    wanted = {t.id.lower() for t in targets}
    os_disks = {f"{t.resource_group}/{t.name}-osdisk".lower() for t in targets
                if t.kind.key == "virtual_machines"}  # created by Azure with the VM
    declared_groups = {rg.name.lower() for rg in spec.resource_groups}
    dropped_groups = [rg for rg in clients.resources.resource_groups.list()
                      if is_managed(rg.tags, site) and rg.name.lower() not in declared_groups]
    action = "delete" if allow_delete else "would-delete"
    found: list[Item] = []
    for group in [rg.name for rg in spec.resource_groups] + [rg.name for rg in dropped_groups]:
        try:
            listed = list(clients.resources.resources.list_by_resource_group(group))
        except ResourceNotFoundError:
            continue
        for res in listed:
            if res.id.lower() in wanted or f"{group}/{res.name}".lower() in os_disks:
                continue
            kind = KIND_BY_TYPE.get(res.type.lower())
            ours = kind is not None and is_managed(res.tags, site)
            found.append(Item(action if ours else "unmanaged", kind.label if ours else res.type,
                              f"{group}/{res.name}", res.id, kind=kind if ours else None,
                              resource_group=group, name=res.name))
    group_kind = KINDS[0]
    for rg in dropped_groups:
        foreign = any(i.action == "unmanaged" and i.resource_group == rg.name for i in found)
        found.append(Item("kept" if foreign else action, group_kind.label, rg.name, rg.id,
                          kind=group_kind, resource_group=rg.name, name=rg.name))
    rank = {"delete": 0, "would-delete": 0, "unmanaged": 1, "kept": 2}
    return sorted(found, key=lambda i: (rank[i.action],
                                        -_ORDER[i.kind.key] if i.kind else 0, i.title))


def plan(clients: Any, spec: AzureSpec, site: str, allow_delete: bool) -> list[Item]:
    """Every declared resource assessed, then the leftovers (read-only)."""
    targets = declared(spec, site)
    return [assess(clients, t) for t in targets] + leftovers(clients, spec, site, targets,
                                                             allow_delete)


def _busy(exc: HttpResponseError) -> bool:
    """Whether ``exc`` is 409 AnotherOperationInProgress (someone else is writing)."""
    return exc.status_code == 409 and bool(exc.error) and \
        exc.error.code == "AnotherOperationInProgress"


def _read_again(exc: HttpResponseError, waits: Iterator[float], tries: int, title: str,
                log: TextIO, sleep: Callable[[float], None]) -> None:
    """After Azure refused a conditional write or delete of ``title``: return when the caller
    should read the resource again and rebuild its request, else raise.

    412 PreconditionFailed (it changed since it was read): at once. 409 AnotherOperationInProgress
    (someone is writing): after the next of ``waits`` (seconds). Each of both uses up one of the
    ``tries`` waits. Call it inside the ``except`` block: any other error is re-raised as is.

    Raises:
        ApplyError: no wait left; nothing more was sent.
        azure.core.exceptions.HttpResponseError: ``exc`` itself, for any other refusal.
    """
    if exc.status_code == 412:
        print("      412 PreconditionFailed: changed since it was read; reading it again",
              file=log, flush=True)
        delay = next(waits, None)
    elif _busy(exc):
        delay = next(waits, None)
        if delay is not None:
            print(f"      409 AnotherOperationInProgress: another operation is running; "
                  f"reading it again in {delay} s", file=log, flush=True)
            sleep(delay)
    else:
        raise exc
    if delay is None:
        raise ApplyError(f"{title}: still changing under libraryops after {tries} retries; "
                         "nothing more was sent") from None


def converge(clients: Any, target: Declared, log: TextIO,
             delays: Iterable[float] = CONFLICT_DELAYS,
             sleep: Callable[[float], None] = time.sleep) -> Item:
    """Read-modify-write one declared resource until Azure holds it as the spec says.

    GET, overlay the spec on what was read, PUT with ``If-Match`` that read's etag
    (``If-None-Match: *`` when it was absent). On 412 the resource changed after the read:
    read again at once. On 409 AnotherOperationInProgress: wait the next of ``delays`` (seconds),
    then read again. Each PUT is built from the latest read, so changes others made meanwhile are
    kept. Returns the item as assessed by the read that was written over.

    Raises:
        ApplyError: a resource does not match the spec after its PUT, or it kept changing
            under us for every one of ``delays``.
        azure.core.exceptions.HttpResponseError: Azure refused the request otherwise.
    """
    waits = iter(delays)
    while True:
        item = assess(clients, target)
        if item.action not in ("create", "update"):
            return item
        exists = item.current is not None
        sent = without(target.body, target.kind.create_only) if exists else target.body
        body = overlay(item.current or {}, sent)
        condition = ({"If-Match": item.etag} if item.etag else {}) if exists else \
            {"If-None-Match": "*"}
        try:
            result = target.kind.put(clients, target.resource_group, target.name, body,
                                     headers=condition)
        except HttpResponseError as exc:
            _read_again(exc, waits, len(tuple(delays)), target.title, log, sleep)
            continue
        after = [c for c in diff(result.as_dict(exclude_readonly=True),
                                 _comparable(target, exists=True))
                 if not any(c.path[:len(p)] == p for p in target.kind.create_only)]
        if after:
            raise ApplyError(f"{target.title}: Azure did not take "
                             + "; ".join(str(c) for c in after))
        return item


def _still_ours(clients: Any, item: Item, site: str) -> tuple[bool, str | None]:
    """Read a delete candidate again: whether it is still this site's to delete, and the etag of
    that read (None for a resource group, which has none).

    A resource is ours while it carries the site's management tag; a resource group while it
    does and holds nothing else than resources of ours (those are deleted before it).
    """
    model = item.kind.get(clients, item.resource_group, item.name)
    if not is_managed(model.tags, site):
        return False, None
    if item.kind.is_group:
        held = clients.resources.resources.list_by_resource_group(item.name)
        if any(KIND_BY_TYPE.get(r.type.lower()) is None or not is_managed(r.tags, site)
               for r in held):
            return False, None
    return True, getattr(model, "etag", None)


def remove(clients: Any, item: Item, site: str, log: TextIO,
           delays: Iterable[float] = CONFLICT_DELAYS,
           sleep: Callable[[float], None] = time.sleep) -> bool:
    """Delete one candidate only as it was judged: read it again, delete with ``If-Match`` that
    read's etag, and on 412 or after a 409 wait (:func:`_read_again`) judge it again.

    A candidate Town IT took over meanwhile (its management tag removed, or a resource of
    theirs added to a group of ours) is kept; one already gone is done.

    Returns:
        Whether it was deleted by this call (False: kept, or already gone).

    Raises:
        ApplyError: it kept changing for every one of ``delays``.
        azure.core.exceptions.HttpResponseError: Azure refused the delete otherwise.
    """
    waits = iter(delays)
    while True:
        try:
            ours, etag = _still_ours(clients, item, site)
        except ResourceNotFoundError:
            return False
        if not ours:
            print(f"      {item.title}: changed since it was listed and is no longer only "
                  "libraryops'; not deleted", file=log, flush=True)
            return False
        try:
            item.kind.delete(clients, item.resource_group, item.name,
                             headers={"If-Match": etag} if etag else {})
            return True
        except HttpResponseError as exc:
            _read_again(exc, waits, len(tuple(delays)), item.title, log, sleep)


def apply(clients: Any, spec: AzureSpec, site: str, allow_delete: bool, log: TextIO,
          delays: Iterable[float] = CONFLICT_DELAYS,
          sleep: Callable[[float], None] = time.sleep) -> list[Item]:
    """Converge Azure on the spec (see the module docstring); returns what was done.

    ``delays`` (seconds) and ``sleep`` are the waits after a 409 (:func:`converge`).

    Raises:
        ApplyError: a resource does not match the spec after its PUT.
        azure.core.exceptions.HttpResponseError: Azure refused a request.
    """
    targets = declared(spec, site)
    delays = tuple(delays)
    done = []
    for target in targets:
        item = converge(clients, target, log, delays, sleep)
        report([item], log, words=APPLY_WORDS)
        done.append(item)
    for item in leftovers(clients, spec, site, targets, allow_delete):
        if item.action == "delete" and not remove(clients, item, site, log, delays, sleep):
            continue
        if item.action in CHANGES:
            report([item], log, words=APPLY_WORDS)
            done.append(item)
    return done


PLAN_WORDS = {"create": "+ create", "update": "~ update", "no-change": "= no change",
              "delete": "- delete", "would-delete": "- would delete",
              "unmanaged": "? unmanaged", "kept": "! kept"}
APPLY_WORDS = {**PLAN_WORDS, "create": "+ created", "update": "~ updated", "delete": "- deleted",
               "would-delete": "- not deleted"}
DRIFT_WORDS = {**PLAN_WORDS, "create": "+ missing in Azure", "update": "~ differs",
               "would-delete": "- no longer in the spec"}
_SUFFIX = {"would-delete": "  (only with ALLOW_DELETE=1)",
           "unmanaged": "  (not created by libraryops; left alone)",
           "kept": "  (holds resources libraryops does not manage; left alone)"}


def report(items: list[Item], out: TextIO, words: dict[str, str] = PLAN_WORDS) -> None:
    """Print items as Town IT reads them: one line per resource, one per differing field."""
    for item in items:
        print(f"  {words[item.action]:<24} {item.label:<23} {item.title}"
              f"{_SUFFIX.get(item.action, '')}", file=out)
        for change in item.changes:
            print(f"        {change}", file=out)
        for note in item.notes:
            print(f"        {note}  (create-only: not changed on an existing resource)",
                  file=out)
    out.flush()


def summary(items: list[Item]) -> dict[str, int]:
    """Counts per action."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.action] = counts.get(item.action, 0) + 1
    return counts


def summary_line(items: list[Item], done: bool = False) -> str:
    """``2 to create, 1 to update, 0 to delete, 3 unchanged`` (``done``: 2 created, ...)."""
    n = summary(items)
    verbs = ("created", "updated", "deleted") if done else ("to create", "to update", "to delete")
    line = (f"{n.get('create', 0)} {verbs[0]}, {n.get('update', 0)} {verbs[1]}, "
            f"{n.get('delete', 0)} {verbs[2]}, {n.get('no-change', 0)} unchanged")
    if n.get("would-delete"):
        line += f"; {n['would-delete']} not in the spec, deleted only with ALLOW_DELETE=1"
    return line
