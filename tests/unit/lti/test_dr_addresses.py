"""Dynamic Registration's outbound guard: which addresses the gateway refuses to call, and the production settings."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.lti import errors
from gateway.lti.config import DrConfig
from gateway.lti.dynamic_registration import address_refused, check_public_host
from gateway.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "::1",  # loopback
        "10.0.0.1", "172.16.5.4", "192.168.1.1", "fd00::1",  # private
        "169.254.169.254", "fe80::1", "fe80::1%eth0",  # link-local (cloud metadata)
        "100.64.0.1",  # carrier-grade NAT (not global)
        "0.0.0.0", "::", "240.0.0.1", "255.255.255.255", "224.0.0.1", "192.0.2.1",  # unspecified/reserved/...  # noqa: S104
        "::ffff:127.0.0.1", "::ffff:10.1.2.3",  # IPv4-mapped IPv6
        "not-an-address",
    ],
)
def test_internal_and_reserved_addresses_are_refused(address: str) -> None:
    assert address_refused(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not address_refused(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/.well-known/openid-configuration",
        "https://localhost/.well-known/openid-configuration",  # a name counts by what it resolves to
        "https://[::1]/config",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7:8443/config",
        "https://no-such-host.invalid/config",  # unresolvable: the same refusal, internal names stay unknown
    ],
)
def test_urls_on_internal_hosts_are_refused(url: str) -> None:
    with pytest.raises(errors.DrAddressNotAllowed) as refused:
        check_public_host(url)
    assert refused.value.code == "LTI_DR_ADDRESS_NOT_ALLOWED"
    assert "127.0.0.1" not in refused.value.message and "10.0.0.7" not in refused.value.message


def test_a_url_on_a_public_address_passes() -> None:
    check_public_host("https://93.184.216.34/.well-known/openid-configuration")  # no DNS needed for a literal


def test_the_guard_is_on_in_production_only() -> None:
    assert DrConfig.from_settings(load_settings(environ={}, env="production")).public_addresses_only
    assert not DrConfig.from_settings(load_settings(environ={}, env="test")).public_addresses_only


@pytest.mark.parametrize("hosts", ["", " , "])
def test_active_without_a_host_list_is_refused_in_production(hosts: str) -> None:
    with pytest.raises(SettingsError) as refused:
        DrConfig.from_settings(load_settings(environ={}, env="production", lti_dynamic_registration="active",
                                             lti_dynamic_registration_hosts=hosts))
    assert refused.value.setting == "GATEWAY_LTI_DYNAMIC_REGISTRATION"


@pytest.mark.parametrize(
    "overrides",
    [
        {"env": "production", "lti_dynamic_registration": "active", "lti_dynamic_registration_hosts": ".edu.example"},
        {"env": "production", "lti_dynamic_registration": "pending"},
        {"env": "test", "lti_dynamic_registration": "active"},
    ],
)
def test_active_with_a_host_list_or_pending_or_outside_production_is_fine(overrides: dict[str, Any]) -> None:
    assert DrConfig.from_settings(load_settings(environ={}, **overrides)).mode == overrides["lti_dynamic_registration"]
