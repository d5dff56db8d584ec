"""The operator's allowlists decide on names and paths alone, and the settings refuse what
cannot be safe (plain http beyond loopback, a malformed pattern)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.allowlists import Allowlists, NotAllowed, is_loopback, same_origin
from syncd.settings import Settings, parse_listen


def allowing(tmp_path: Path, **overrides: object) -> Allowlists:
    chosen: dict[str, object] = {
        "sendgrid_base_urls": ("https://api.sendgrid.com", "https://api.eu.sendgrid.com/"),
        "secret_env": ("SENDGRID_API_KEY", "SENDGRID_API_KEY_*"),
        "secret_dirs": (tmp_path / "secrets",),
        "source_dirs": (tmp_path / "data",),
        **overrides,
    }
    return Allowlists(**chosen)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://api.sendgrid.com",
        "https://API.SendGrid.com:443/",
        "https://api.eu.sendgrid.com",
    ],
)
def test_an_allowed_sendgrid_url_is_recognised_however_it_is_spelt(
    tmp_path: Path, url: str
) -> None:
    allowing(tmp_path).check_sendgrid_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.sendgrid.com.evil.net",
        "https://api.sendgrid.com@evil.net",
        "https://api.sendgrid.com:8443",
        "http://api.sendgrid.com",
        "https://api.sendgrid.com/v3/../../evil",
        "https://api.sendgrid.com?x=1",
        "http://127.0.0.1:1",
        "not a url",
    ],
)
def test_any_other_url_is_refused_naming_the_setting(tmp_path: Path, url: str) -> None:
    with pytest.raises(NotAllowed, match=r"allowed: .*\(SYNCD_SENDGRID_BASE_URLS\)"):
        allowing(tmp_path).check_sendgrid_url(url)


def test_the_key_goes_only_to_the_exact_origin_of_the_base_url() -> None:
    base = "https://api.sendgrid.com"
    assert same_origin("https://api.sendgrid.com/v3/marketing/lists", base)
    assert same_origin("https://API.sendgrid.com:443/x", base)
    assert not same_origin("https://api.sendgrid.com.evil.net/v3", base)
    assert not same_origin("https://api.sendgrid.com@evil.net/v3", base)
    assert not same_origin("http://api.sendgrid.com/v3", base)
    assert not same_origin("https://api.sendgrid.com:8443/v3", base)
    assert not same_origin("https://sendgrid-exports.s3.amazonaws.com/f.csv", base)
    assert not same_origin("/relative/path", base)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "localhost.evil.net", "example"])
def test_hosts_beyond_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_env_names_match_names_and_globs_but_never_syncd_settings(tmp_path: Path) -> None:
    policy = allowing(tmp_path, secret_env=("SENDGRID_API_KEY", "SENDGRID_API_KEY_*", "*"))
    policy.check_secret_env("SENDGRID_API_KEY")
    policy.check_secret_env("SENDGRID_API_KEY_EU")
    for name in ("SYNCD_ADMIN_TOKEN", "syncd_state", "SYNCD_STATE"):
        with pytest.raises(NotAllowed, match=r"syncd's own settings"):
            policy.check_secret_env(name)
    with pytest.raises(NotAllowed, match=r"allowed: SENDGRID_API_KEY, .*\(SYNCD_SECRET_ENV\)"):
        allowing(tmp_path).check_secret_env("WAREHOUSE_DSN")


def test_a_secret_file_is_checked_by_its_real_path(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "key").write_text("k")
    (secrets / "escape").symlink_to("/etc/hostname")
    destinations = tmp_path / "destinations.d"
    policy = allowing(tmp_path)
    real = policy.secret_file("../secrets/key", destinations)
    assert real == Path(os.path.realpath(secrets / "key"))
    for written in ("../secrets/escape", "../secrets/../data/x", "/etc/passwd", "key"):
        with pytest.raises(NotAllowed, match=r"outside the allowed secret directories"):
            policy.secret_file(written, destinations)
    with pytest.raises(NotAllowed, match=r"is not a usable path"):
        policy.secret_file("nul\0byte", destinations)


def test_allowed_directories_are_compared_by_their_real_path_too(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "people.csv").write_text("email\n")
    (tmp_path / "data").symlink_to(tmp_path / "real")
    policy = allowing(tmp_path)
    assert (
        policy.source_file("../data/people.csv", tmp_path / "d")
        == (tmp_path / "real" / "people.csv").resolve()
    )
    with pytest.raises(NotAllowed, match=r"resolves to .*, which is outside .*SYNCD_SOURCE_DIRS"):
        policy.source_file("../elsewhere.csv", tmp_path / "d")


def test_an_empty_allowlist_allows_nothing(tmp_path: Path) -> None:
    policy = Allowlists((), (), (), ())
    with pytest.raises(NotAllowed, match="allowed: none"):
        policy.check_secret_env("SENDGRID_API_KEY")
    with pytest.raises(NotAllowed, match="allowed: none"):
        policy.check_sendgrid_url("https://api.sendgrid.com")
    with pytest.raises(NotAllowed, match=r"directories: none \(SYNCD_SOURCE_DIRS\)"):
        policy.source_file("/x.csv", tmp_path)


def test_the_defaults_allow_sendgrid_its_key_variables_and_the_mounted_secrets(
    tmp_path: Path,
) -> None:
    policy = Settings(destinations=tmp_path / "conf" / "destinations.d").allowlists()
    policy.check_sendgrid_url("https://api.sendgrid.com")
    with pytest.raises(NotAllowed):
        policy.check_sendgrid_url("https://api.eu.sendgrid.com")  # the operator adds it
    policy.check_secret_env("SENDGRID_API_KEY_MARKETING")
    policy.secret_file("/var/run/secrets/sendgrid/api-key", tmp_path)
    policy.secret_file("/var/run/secrets/syncd/dsn", tmp_path)
    # Sources: the tree the destinations directory belongs to.
    policy.source_file("../data/people.csv", tmp_path / "conf" / "destinations.d")
    with pytest.raises(NotAllowed):
        policy.source_file("../../people.csv", tmp_path / "conf" / "destinations.d")


def test_settings_take_comma_separated_lists_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SYNCD_SENDGRID_BASE_URLS", "https://api.sendgrid.com, http://[::1]:3030")
    monkeypatch.setenv("SYNCD_SECRET_ENV", "SENDGRID_API_KEY,WAREHOUSE_*")
    monkeypatch.setenv("SYNCD_SECRET_DIRS", f"{tmp_path}/a,{tmp_path}/b")
    monkeypatch.setenv("SYNCD_SOURCE_DIRS", "")
    settings = Settings()
    assert settings.sendgrid_base_urls == ("https://api.sendgrid.com", "http://[::1]:3030")
    assert settings.secret_env == ("SENDGRID_API_KEY", "WAREHOUSE_*")
    assert settings.secret_dirs == (tmp_path / "a", tmp_path / "b")
    assert settings.allowlists().source_dirs == ()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SYNCD_SENDGRID_BASE_URLS", "https://api.sendgrid.com,http://10.0.0.1", "plain http"),
        ("SYNCD_SENDGRID_BASE_URL", "http://sendgrid.internal:8080", "plain http"),
        ("SYNCD_SENDGRID_BASE_URL", "https://user:hunter2@api.sendgrid.com", "an entry"),
        ("SYNCD_SECRET_ENV", "SENDGRID API KEY", "shell-style glob"),
        ("SYNCD_LISTEN", "nonsense", "HOST:PORT"),
        ("SYNCD_LISTEN", "127.0.0.1:99999", "HOST:PORT"),
        ("SYNCD_METRICS_LISTEN", "[::1:9109", "brackets"),
    ],
)
def test_settings_that_cannot_be_safe_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert says in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_listen_addresses_parse_ipv4_ipv6_and_an_empty_host() -> None:
    assert parse_listen("0.0.0.0:9108") == ("0.0.0.0", 9108)
    assert parse_listen("[::1]:9108") == ("::1", 9108)
    assert parse_listen(":9108") == ("127.0.0.1", 9108)
