"""Look-alike identifiers are one account: emails and usernames compare after
NFKC normalisation and case folding."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.factories import PASSWORD, Factory
from tests.users.helpers import assert_problem

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


def fullwidth(text: str) -> str:
    """The same letters in their fullwidth forms (U+FF21.., U+FF41..); the rest as it is."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


KELVIN = "\u212a"  # KELVIN SIGN, NFKC "K"


def _register(email: str, username: str) -> dict[str, str]:
    return {"email": email, "username": username, "password": "a-long-and-unusual-password"}


@pytest.mark.parametrize(
    "look_alike",
    [
        fullwidth("ada@example.com"),
        "ADA@EXAMPLE.COM",
        "\ufb01@example.com",  # the "fi" ligature
    ],
)
async def test_a_look_alike_email_is_taken(client: AsyncClient, factory: Factory, look_alike: str) -> None:
    await factory.customer(email="ada@example.com" if "\ufb01" not in look_alike else "fi@example.com")

    response = await client.post(REGISTER, json=_register(look_alike, "someone_else"))

    assert_problem(response, 409, "email_taken")


async def test_emails_are_stored_and_found_in_their_folded_form(client: AsyncClient) -> None:
    registered = await client.post(REGISTER, json=_register(f"{KELVIN}ate@Example.com", "kate_b"))
    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == "kate@example.com"

    for login in ["kate@example.com", f"{KELVIN}ATE@EXAMPLE.COM", fullwidth("kate@example.com")]:
        response = await client.post(LOGIN, json={"username": login, "password": "a-long-and-unusual-password"})
        assert response.status_code == 200, (login, response.text)


async def test_a_look_alike_username_is_refused_or_taken(client: AsyncClient, factory: Factory) -> None:
    await factory.customer(username="grace")

    wide = await client.post(REGISTER, json=_register("g2@example.com", fullwidth("grace")))
    upper = await client.post(REGISTER, json=_register("g3@example.com", "GRACE"))
    login = await client.post(LOGIN, json={"username": fullwidth("GRACE"), "password": PASSWORD})

    assert_problem(wide, 422, "validation_error")
    assert_problem(upper, 409, "username_taken")
    assert login.status_code == 200, login.text


async def test_an_email_change_to_a_look_alike_is_taken(client: AsyncClient, factory: Factory) -> None:
    await factory.customer(email="hopper@example.com")
    admin = await factory.admin()

    response = await client.patch(
        f"/api/v1/users/{admin.id}",
        json={"email": fullwidth("HOPPER@example.com")},
        headers=admin.headers,
    )

    assert_problem(response, 409, "email_taken")
