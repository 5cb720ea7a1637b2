"""The one Settings object.

Sources, highest precedence first: explicit arguments (tests), environment variables
``DOSSIER_*`` with ``__`` for nesting (``DOSSIER_VAULT__BACKEND=s3``), the TOML file named by
``DOSSIER_CONFIG`` (or ``<data_dir>/dossier.toml`` when present), then the defaults below, which
give the embedded set-up: SQLite catalogue, local encrypted blob directory, master key file — all
under one data directory. Settings flow down from the entrypoints; nothing below them reads
``os.environ``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from records.errors import ConfigurationError

DEFAULT_DATA_DIR = Path("~/.local/share/dossier").expanduser()


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseSettings(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalogue; default sqlite:///<data_dir>/catalogue.sqlite3. "
        "PostgreSQL: postgresql+psycopg://user:pw@host/db",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")


class VaultSettings(_Section):
    backend: Literal["local", "s3"] = Field(default="local", description="Where sealed blobs live.")
    root: Path | None = Field(default=None, description="Local blob directory; default <data_dir>/vault.")
    segment_size: int = Field(
        default=1024 * 1024, ge=4096, le=64 * 1024 * 1024,
        description="Plaintext bytes per independently sealed AES-GCM segment.",
    )
    s3_bucket: str | None = Field(default=None, description="S3 bucket (vault.backend = 's3').")
    s3_prefix: str = Field(default="", description="Key prefix inside the bucket.")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint, e.g. http://127.0.0.1:8333.")
    s3_region: str = Field(default="us-east-1", description="S3 region name.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key (else boto3's chain).")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key.")

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> VaultSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("vault.backend = 's3' needs vault.s3_bucket")
        return self


class KeySettings(_Section):
    provider: Literal["file", "openbao", "awskms"] = Field(
        default="file", description="Who holds the master key that wraps per-object data keys."
    )
    file: Path | None = Field(default=None, description="Key file (provider 'file'); default <data_dir>/master.key.")
    openbao_url: str | None = Field(default=None, description="OpenBao/Vault address, e.g. http://127.0.0.1:8200.")
    openbao_token: SecretStr | None = Field(default=None, description="OpenBao/Vault token.")
    openbao_mount: str = Field(default="transit", description="Transit engine mount point.")
    openbao_key: str = Field(default="dossier", description="Transit key name.")
    openbao_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for OpenBao before "
                                   "calling it unavailable.")
    kms_key_id: str | None = Field(default=None, description="AWS KMS key id or alias (provider 'awskms').")
    kms_endpoint_url: str | None = Field(default=None, description="KMS endpoint override.")
    kms_region: str = Field(default="us-east-1", description="KMS region.")
    pin_check_seconds: float = Field(
        default=2.0, ge=0,
        description="Before a wrap, check at most this often that the key service still holds the archive's pinned "
        "key (one extra round trip); 0 = before every wrap.",
    )
    dossier_keyring: Path | None = Field(
        default=None, description="The per-dossier key ring (key material, backed up with the master key, never by "
        "`dossier backup`); default dossier-keys.sqlite3 beside the key file (provider 'file') or in <data_dir>.")

    @model_validator(mode="after")
    def _provider_needs(self) -> KeySettings:
        if self.provider == "openbao" and not (self.openbao_url and self.openbao_token):
            raise ValueError("keys.provider = 'openbao' needs keys.openbao_url and keys.openbao_token")
        if self.provider == "awskms" and not self.kms_key_id:
            raise ValueError("keys.provider = 'awskms' needs keys.kms_key_id")
        return self


class NumberingSettings(_Section):
    template: str = Field(
        default="{yy}{mm}-{serial}",
        description="Archive number template (ARC-3). Fields: {yyyy} {yy} {mm} {serial} and literal text. "
        "The serial restarts whenever the text before it changes (default: each year-month).",
    )
    serial_width: int = Field(default=3, ge=1, le=9, description="Digits of the serial (zero-padded).")
    item_width: int = Field(default=2, ge=1, le=6, description="Digits of a document's item number.")


class ClockSettings(_Section):
    days: int = Field(ge=0)
    unit: Literal["working", "calendar"]


class SlaProfileSettings(_Section):
    acceptance: ClockSettings
    conclusion: ClockSettings
    reply: ClockSettings


def _legal_aid() -> SlaProfileSettings:
    # 法律援助投诉处理办法: TL-01 5 working days, TL-02 45 days, TL-04 5 working days.
    return SlaProfileSettings(
        acceptance=ClockSettings(days=5, unit="working"),
        conclusion=ClockSettings(days=45, unit="calendar"),
        reply=ClockSettings(days=5, unit="working"),
    )


class DeadlineSettings(_Section):
    default_profile: str = Field(default="legal-aid", description="SLA profile used when a dossier names none.")
    profiles: dict[str, SlaProfileSettings] = Field(
        default_factory=lambda: {"legal-aid": _legal_aid()},
        description="Named SLA profiles (TL-*); 'legal-aid' is the statutory default.",
    )
    extra_holidays: list[str] = Field(default_factory=list, description="ISO dates treated as holidays.")
    extra_workdays: list[str] = Field(default_factory=list, description="ISO dates treated as working days (调休).")

    @model_validator(mode="after")
    def _default_exists(self) -> DeadlineSettings:
        if self.default_profile not in self.profiles:
            raise ValueError(f"deadlines.default_profile {self.default_profile!r} is not among the profiles")
        return self


class IngestSettings(_Section):
    workers: int = Field(default=0, ge=0, le=64, description="Parser processes; 0 = one per core.")
    timeout_seconds: float = Field(default=300.0, gt=0, description="Per-file parser time limit.")
    worker_memory_mb: int = Field(default=3072, ge=0, description="Address-space limit per parser process (0 = none).")
    max_file_mb: int = Field(default=512, ge=1, description="Larger files are kept but not parsed (outcome too_large).")
    max_pages: int = Field(default=2000, ge=1, description="Pages parsed/OCR'd per document.")
    ocr: bool = Field(default=True, description="OCR pages without a text layer (tesseract).")
    ocr_low_confidence: float = Field(default=60.0, ge=0, le=100, description="Mean page confidence below which a page is flagged for review.")
    max_attachment_depth: int = Field(default=5, ge=0, le=20, description="Nesting depth of attachments filed as child documents.")
    max_text_chars: int = Field(default=5_000_000, ge=1000, description="Extracted text kept per file for the index and catalogue; longer text is cut with a warning (the original is kept whole).")
    large_job_mb: int = Field(default=32, ge=1, description="Uploads larger than this are queued after smaller ones (issue #13 item 8).")
    large_job_wait_minutes: float = Field(default=10.0, ge=0, description="A large upload waiting longer than this is taken in turn again (it cannot starve).")


class MailSettings(_Section):
    host: str | None = Field(default=None, description="IMAP server polled by `dossier mail fetch`.")
    port: int | None = Field(default=None, ge=1, le=65535, description="IMAP port; default 143, or 993 with security 'ssl'.")
    security: Literal["none", "starttls", "ssl"] | None = Field(default=None, description="TLS; default starttls, or none for a loopback host.")
    user: str | None = Field(default=None, description="IMAP login name.")
    password: SecretStr | None = Field(default=None, description="IMAP password (prefer password_file).")
    password_file: Path | None = Field(default=None, description="File whose first line is the IMAP password.")
    ca_file: Path | None = Field(default=None, description="CA bundle trusted for the server's certificate.")
    folder: str = Field(default="INBOX", description="Folder polled for new messages.")
    move_to: str | None = Field(default=None, description="Folder that filed messages are moved to (created on first use).")
    done_keyword: str = Field(default="$DossierFiled", description="IMAP keyword marking a message as filed.")
    timeout_seconds: float = Field(default=60.0, gt=0, description="Network timeout.")


class SearchSettings(_Section):
    backend: Literal["fts5", "elasticsearch", "opensearch"] | None = Field(
        default=None,
        description="Search engine; default fts5 without search.url, else the flavour the server at search.url reports.")
    url: str | None = Field(default=None, description="Elasticsearch/OpenSearch URL (also DOSSIER_SEARCH_URL).")
    index_prefix: str = Field(default="dossier-documents", pattern=r"^[a-z0-9][a-z0-9_-]*$",
                              description="Alias on the server; concrete indices are <prefix>-a<version>-<stamp>-<rand>.")
    fts5_dir: Path | None = Field(default=None, description="Embedded index directory; default <data_dir>/search.")
    username: str | None = Field(default=None, description="Server user (basic auth).")
    password: SecretStr | None = Field(default=None, description="Server password.")
    ca_certs: Path | None = Field(default=None, description="CA bundle for https.")
    verify_certs: bool = Field(default=True, description="Verify the server's TLS certificate.")
    refresh: Literal["wait_for", "true", "false"] = Field(default="wait_for", description="Refresh policy of writes.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Request timeout.")
    replicas: int = Field(default=0, ge=0, description="Replicas of new server indices.")

    @model_validator(mode="after")
    def _server_needs_url(self) -> SearchSettings:
        if self.backend in ("elasticsearch", "opensearch") and not self.url:
            raise ValueError(f"search.backend = {self.backend!r} needs search.url")
        return self


class AccessSettings(_Section):
    signing_key: Path | None = Field(default=None, description="Ed25519 key signing access-log checkpoints; default <data_dir>/audit-signing.key (0600).")
    checkpoint_file: Path | None = Field(default=None, description="Append-only copy of every checkpoint; default <data_dir>/audit-checkpoints.jsonl. Copy it off the machine.")
    checkpoint_every: int = Field(default=100, ge=1, description="Sign a checkpoint every N entries (1 = every entry).")
    checkpoint_seconds: float = Field(default=60, ge=0, description="Also sign one at the first entry once the last checkpoint is this many seconds old (the archive clock), bounding in time the stretch of unsigned entries; 0 = by count only.")
    details_keep_months: int = Field(default=24, ge=0, description="Access-log details that name no dossier (search queries, filters) are sealed under a key per month; the keys of months older than this many months are destroyed when a new month's key is made (and by `dossier audit expire-details`), so what searches said about people ends on a schedule (0 = keep them forever). Entries stay verifiable.")


class RetentionSettings(_Section):
    """Sealing and retention (ARC-2, RET). The schedule itself is a TOML file of ``[[rule]]`` tables."""

    rules_file: Path | None = Field(
        default=None, description="Retention schedule (TOML, [[rule]] tables); default <data_dir>/retention.toml. "
        "When absent the built-in seed schedule applies: important dossiers 10 years, all others 1 year, from closure.")
    important_categories: list[str] = Field(
        default_factory=list, description="Categories whose dossiers count as important material (kept longer).")
    collective_is_important: bool = Field(
        default=True, description="Collective complaints (INT-F-21) count as important material.")
    required_materials: dict[str, list[str]] = Field(
        default_factory=lambda: {"*": ["registration", "acceptance_decision", "investigation", "decision", "reply"]},
        description="Materials a dossier needs before it can be sealed, per SLA profile ('*' = any other profile). "
        "Known: registration, acceptance_decision, investigation, decision, reply. Investigation, decision and reply "
        "are only asked of accepted dossiers.")
    material_kinds: dict[str, list[str]] = Field(
        default_factory=dict, description="Override which document kinds count as each material, "
        "e.g. {investigation = ['investigation_minutes']}.")
    disposition_dir: Path | None = Field(
        default=None, description="Where disposition certificates and transfer packages go; default <data_dir>/dispositions.")
    destruction_ledger: Path | None = Field(
        default=None, description="Signed, append-only record of every destroyed dossier, replayed after a restore; "
        "default destructions.jsonl beside the dossier key ring. Keep it with the key material.")


class OfficeSettings(_Section):
    """The office that issues the notices the complaint rules require (ACC-DOC-02..05, TL-36)."""

    name: str = Field(default="××市司法局", min_length=1, max_length=100,
                      description="The issuing office's name, printed above the date of every generated notice.")
    seal_text: str = Field(default="××市司法局法律援助投诉处理专用章", min_length=1, max_length=60,
                           description="The text of the office's seal, printed in the seal of every generated notice.")


class ReminderSettings(_Section):
    """The daily deadline digest by e-mail (`dossier remind`, TL-01..04, TL-36) and its SMTP server.

    Accounts carry no e-mail address, so a recipient's address is ``addresses[name]`` if given,
    else ``address_template`` with ``{name}`` replaced by the account name; without either, that
    recipient's digest is reported as undeliverable.
    """

    days_ahead: int = Field(default=3, ge=1, le=30, description="'Due soon' means due within this many days after today.")
    smtp_host: str | None = Field(default=None, description="SMTP server that sends the digest (`dossier remind`).")
    smtp_port: int | None = Field(default=None, ge=1, le=65535,
                                  description="SMTP port; default 25, 587 with security 'starttls', 465 with 'ssl'.")
    smtp_security: Literal["none", "starttls", "ssl"] | None = Field(
        default=None, description="TLS to the SMTP server; default starttls, or none for a loopback host.")
    smtp_user: str | None = Field(default=None, description="SMTP login name (none: send without logging in).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle trusted for the SMTP server's certificate.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Network timeout per SMTP operation.")
    sender: str | None = Field(default=None, description="From: address of the digest, e.g. dossier@example.org.")
    addresses: dict[str, str] = Field(default_factory=dict, description="E-mail address per account name.")
    address_template: str | None = Field(
        default=None, description="Address of accounts not in `addresses`, e.g. '{name}@example.org'.")
    link_base: str | None = Field(
        default=None, description="Web app address; each dossier in the digest links to <link_base>/dossiers/<number>.")

    @model_validator(mode="after")
    def _template_names_the_account(self) -> ReminderSettings:
        if self.address_template is not None and "{name}" not in self.address_template:
            raise ValueError("reminders.address_template must contain {name}")
        return self


class Settings(BaseSettings):
    """Everything configurable about one archive."""

    model_config = SettingsConfigDict(
        env_prefix="DOSSIER_", env_nested_delimiter="__", frozen=True, extra="forbid",
    )

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Where the embedded archive lives.")
    config: Path | None = Field(default=None, description="TOML file with further settings.")
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The archive's local time zone: receipt dates, working days and the year-month of numbers.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    vault: VaultSettings = Field(default_factory=VaultSettings)
    keys: KeySettings = Field(default_factory=KeySettings)
    numbering: NumberingSettings = Field(default_factory=NumberingSettings)
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    # Derived locations: defaults live under data_dir unless configured.
    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'catalogue.sqlite3'}"

    @property
    def vault_root(self) -> Path:
        return self.vault.root or self.data_dir / "vault"

    @property
    def key_file(self) -> Path:
        return self.keys.file or self.data_dir / "master.key"

    @property
    def dossier_keyring(self) -> Path:
        if self.keys.dossier_keyring:
            return self.keys.dossier_keyring
        return (self.key_file.parent if self.keys.provider == "file" else self.data_dir) / "dossier-keys.sqlite3"

    @property
    def destruction_ledger(self) -> Path:
        return self.retention.destruction_ledger or self.dossier_keyring.parent / "destructions.jsonl"

    @property
    def audit_signing_key(self) -> Path:
        return self.access.signing_key or self.data_dir / "audit-signing.key"

    @property
    def audit_checkpoint_file(self) -> Path:
        return self.access.checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"

    @property
    def retention_rules_file(self) -> Path:
        return self.retention.rules_file or self.data_dir / "retention.toml"

    @property
    def disposition_dir(self) -> Path:
        return self.retention.disposition_dir or self.data_dir / "dispositions"


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_settings(**overrides: Any) -> Settings:
    """Build the Settings in effect: overrides > DOSSIER_* env > TOML file > defaults.

    Raises:
        ConfigurationError: a value is invalid or the TOML file cannot be read.
    """
    env_config = os.environ.get("DOSSIER_CONFIG")
    data_dir = overrides.get("data_dir") or os.environ.get("DOSSIER_DATA_DIR") or DEFAULT_DATA_DIR
    config_path = overrides.get("config") or env_config
    if config_path is None and (Path(data_dir) / "dossier.toml").is_file():
        config_path = Path(data_dir) / "dossier.toml"
    file_values: dict[str, Any] = {}
    if config_path is not None:
        try:
            file_values = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read config file {config_path}: {exc}") from exc
    try:
        # The env source gives raw values without validating, so a section split between the
        # file and the environment is validated once, merged.
        env_set = EnvSettingsSource(Settings)()
        # The documented short form DOSSIER_SEARCH_URL, beside the nested DOSSIER_SEARCH__URL.
        if os.environ.get("DOSSIER_SEARCH_URL") and not env_set.get("search", {}).get("url"):
            env_set = _deep_merge(env_set, {"search": {"url": os.environ["DOSSIER_SEARCH_URL"]}})
        merged = _deep_merge(_deep_merge(file_values, env_set), overrides)
        if config_path is not None:
            merged["config"] = Path(config_path)
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigurationError(f"invalid setting {where}: {first['msg']}") from exc
