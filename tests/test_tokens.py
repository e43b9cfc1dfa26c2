"""Signed reader tokens: they name one reader for one purpose, survive servers' case changes and cannot be forged."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from lessonpress.tokens import (
    LOCAL_PART_LIMIT,
    TOKEN_LENGTH,
    AddressTemplate,
    TemplateError,
    TokenIndex,
    make_token,
    token_purpose,
    url_token,
    verify_token,
    verify_url_token,
)

SECRET = "4f1c2a9e-test-secret"
ANA = "ana@example.com"


def test_a_token_is_short_lowercase_and_names_its_reader_for_its_purpose() -> None:
    token = make_token(SECRET, ANA, "unsubscribe")
    assert re.fullmatch(r"u[0-9a-f]{32}", token)
    assert len(token) == TOKEN_LENGTH
    assert ANA.split("@")[0] not in token
    assert token_purpose(token) == "unsubscribe"
    assert verify_token(SECRET, ANA, "unsubscribe", token)
    # The address is lowercased before signing: servers and readers change its case.
    assert make_token(SECRET, "Ana@Example.COM", "unsubscribe") == token
    assert make_token(SECRET, ANA, "unsubscribe") == token  # deterministic: the same header every send


def test_another_purpose_secret_or_address_does_not_verify() -> None:
    token = make_token(SECRET, ANA, "bounce")
    assert not verify_token(SECRET, ANA, "unsubscribe", token)
    assert not verify_token(SECRET, ANA, "confirm", token)
    assert not verify_token(SECRET + "x", ANA, "bounce", token)
    assert not verify_token(SECRET, "bo@example.com", "bounce", token)
    # Same MAC under another purpose letter: the purpose is inside the MAC, not only in the letter.
    assert not verify_token(SECRET, ANA, "unsubscribe", "u" + token[1:])
    assert len({make_token(SECRET, ANA, purpose)[1:] for purpose in ("unsubscribe", "confirm", "bounce")}) == 3


def test_altered_tokens_are_refused_and_case_changes_are_not() -> None:
    token = make_token(SECRET, ANA, "confirm")
    index = TokenIndex(SECRET, [ANA, "bo@example.com"], "confirm")
    assert index.find(token) == ANA
    # Servers that uppercase local parts (or mix case) still lead back to the reader.
    assert index.find(token.upper()) == ANA
    assert index.find(token[:5].upper() + token[5:]) == ANA
    assert verify_token(SECRET, ANA, "confirm", token.upper())
    for position in range(TOKEN_LENGTH):
        for replacement in "a7u":
            altered = token[:position] + replacement + token[position + 1 :]
            if altered != token:
                assert index.find(altered) is None, altered
                assert not verify_token(SECRET, ANA, "confirm", altered)
    for broken in (token[:-1], token + "a", "", token[:-1] + "=", token[:-1] + "é", " " + token[1:]):
        assert index.find(broken) is None
        assert not verify_token(SECRET, ANA, "confirm", broken)
    # A token of another purpose names nobody in this index.
    assert index.find(make_token(SECRET, ANA, "unsubscribe")) is None


def test_an_index_of_ten_thousand_readers_finds_each_one() -> None:
    addresses = [f"reader{number}@example.org" for number in range(10_000)]
    index = TokenIndex(SECRET, addresses, "bounce")
    assert len(index) == 10_000
    for address in [*addresses[::997], addresses[-1]]:
        assert index.find(make_token(SECRET, address, "bounce")) == address
    assert index.find(make_token(SECRET, "stranger@example.org", "bounce")) is None
    assert index.find(make_token("another secret", addresses[0], "bounce")) is None


def test_addresses_differing_only_in_case_are_one_reader() -> None:
    index = TokenIndex(SECRET, ["Ana@Example.com", ANA], "bounce")
    assert len(index) == 1
    assert index.find(make_token(SECRET, ANA, "bounce")) == "Ana@Example.com"


def test_an_empty_secret_or_address_is_refused() -> None:
    with pytest.raises(ValueError, match="forged"):
        make_token("", ANA, "bounce")
    with pytest.raises(ValueError, match="forged"):
        TokenIndex("", [ANA], "bounce")
    with pytest.raises(ValueError, match="NUL"):
        make_token(SECRET, "", "bounce")
    # No address holds a NUL, and refusing it keeps URL tokens and mail tokens apart.
    with pytest.raises(ValueError, match="NUL"):
        url_token(SECRET, "\x00bounce\x00ana@example.com")


def test_the_unsubscribe_url_token_is_the_one_send_has_always_made() -> None:
    expected = hmac.new(SECRET.encode(), ANA.encode(), hashlib.sha256).hexdigest()
    assert url_token(SECRET, "Ana@Example.com") == expected
    assert verify_url_token(SECRET, ANA, expected)
    assert verify_url_token(SECRET, ANA, expected.upper())
    assert not verify_url_token(SECRET, ANA, expected[:-1] + ("0" if expected[-1] != "0" else "1"))
    assert not verify_url_token(SECRET, "bo@example.com", expected)


@pytest.mark.parametrize("template", ["bounces+{token}@example.org", "unsubscribe+{token}@Lists.Example.org", "{token}.confirm@example.org", "b-{token}@mail.example.org"])
def test_a_template_fills_and_gives_its_token_back(template: str) -> None:
    parsed = AddressTemplate.parse(template)
    token = make_token(SECRET, ANA, "bounce")
    address = parsed.fill(token)
    assert address == template.replace("{token}", token).lower()
    assert parsed.token_in(address) == token
    # As the headers of bounces and DSN fields write it, in whatever case a server chose.
    assert parsed.token_in(f"<{address.upper()}>") == token
    assert parsed.token_in(f"rfc822; {address}") == token
    assert parsed.token_in(f"RFC822;<{address}>") == token


def test_a_template_gives_back_only_its_own_addresses() -> None:
    parsed = AddressTemplate.parse("bounces+{token}@example.org")
    assert parsed.token_in("bounces+abc@example.org") == "abc"  # found; TokenIndex.find says it names nobody
    assert parsed.token_in("bounces+@example.org") is None
    assert parsed.token_in("bounces@example.org") is None
    assert parsed.token_in("bounces+abc@example.org.evil.test") is None
    assert parsed.token_in("bounces+abc@mail.example.org") is None
    assert parsed.token_in("other+abc@example.org") is None
    assert parsed.token_in("not an address") is None
    assert parsed.token_in("bounces+" + "a" * 60 + "@example.org") is None  # longer than any local part
    assert parsed.token_in("") is None


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("bounces@example.org", "exactly once"),
        ("bounces+{token}+{token}@example.org", "exactly once"),
        ("bounces@{token}.example.org", "exactly once"),
        ("bounces+{token}", "not an address"),
        ("{token}", "not an address"),
        ("Bounces <bounces+{token}@example.org>", "plain address"),
        ('"bounces {token}"@example.org', "plain address"),
        ("bounces+{slug}{token}@example.org", "plain address"),
        ("bounces {token}@example.org", "plain address"),
        ("bounces+{token}@", "host name"),
        ("bounces+{token}@localhost", "host name"),
        ("bounces+{token}@exa mple.org", "host name"),
        (".{token}@example.org", "dot"),
        ("a..{token}@example.org", "dot"),
        ("b" * (LOCAL_PART_LIMIT - TOKEN_LENGTH + 1) + "{token}@example.org", "too long"),
    ],
)
def test_a_template_that_cannot_carry_a_token_is_refused_with_what_to_write(template: str, complaint: str) -> None:
    with pytest.raises(TemplateError, match=complaint) as refused:
        AddressTemplate.parse(template)
    assert "bounces+{token}@example.org" in str(refused.value) or "too long" in complaint


def test_the_longest_template_still_fits_a_local_part() -> None:
    template = "b" * (LOCAL_PART_LIMIT - TOKEN_LENGTH) + "{token}@example.org"
    address = AddressTemplate.parse(template).fill(make_token(SECRET, ANA, "bounce"))
    assert len(address.split("@")[0]) == LOCAL_PART_LIMIT
