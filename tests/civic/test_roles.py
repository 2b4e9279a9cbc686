"""Each role sees only its own pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from civic.roles import Role, user_has_role
from civic.services import create_user_with_role

ROLE_PAGES = {
    Role.CITIZEN: "/citizen/",
    Role.OFFICIAL: "/official/",
    Role.TRUSTEE: "/trustee/",
    Role.OBSERVER: "/observer/",
}


@pytest.fixture
def role_clients(db: None) -> dict[Role, Client]:
    clients = {}
    for role in Role:
        user = create_user_with_role(
            username=f"user-{role.value}", email=f"{role.value}@example.org", password="a long passphrase 42", role=role
        )
        client = Client()
        client.force_login(user)
        clients[role] = client
    return clients


@pytest.mark.parametrize("role", list(Role))
def test_each_role_opens_its_own_page_and_no_other(role: Role, role_clients: dict[Role, Client]) -> None:
    client = role_clients[role]
    for page_role, url in ROLE_PAGES.items():
        response = client.get(url)
        if page_role == role:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, (role, url)


@pytest.mark.django_db
@pytest.mark.parametrize("url", list(ROLE_PAGES.values()))
def test_anonymous_visitors_are_sent_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_inactive_user_holds_no_role() -> None:
    user = create_user_with_role(username="gone", email="g@example.org", password="a long passphrase 42", role=Role.OFFICIAL)
    assert user_has_role(user, Role.OFFICIAL)
    user.is_active = False
    user.save()
    assert not user_has_role(get_user_model().objects.get(pk=user.pk), Role.OFFICIAL)
