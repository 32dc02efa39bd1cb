"""What every feature is built on: settings, the database, the cipher, metrics and the outbound client.

The composition root (:mod:`gateway.bootstrap`) builds one :class:`Core` from settings and hands it to each
feature's ``build``. Nothing here connects at import time; the database engine connects on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.crypto import Cipher
from gateway.http import HttpClient
from gateway.ops.metrics import Metrics
from gateway.settings import Settings
from gateway.store import Database


@dataclass(frozen=True)
class Core:
    settings: Settings
    db: Database
    cipher: Cipher
    metrics: Metrics
    http: HttpClient

    @classmethod
    def build(cls, settings: Settings) -> Core:
        metrics = Metrics()
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            cipher=Cipher.from_spec(settings.encryption_keys),
            metrics=metrics,
            http=HttpClient(metrics, timeout=settings.http_timeout_seconds,
                            max_response_bytes=settings.http_max_response_bytes),
        )

    def close(self) -> None:
        self.http.close()
        self.db.dispose()
