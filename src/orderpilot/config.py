"""One typed settings object, read from ORDERPILOT_* environment variables and an optional .env."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_", env_file=".env",
                                      extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite file and secrets live")
    database_url: str | None = Field(None, description="postgresql+psycopg://... for scale-out")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = Field(None, description="Signs console sessions; generated if unset")
    embedded_dispatcher: bool = Field(True, description="Run dispatcher threads inside serve")
    dispatcher_threads: int = Field(1, ge=0, le=32)
    dispatch_max_attempts: int = Field(8, ge=1, le=100)
    dispatch_poll_seconds: float = Field(0.25, gt=0, le=60)
    metrics_public: bool = Field(False, description="Serve /metrics without a token")
    log_level: str = "INFO"
    log_json: bool = False
    default_locale: str = "zh_CN"
    session_max_age_hours: int = 12
    secure_cookies: bool = Field(False, description="Send the session cookie over HTTPS only")
    handler_plugins: str = Field("", description="Comma-separated module paths with register()")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'orderpilot.db').resolve()}"
