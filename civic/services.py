"""Write use cases of the platform layer: roles, accounts, task probes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import transaction

from civic.models import TaskProbe
from civic.roles import ROLE_PERMISSIONS, Role


def ensure_role_groups() -> dict[Role, Group]:
    """Create the four role groups with their permission; safe to call any number of times."""
    groups: dict[Role, Group] = {}
    for role, codename in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        permission = Permission.objects.get(content_type__app_label="civic", codename=codename)
        group.permissions.add(permission)
        groups[role] = group
    return groups


def grant_role(user: AbstractUser, role: Role) -> None:
    user.groups.add(ensure_role_groups()[role])


@transaction.atomic
def create_user_with_role(
    *, username: str, email: str, password: str, role: Role, **extra: str
) -> AbstractUser:
    """Create an account holding one role. The password must already be validated."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password, **extra)
    grant_role(user, role)
    return user


def record_task_probe(*, token: str, worker: str) -> TaskProbe:
    probe, _ = TaskProbe.objects.get_or_create(token=token, defaults={"worker": worker})
    return probe
