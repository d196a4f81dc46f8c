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
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=1024**3,
        description="Largest request body; a larger one is refused with 413 as it streams in")
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=1024**3,
        description="Largest multipart/form-data body (spreadsheet uploads; files <= 5 MB)")
    rule_runner_threads: int = Field(4, ge=0, le=32, description="Threads running rule actions")
    rule_lease_seconds: float = Field(60, gt=0, le=3600,
                                      description="A crashed runner's runs resume after this")

    # Outbound connectors (rule actions). With sim_url set, every connector points at the
    # loopback simulator (`orderpilot sim serve`) and unset credentials take its test values.
    sim_url: str | None = Field(None, description="Base URL of `orderpilot sim serve`")
    outbound_allowlist: str = Field("", description="Comma-separated hosts rules may call")
    outbound_timeout_seconds: float = Field(5, gt=0, le=120)
    sms_rate_per_second: float = Field(10, gt=0, le=1000, description="Per SMS provider")
    http_connectors: dict[str, str] = Field(
        default_factory=dict, description='Named base URLs, JSON: {"erp": "https://..."}')
    http_hmac_secret: str | None = Field(None, description="Signs outbound HTTP bodies")
    customs_url: str | None = None
    helpdesk_url: str | None = None
    helpdesk_token: str | None = None
    crm_url: str | None = None
    crm_token: str | None = None
    aliyun_sms_url: str = "https://dysmsapi.aliyuncs.com"
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: str | None = None
    aliyun_sms_region: str = "cn-hangzhou"
    tencent_sms_url: str = "https://sms.tencentcloudapi.com"
    tencent_secret_id: str | None = None
    tencent_secret_key: str | None = None
    tencent_sms_sdk_app_id: str | None = None
    tencent_sms_region: str = "ap-guangzhou"
    dingtalk_url: str = "https://oapi.dingtalk.com"
    dingtalk_access_token: str | None = None
    dingtalk_secret: str | None = None
    wecom_url: str = "https://qyapi.weixin.qq.com"
    wecom_key: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, description="Default 25; sim port + 1 with sim_url")
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "orderpilot@localhost"
    smtp_starttls: bool = False

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'orderpilot.db').resolve()}"
