import pytest

from txguard.security.tokens import TOKEN_PREFIX, Tokeniser


def test_same_identifier_same_token_under_one_key() -> None:
    tokeniser = Tokeniser(b"key-one")
    assert tokeniser.token("4111111111111111") == tokeniser.token("4111111111111111")


def test_another_key_gives_another_token() -> None:
    assert Tokeniser(b"key-one").token("1234") != Tokeniser(b"key-two").token("1234")


def test_token_does_not_contain_the_identifier() -> None:
    token = Tokeniser(b"key").token("4111111111111111")
    assert "4111" not in token
    assert token.startswith(TOKEN_PREFIX) and len(token) == len(TOKEN_PREFIX) + 32


def test_separators_in_card_numbers_do_not_matter_but_letters_do() -> None:
    tokeniser = Tokeniser(b"key")
    assert tokeniser.token(" 4111-1111 1111 1111 ") == tokeniser.token("4111111111111111")
    assert tokeniser.token("cust-a") != tokeniser.token("custa")


def test_many_identifiers_are_hashed_once_each_and_missing_ones_skipped() -> None:
    tokeniser = Tokeniser(b"key")
    tokens = tokeniser.tokens(["1", "2", "1", None])
    assert tokens == {"1": tokeniser.token("1"), "2": tokeniser.token("2")}


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        Tokeniser(b"")
