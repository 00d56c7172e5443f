"""Settings, read from the environment (and `.env`) by pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BACKEND_DIR = Path(__file__).resolve().parents[2]
PROJECT_DIR = BACKEND_DIR.parent
DATA_DIR = BACKEND_DIR / "data"
VAR_DIR = BACKEND_DIR / "var"

DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{VAR_DIR / 'app.db'}"
# Good enough to try the API on a laptop; refused outside development (see `check_token`).
DEFAULT_API_TOKEN = "dev-token-change-me"
ECB_HIST_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.xml"


class Settings(BaseSettings):
    """Everything the app reads from its environment; `.env.example` lists each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # repr=False: the URL may carry the database password, and settings end up in logs and tracebacks.
    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)
    database_echo: bool = False
    # Bounds on every wait for the database, so that a dead one gets a 503 in seconds, not a hang.
    database_connect_timeout_s: float = Field(default=5.0, gt=0, le=300)
    database_command_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    database_busy_timeout_s: float = Field(default=5.0, ge=0, le=300)
    api_token: SecretStr = SecretStr(DEFAULT_API_TOKEN)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cors_origins: list[str] = Field(default_factory=list)

    fx_pivot_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    fx_max_staleness_days: int = Field(default=7, ge=0, le=366)
    ecb_file_path: Path = DATA_DIR / "eurofxref-hist.zip"
    ecb_http_url: str = ECB_HIST_URL
    ecb_http_timeout_s: float = Field(default=10.0, gt=0, le=300)
    ecb_http_retries: int = Field(default=3, ge=0, le=10)
    ecb_http_backoff_s: float = Field(default=0.5, ge=0, le=30)

    @field_validator("database_url")
    @classmethod
    def check_driver(cls, url: str) -> str:
        """Only the two async drivers the app is built and tested for."""
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://, "
                f"got {url.split('://', 1)[0]}://"
            )
        return url

    @model_validator(mode="after")
    def check_token(self) -> Settings:
        """The well-known development token must never guard a real deployment."""
        if self.environment != "development" and self.api_token.get_secret_value() == DEFAULT_API_TOKEN:
            raise ValueError(f"API_TOKEN must be set to a secret of your own when ENVIRONMENT={self.environment}")
        return self

    @property
    def database_kind(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests clear this cache when they change the environment."""
    return Settings()
