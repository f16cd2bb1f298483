"""Configuration from environment variables (12-factor); the same names in both run modes.

Embedded mode is the default: nothing set means one process, ``memory://``, SQLite files under
``KJFP_DATA_DIR`` and views in the embedded view store there (kernel/views.py). Setting
``AMQP_URI``, ``EVENT_STORE=postgres`` and ``MONGO_URI`` gives the distributed mode.
"""

import base64
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

# Development defaults: fine for a first run on a laptop, refused in distributed mode.
DEV_SECRET = "dev-only-secret-change-me-before-production"
DEV_CIPHER_KEY = "ZGV2LW9ubHktY2lwaGVyLWtleS0zMmJ5dGVzLi4uLi4="  # base64 of 32 bytes
DEV_CHECKPOINT_KEY = "ZGV2LW9ubHktY2hlY2twb2ludC1rZXktMzJieXRlcyE="  # base64 of 32 bytes


def is_loopback(host):
    """Does ``host`` (a name or an address) only ever reach this machine?"""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


@dataclass(frozen=True)
class Settings:
    amqp_uri: str = "memory://localhost/"
    event_store: str = "sqlite"  # sqlite | postgres
    data_dir: Path = Path("data")
    postgres_host: str = "127.0.0.1"
    postgres_port: str = "5432"
    postgres_db: str = "kjfp"
    postgres_user: str = "postgres"
    postgres_password: str = ""
    mongo_uri: str = ""  # empty: the embedded view store in data_dir
    views_db: str = "kjfp_views"
    token_secret: str = DEV_SECRET
    token_secret_previous: str = (
        ""  # while rotating: tokens it signed are accepted until they expire
    )
    token_ttl_seconds: int = 8 * 3600
    cipher_key: str = DEV_CIPHER_KEY
    pii_hash_key: str = DEV_SECRET
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Signed Merkle checkpoints (kernel/tree.py): base64 of 32 secret bytes from which each
    # service's own Ed25519 key is derived (not TOKEN_SECRET: a key of its own).
    checkpoint_signing_key: str = DEV_CHECKPOINT_KEY
    checkpoint_origin: str = "kjfp.local"

    @property
    def embedded(self):
        return self.amqp_uri.startswith("memory://")

    def check(self):
        """Refuse to run distributed on the development secrets shipped here, on placeholders,
        on short secrets, or on a cipher key that is not base64 of 16, 24 or 32 bytes; and refuse
        to serve the embedded mode on those published secrets anywhere but this machine."""
        if self.embedded:
            keys = {
                self.token_secret,
                self.cipher_key,
                self.pii_hash_key,
                self.checkpoint_signing_key,
            }
            if keys & {DEV_SECRET, DEV_CIPHER_KEY, DEV_CHECKPOINT_KEY} and not is_loopback(
                self.http_host
            ):
                raise ValueError(
                    f"HTTP_HOST={self.http_host} would serve the embedded mode to the network while it runs "
                    "on the development keys published in the repository: use HTTP_HOST=127.0.0.1 (or ::1, "
                    "localhost), or set TOKEN_SECRET, CIPHER_KEY, PII_HASH_KEY and CHECKPOINT_SIGNING_KEY"
                )
            return
        secrets = [
            ("TOKEN_SECRET", self.token_secret),
            ("CIPHER_KEY", self.cipher_key),
            ("PII_HASH_KEY", self.pii_hash_key),
        ]
        if self.token_secret_previous:
            secrets.append(("TOKEN_SECRET_PREVIOUS", self.token_secret_previous))
        weak = [
            name
            for name, value in secrets
            if value in (DEV_SECRET, DEV_CIPHER_KEY)
            or value.startswith("change-me")
            or len(value) < 32
        ]
        if "CIPHER_KEY" not in weak:
            try:
                if len(base64.b64decode(self.cipher_key, validate=True)) not in (16, 24, 32):
                    weak.append("CIPHER_KEY")
            except ValueError:
                weak.append("CIPHER_KEY")
        weak += self._weak_checkpoint_key()
        if weak:
            raise ValueError(
                "distributed mode needs its own secrets (at least 32 characters; "
                "CIPHER_KEY base64 of 16, 24 or 32 random bytes); set " + ", ".join(weak)
            )

    def _weak_checkpoint_key(self):
        """CHECKPOINT_SIGNING_KEY: not the development key (anyone could sign with it), base64
        of 32 bytes."""
        try:
            if (
                self.checkpoint_signing_key != DEV_CHECKPOINT_KEY
                and len(base64.b64decode(self.checkpoint_signing_key, validate=True)) == 32
            ):
                return []
        except ValueError:
            pass
        return ["CHECKPOINT_SIGNING_KEY (base64 of 32 random bytes)"]

    def nameko_config(self):
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{self.http_host}:{self.http_port}",
            "serializer": "json",
            SETTINGS_KEY: self,
        }


SETTINGS_KEY = "KJFP_SETTINGS"


def from_container(container):
    """The settings a service was started with (the environment's, if started by nameko itself),
    checked here too so that no way of starting a service skips the check."""
    settings = container.config.get(SETTINGS_KEY) or load()
    settings.check()
    return settings


def load():
    return Settings(
        amqp_uri=_env("AMQP_URI", "memory://localhost/"),
        event_store=_env("EVENT_STORE", "sqlite"),
        data_dir=Path(_env("KJFP_DATA_DIR", "data")),
        postgres_host=_env("POSTGRES_HOST", "127.0.0.1"),
        postgres_port=_env("POSTGRES_PORT", "5432"),
        postgres_db=_env("POSTGRES_DB", "kjfp"),
        postgres_user=_env("POSTGRES_USER", "postgres"),
        postgres_password=_env("POSTGRES_PASSWORD", ""),
        mongo_uri=_env("MONGO_URI", ""),
        views_db=_env("VIEWS_DB", "kjfp_views"),
        token_secret=_env("TOKEN_SECRET", DEV_SECRET),
        token_secret_previous=_env("TOKEN_SECRET_PREVIOUS", ""),
        token_ttl_seconds=int(_env("TOKEN_TTL_SECONDS", 8 * 3600)),
        cipher_key=_env("CIPHER_KEY", DEV_CIPHER_KEY),
        pii_hash_key=_env("PII_HASH_KEY", DEV_SECRET),
        http_host=_env("HTTP_HOST", "127.0.0.1"),
        http_port=int(_env("HTTP_PORT", 8000)),
        checkpoint_signing_key=_env("CHECKPOINT_SIGNING_KEY", DEV_CHECKPOINT_KEY),
        checkpoint_origin=_env("CHECKPOINT_ORIGIN", "kjfp.local"),
    )
