"""One typed settings object, read from ORDERPILOT_* environment variables and an optional .env."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.outbound import BadUrl, parse_allowlist, parse_origin

# Outbound base URLs: each becomes an allow-list entry of exactly its scheme, host, port, path.
BASE_URL_FIELDS = ("sim_url", "customs_url", "helpdesk_url", "crm_url", "aliyun_sms_url",
                   "tencent_sms_url", "dingtalk_url", "wecom_url", "kingdee_url", "sf_url")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_", env_file=".env",
                                      extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite file and secrets live")
    database_url: str | None = Field(None, description="postgresql+psycopg://... for scale-out")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="The embedded SQLite's fsync discipline. FULL (default): an "
        "acknowledged order survives a power cut. NORMAL: faster commits, but a power cut "
        "(not a crash of the process) may lose the last acknowledged commits; the file stays "
        "consistent. See docs/performance.md")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = Field(None, description="Signs console sessions; generated if unset")
    embedded_dispatcher: bool = Field(True, description="Run dispatcher threads inside serve")
    dispatcher_threads: int = Field(1, ge=0, le=32)
    dispatch_max_attempts: int = Field(8, ge=1, le=100)
    dispatch_poll_seconds: float = Field(0.25, gt=0, le=60)
    dispatch_commit_chunk: int = Field(
        20, ge=1, le=500, description="PostgreSQL: events whose handlers commit in one "
        "transaction, their stock rows taken just before the commit (a chunk where anything "
        "fails goes again one event at a time); SQLite commits each claimed batch whole. "
        "Measured (docs/performance.md, 'Chunks again'): bench ingest with two workers "
        "130.6 orders/s fully processed with 20 against 103.4 with 1")
    metrics_public: bool = Field(False, description="Serve /metrics without a token")
    ready_max_backlog_seconds: float = Field(
        300, ge=0, le=86400, description="/readyz fails while the oldest event due for "
        "delivery has waited longer than this (0: the backlog is not checked)")
    shutdown_grace_seconds: int = Field(
        30, ge=1, le=3600, description="On SIGTERM, how long `serve` lets requests in flight "
        "finish before closing their connections")
    log_level: str = "INFO"
    log_json: bool = False
    default_locale: str = "zh_CN"
    session_max_age_hours: int = 12
    refused_reports_keep_days: int = Field(
        30, ge=1, le=3650, description="Refused system reports are forgotten this many days "
        "after they were last seen (docs/exceptions-retry-and-refusals.md)")
    webhook_deliveries_keep_days: int = Field(
        30, ge=1, le=3650, description="Delivered outbound webhooks (and their attempts) are "
        "forgotten this many days after delivery; pending and dead ones stay "
        "(docs/webhooks.md)")
    returns_sla_hours: int = Field(48, ge=1, le=720, description="A return still open this "
                                   "many hours after it was requested shows as overdue")
    secure_cookies: Literal["auto", "true", "false"] = Field(
        "auto", description="Session cookie Secure flag: auto = Secure unless the console is "
                            "used over plain http on loopback (localhost, 127.0.0.1, ::1)")
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses/networks of reverse proxies whose "
                        "X-Forwarded-For is believed; none by default")
    handler_plugins: str = Field("", description="Comma-separated module paths with register()")
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=1024**3,
        description="Largest request body; a larger one is refused with 413 as it streams in")
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=1024**3,
        description="Largest multipart/form-data body (spreadsheet uploads; files <= 5 MB)")
    # One claiming thread with a pool of 16 by default: four claimers woken by every commit
    # that queued a run cost 27 statements an order in claims and checks, one costs 8.7, for
    # the same 16 calls at once (docs/performance.md, "One rule-run claimer").
    rule_runner_threads: int = Field(1, ge=0, le=32, description=(
        "Threads claiming rule runs (each carries them out on its own pool)"))
    rule_call_concurrency: int = Field(16, ge=1, le=64, description=(
        "Rule runs each runner thread carries out at once (a slow SMS, HTTP or customs "
        "provider then holds only its own calls)"))
    channel_worker_threads: int = Field(
        3, ge=0, le=16, description="Threads fetching pushed orders and pulling channels")
    webhook_sender_threads: int = Field(
        1, ge=0, le=16, description="Threads sending outbound webhooks (docs/webhooks.md)")
    nats_relay_url: str | None = Field(
        None, description="Relay every event to NATS JetStream at this URL (nats://host:4222); "
                          "off when unset (docs/webhooks.md)")
    nats_relay_stream: str = Field("ORDERPILOT", pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                   description="The JetStream stream (made if missing)")
    nats_relay_subject_prefix: str = Field(
        "orderpilot.events", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Subjects are <prefix>.<event type>")
    webhook_timeout_seconds: float = Field(
        5, gt=0, le=30, description="A webhook receiver that answers slower has failed")
    webhook_lease_seconds: float = Field(
        60, gt=0, le=3600, description="A crashed sender's deliveries are sent again after "
                                       "this (longer than the webhook timeout)")
    channel_schedule_seconds: float = Field(
        30, gt=0, le=3600, description="How often a channel worker looks for due pulls")
    public_url: str | None = Field(
        None, description="The hub's URL as platforms reach it (callback URLs shown to staff)")
    rule_lease_seconds: float = Field(60, gt=0, le=3600,
                                      description="A crashed runner's runs resume after this")
    rule_evaluation_budget_ms: float = Field(
        250, gt=0, le=60_000, description="An expression evaluation slower than this is a "
                                          "strike against its rule")
    rule_strike_limit: int = Field(3, ge=1, le=100, description="Failed or over-limit "
                                   "evaluations after which a rule is paused with an alert")
    rule_lookup_grace_seconds: float = Field(
        120, ge=0, le=86400,
        description="An outside call whose outcome is unknown is resent only when the "
                    "provider's look-up has not found it this long after the call")
    rule_lookup_backoff_seconds: float = Field(
        5, gt=0, le=3600, description="First wait before asking a failing look-up again")
    test_stop_at: str | None = Field(
        None, description="Tests only: POINT:FILE exits the process at that point of an "
                          "outside call, once (while FILE does not exist yet)")

    # Outbound connectors (rule actions). With sim_url set, every connector points at the
    # loopback simulator (`orderpilot sim serve`) and unset credentials take its test values.
    sim_url: str | None = Field(None, description="Base URL of `orderpilot sim serve`")
    outbound_allowlist: str = Field(
        "", description="Comma-separated origins rules may call: https://erp.example.com, "
                        "https://api.example.com:8443/hooks/, *.example.com (https, 443)")
    outbound_timeout_seconds: float = Field(5, gt=0, le=120)
    outbound_response_max_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024,
        description="A longer answer from an outside system fails the call")
    outbound_response_store_bytes: int = Field(
        16 * 1024, ge=256, le=1024 * 1024,
        description="How much of each (masked) answer run history keeps")
    sms_rate_per_second: float = Field(10, gt=0, le=1000, description="Per SMS provider")
    http_connectors: dict[str, str] = Field(
        default_factory=dict, description='Named base URLs, JSON: {"erp": "https://..."}')
    http_hmac_secret: str | None = Field(None, description="Signs outbound HTTP bodies")
    currency_rates: dict[str, Decimal] = Field(
        default_factory=dict,
        description='What one unit of each currency is worth in CNY, JSON: {"SGD": "5.30"}; '
                    'rule amount conditions convert with them')
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
    # Kingdee Cloud Galaxy (金蝶云星空) K3Cloud WebAPI, the ERP (integrations/kingdee).
    kingdee_url: str | None = Field(None, description="http://host/k3cloud (private cloud) "
                                    "or the public cloud's K3Cloud address")
    kingdee_acct_id: str | None = Field(None, description="The account set (账套) id")
    kingdee_username: str | None = Field(None, description="The integration user")
    kingdee_app_id: str | None = None
    kingdee_app_secret: str | None = None
    kingdee_lcid: int = Field(2052, description="2052 Chinese, 1033 English, 3076 繁体")
    kingdee_org_number: str = Field("100", description="The sale organisation's number")
    kingdee_auth_mode: Literal["app_secret", "signed"] = Field(
        "app_secret", description="LoginByAppSecret with a session, or signed headers")
    kingdee_auto_audit: bool = Field(True, description="Submit and audit each sale order "
                                     "as it is saved (IsAutoSubmitAndAudit)")
    kingdee_batch_size: int = Field(50, ge=1, le=500)
    kingdee_receivables_minutes: float = Field(5, gt=0, le=1440,
                                               description="How often receivables are read")
    # The walkthrough audit (S12a): a node reaching the hub later than this after it happened
    # at its source is a finding.
    walkthrough_lag_target_seconds: float = Field(
        30, gt=0, le=86400, description="Node lag target of the walkthrough audit (seconds)")
    # SF Express (顺丰丰桥): route query and route push; the poller asks every N minutes.
    sf_url: str = "https://bspgw.sf-express.com/std/service"
    sf_partner_id: str | None = Field(None, description="顾客编码 (partnerID)")
    sf_checkword: SecretStr | None = Field(None, description="校验码 (checkword)")
    sf_poll_minutes: float = Field(30, gt=0, le=24 * 60)
    sf_push_token: SecretStr | None = Field(
        None, description="Accept SF's documented unsigned JSON route push at "
                          "/hooks/carriers/sf?token=<this> (SF signs no push)")
    carrier_webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description='Generic carrier webhook secrets, JSON: '
                                          '{"yto": "..."}')

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        # A lease that ends while its sender still waits for the receiver lets a second
        # sender post the same delivery at the same time.
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError("ORDERPILOT_WEBHOOK_LEASE_SECONDS must be longer than "
                             "ORDERPILOT_WEBHOOK_TIMEOUT_SECONDS "
                             f"({self.webhook_lease_seconds} <= {self.webhook_timeout_seconds})")
        return self

    @field_validator("outbound_allowlist")
    @classmethod
    def _allowlist_entries(cls, value: str) -> str:
        try:
            parse_allowlist(value)
        except BadUrl as error:
            raise ValueError(f"ORDERPILOT_OUTBOUND_ALLOWLIST: {error}") from error
        return value

    @field_validator(*BASE_URL_FIELDS)
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_origin(value.rstrip("/") or value)
            except BadUrl as error:
                raise ValueError(str(error)) from error
        return value

    @field_validator("http_connectors")
    @classmethod
    def _connector_urls(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            try:
                parse_origin(url.rstrip("/") or url)
            except BadUrl as error:
                raise ValueError(f"connector {name!r}: {error}") from error
        return value

    @field_validator("currency_rates")
    @classmethod
    def _rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        CurrencyRates(value)  # refuses unknown codes and rates that are not positive
        return value

    @field_validator("secure_cookies", mode="before")
    @classmethod
    def _secure_cookies_word(cls, value: Any) -> Any:
        """true/false as before (1/0, yes/no, on/off too), or auto."""
        if isinstance(value, bool):
            return "true" if value else "false"
        word = str(value).strip().lower()
        return {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false",
                "off": "false"}.get(word, word)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the entry
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'orderpilot.db').resolve()}"
