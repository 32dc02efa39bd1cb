"""Rows with one ordering key arrive in order, even with several delivery threads and retries."""

from __future__ import annotations

from gateway.bootstrap import Services
from tests.support.flaky_remote import OK, FlakyRemote, slow, status
from tests.support.outbox import enqueue, running, settle


def test_same_key_rows_arrive_in_order_with_concurrency_and_a_retrying_head(
    wb: Services, remote: FlakyRemote
) -> None:
    keys = [f"assignment:a1:user:u{u}" for u in range(4)]
    for u, key in enumerate(keys):
        for n in range(5):
            remote.script(f"{key}#{n}", slow(0.03))
        # The first row of two keys fails before it arrives; a middle row of another is rate limited.
        if u in (0, 2):
            remote.script(f"{key}#0", status(500), status(503), OK)
    remote.script(f"{keys[1]}#2", status(429), OK)

    ids = {key: [enqueue(wb, key=key, case=f"{key}#{n}", n=n) for n in range(5)] for key in keys}
    with running(wb, concurrency=4):
        settle(wb, *[i for group in ids.values() for i in group])

    for key, expected in ids.items():
        accepted = [a for a in remote.accepted if a.payload["case"].startswith(key + "#")]
        assert [a.id for a in accepted] == expected, f"{key} arrived out of order"
        arrivals = [a for a in remote.arrivals if a.payload["case"].startswith(key + "#")]
        for later in arrivals:
            earlier_done = [a for a in accepted if a.payload["n"] < later.payload["n"]]
            # Nothing of a key is sent before every earlier row of that key has arrived.
            assert len(earlier_done) == later.payload["n"]
            assert all(a.at <= later.at for a in earlier_done)
    assert sorted(remote.accepted_ids()) == sorted(i for group in ids.values() for i in group)
    assert remote.max_inflight > 1, "the test should exercise concurrent delivery"
