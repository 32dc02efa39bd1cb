"""Backoff with full jitter, capped, floored by the remote's hint; and the row's next state per outcome."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.bootstrap import bootstrap
from gateway.crypto import Cipher
from gateway.settings import SettingsError, load_settings
from gateway.store import Database
from gateway.writeback.attempt import Claim, next_state
from gateway.writeback.backends import DeliveryResult
from gateway.writeback.outbox import Outbox, build_outbox
from gateway.writeback.retry import RetryPolicy
from tests.support.gateway import TEST_ENCRYPTION_KEYS

POLICY = RetryPolicy(max_attempts=5, base_seconds=2.0, cap_seconds=60.0, retry_after_max_seconds=300.0)
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("attempt", "bound"), [(1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (6, 60.0), (500, 60.0)])
def test_the_backoff_bound_doubles_up_to_the_cap(attempt: int, bound: float) -> None:
    assert POLICY.backoff_bound(attempt) == bound


def test_full_jitter_stays_within_zero_and_the_bound() -> None:
    rng = random.Random(7)
    delays = [POLICY.delay(4, None, rng) for _ in range(500)]
    assert all(0.0 <= d <= 16.0 for d in delays)
    assert max(delays) - min(delays) > 8  # spread, not synchronized


def test_the_remote_hint_is_a_floor_and_is_capped() -> None:
    rng = random.Random(1)
    assert all(POLICY.delay(1, 45.0, rng) >= 45.0 for _ in range(100))
    assert POLICY.delay(1, 86400.0, rng) == 300.0


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"writeback_max_attempts": 0}, "GATEWAY_WRITEBACK_MAX_ATTEMPTS"),
        ({"writeback_backoff_base_seconds": 0}, "GATEWAY_WRITEBACK_BACKOFF_BASE_SECONDS"),
        (
            {"writeback_backoff_cap_seconds": 1, "writeback_backoff_base_seconds": 5},
            "GATEWAY_WRITEBACK_BACKOFF_CAP_SECONDS",
        ),
        ({"writeback_lease_seconds": 0}, "GATEWAY_WRITEBACK_LEASE_SECONDS"),
        ({"writeback_concurrency": 0}, "GATEWAY_WRITEBACK_CONCURRENCY"),
        ({"writeback_max_delivery_seconds": 1}, "GATEWAY_WRITEBACK_MAX_DELIVERY_SECONDS"),
        ({"worker_in_process": "maybe"}, "GATEWAY_WORKER_IN_PROCESS"),
        ({"writeback_retry_after_max_seconds": -1}, "GATEWAY_WRITEBACK_RETRY_AFTER_MAX_SECONDS"),
        ({"writeback_ags_timeout_seconds": 0}, "GATEWAY_WRITEBACK_AGS_TIMEOUT_SECONDS"),
        ({"writeback_assignment_wait_seconds": 0}, "GATEWAY_WRITEBACK_ASSIGNMENT_WAIT_SECONDS"),
    ],
)
def test_bad_writeback_settings_stop_start_up_naming_the_variable(
    overrides: dict[str, object], setting: str, tmp_path: Path
) -> None:
    settings = load_settings(environ={}, database_url=f"sqlite:///{tmp_path}/x.db", **overrides)
    with pytest.raises(SettingsError) as refused:
        bootstrap(settings)
    assert refused.value.setting == setting


def _claim(attempts: int) -> Claim:
    return Claim(seq=1, id="dlv_x", kind="grade", backend="ags", ordering_key="k", attempts=attempts,
                 max_attempts=3, event_at=None, created_at=NOW, api_key_id=None, payload_encrypted="")


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    settings = load_settings(environ={}, database_url=f"sqlite:///{tmp_path}/x.db", writeback_max_attempts=3,
                             writeback_backoff_base_seconds=1, writeback_backoff_cap_seconds=4)
    return build_outbox(Database(settings.database_url), Cipher.from_spec(TEST_ENCRYPTION_KEYS), settings,
                        CollectorRegistry())


def test_next_state_per_outcome(outbox: Outbox) -> None:
    delivered = next_state(_claim(1), DeliveryResult.delivered(status=200), outbox, NOW)
    assert (delivered["state"], delivered["delivered_at"], delivered["detail"]) == ("delivered", NOW, None)
    failed = next_state(_claim(1), DeliveryResult.failed("remote answered 404", status=404, body="gone"), outbox, NOW)
    assert (failed["state"], failed["last_status"]) == ("failed", 404)
    assert failed["last_response_encrypted"].startswith("v1.")
    retry = next_state(_claim(2), DeliveryResult.retry("remote answered 503", retry_after=30), outbox, NOW)
    assert retry["state"] == "queued" and retry["next_attempt_at"] >= NOW + dt.timedelta(seconds=30)
    assert retry["detail"] == "remote answered 503; will retry"
    dead = next_state(_claim(3), DeliveryResult.retry("remote answered 503"), outbox, NOW)
    assert (dead["state"], dead["detail"]) == ("dead", "remote answered 503; out of attempts (3)")
    skipped = next_state(_claim(1), DeliveryResult.skipped("skipped: newer"), outbox, NOW)
    assert (skipped["state"], skipped["detail"]) == ("delivered", "skipped: newer")
