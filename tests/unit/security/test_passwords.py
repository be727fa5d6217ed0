"""Passwords are stored as argon2id hashes; a wrong one is False, never an exception."""

import pytest

from txguard.domain.identity import IdentityInputError
from txguard.security.passwords import (
    MIN_LENGTH,
    PasswordHasher,
    check_password,
    hash_password,
    needs_rehash,
    spend_verify_time,
    verify_password,
)

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery staple"


def test_the_hash_is_argon2id_salted_and_holds_no_password() -> None:
    first, second = hash_password(PASSWORD, CHEAP), hash_password(PASSWORD, CHEAP)
    assert first.startswith("$argon2id$")
    assert first != second
    assert PASSWORD not in first


def test_the_right_password_verifies_and_a_wrong_one_is_false() -> None:
    stored = hash_password(PASSWORD, CHEAP)
    assert verify_password(stored, PASSWORD, CHEAP)
    assert not verify_password(stored, PASSWORD + "!", CHEAP)
    assert not verify_password(stored, "", CHEAP)


def test_an_unreadable_stored_hash_is_false_not_an_error() -> None:
    assert not verify_password("not-a-hash", PASSWORD, CHEAP)
    assert needs_rehash("not-a-hash", CHEAP)


def test_a_password_shorter_than_the_minimum_is_refused_saying_how_long() -> None:
    with pytest.raises(IdentityInputError, match=f"at least {MIN_LENGTH} characters, got 11") as e:
        hash_password("x" * 11, CHEAP)
    assert e.value.field == "password"
    assert check_password("x" * MIN_LENGTH) == "x" * MIN_LENGTH


def test_a_hash_made_with_other_parameters_needs_rehashing() -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    stored = hash_password(PASSWORD, CHEAP)
    assert not needs_rehash(stored, CHEAP)
    assert needs_rehash(stored, stronger)


def test_spending_verify_time_for_an_unknown_user_raises_nothing() -> None:
    spend_verify_time(PASSWORD, CHEAP)
    spend_verify_time("x" * 5000, CHEAP)
