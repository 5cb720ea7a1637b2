"""Domain vocabulary of the archive: dossiers, their lifecycle, documents (pure; stdlib only).

One matter, one dossier (ARC-1-01 一事一卷). A dossier carries the registration fields of INT-F,
moves through the lifecycle below, and holds documents that are never modified: a correction is
a new version of the same item (INT-Q-04, originals are kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NewType

DossierId = NewType("DossierId", str)
DocumentId = NewType("DocumentId", str)
ObjectId = NewType("ObjectId", str)


class DossierState(StrEnum):
    REGISTERED = "registered"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    INVESTIGATING = "investigating"
    DECIDED = "decided"
    REPLIED = "replied"
    CLOSED = "closed"
    SEALED = "sealed"          # archived-sealed (ARC-1-05); read-only from here on
    DISPOSED = "disposed"      # destroyed or transferred under a retention rule (RET)
    VOID = "void"              # withdrawn or registered in error; keeps its number (ARC-3)


# Which steps the lifecycle allows. Withdrawal (void) is possible until a decision exists.
TRANSITIONS: dict[DossierState, frozenset[DossierState]] = {
    DossierState.REGISTERED: frozenset({DossierState.ACCEPTED, DossierState.NOT_ACCEPTED, DossierState.VOID}),
    DossierState.ACCEPTED: frozenset({DossierState.INVESTIGATING, DossierState.DECIDED, DossierState.VOID}),
    DossierState.INVESTIGATING: frozenset({DossierState.DECIDED, DossierState.VOID}),
    DossierState.DECIDED: frozenset({DossierState.REPLIED}),
    DossierState.REPLIED: frozenset({DossierState.CLOSED}),
    DossierState.NOT_ACCEPTED: frozenset({DossierState.CLOSED}),
    DossierState.CLOSED: frozenset({DossierState.SEALED}),
    DossierState.SEALED: frozenset({DossierState.DISPOSED}),
    DossierState.DISPOSED: frozenset(),
    DossierState.VOID: frozenset(),
}

# States in which material may still be filed. Sealing and its exceptions belong to retention.
OPEN_STATES = frozenset({
    DossierState.REGISTERED, DossierState.ACCEPTED, DossierState.NOT_ACCEPTED,
    DossierState.INVESTIGATING, DossierState.DECIDED, DossierState.REPLIED,
})


class Channel(StrEnum):
    """How the complaint arrived (INT-CH)."""

    LETTER = "letter"              # INT-CH-01
    FAX = "fax"                    # INT-CH-02
    EMAIL = "email"                # INT-CH-03
    ORAL = "oral"                  # INT-CH-04, in person
    PHONE = "phone"                # INT-CH-05
    ONLINE = "online"              # INT-CH-06 web form
    CHAT = "chat"                  # INT-CH-08
    COMMENT_BOOK = "comment_book"  # INT-CH-09
    VISIT = "visit"                # INT-CH-10
    MEDIA = "media"                # INT-CH-11 newspaper / internet
    REFERRAL = "referral"          # INT-CH-12 from an authority or association
    TICKET = "ticket"              # INT-CH-13
    INTERNAL = "internal"          # INT-CH-14
    OTHER = "other"


class ComplainantType(StrEnum):
    """INT-F-03."""

    APPLICANT = "applicant"                # 法律援助申请人
    AID_RECIPIENT = "aid_recipient"        # 受援人
    INTERESTED_PARTY = "interested_party"  # 利害关系人
    FAMILY_MEMBER = "family_member"
    AGENT = "agent"                        # with power of attorney (INT-PX)
    OTHER = "other"


class RespondentType(StrEnum):
    """INT-F-04."""

    LEGAL_AID_INSTITUTION = "legal_aid_institution"    # 法律援助机构
    LAW_FIRM = "law_firm"                              # 律师事务所
    GRASSROOTS_LEGAL_SERVICE = "grassroots_legal_service"  # 基层法律服务所
    OTHER_ORGANISATION = "other_organisation"          # 其他社会组织
    LEGAL_AID_PERSONNEL = "legal_aid_personnel"        # 法律援助人员
    OTHER = "other"


class DocumentKind(StrEnum):
    COMPLAINT_LETTER = "complaint_letter"
    FAX = "fax"
    EMAIL = "email"
    ORAL_COMPLAINT_RECORD = "oral_complaint_record"
    POWER_OF_ATTORNEY = "power_of_attorney"
    ACCEPTANCE_NOTICE = "acceptance_notice"
    NON_ACCEPTANCE_NOTICE = "non_acceptance_notice"
    INVESTIGATION_MINUTES = "investigation_minutes"
    EVIDENCE = "evidence"
    DECISION = "decision"
    REPLY_LETTER = "reply_letter"
    EXTENSION_NOTICE = "extension_notice"
    FOLLOW_UP_RECORD = "follow_up_record"
    OTHER = "other"


class DocumentSource(StrEnum):
    UPLOAD = "upload"
    MAIL = "mail"
    SCAN = "scan"


class ObjectKind(StrEnum):
    """What a stored (encrypted) object is to its document; bound into the AEAD data."""

    ORIGINAL = "original"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Registration:
    """The registration form of one complaint (INT-F). Only the matter and receipt time are required.

    An anonymous complaint (INT-F-20) may lack a complainant name.
    """

    matter: str                                   # INT-F-05 投诉事项
    received_at: datetime                         # INT-F-08 receipt time (aware)
    channel: Channel = Channel.LETTER             # INT-F-17
    complainant: str | None = None                # INT-F-01
    complainant_contact: str | None = None        # INT-F-02
    complainant_type: ComplainantType | None = None  # INT-F-03
    respondent: str | None = None                 # INT-F-04
    respondent_type: RespondentType | None = None
    request: str | None = None                    # INT-F-06 投诉请求
    facts_and_reasons: str | None = None          # INT-F-07
    event_on: date | None = None                  # INT-F-08 when it happened
    evidence: tuple[str, ...] = ()                # INT-F-09
    expected_remedy: str | None = None            # INT-F-10
    receiving_officer: str | None = None          # INT-F-13 接单人
    department: str | None = None                 # INT-F-13 accepting department
    category: str | None = None                   # CAT (configurable taxonomy)
    anonymous: bool = False                       # INT-F-20
    collective_count: int | None = None           # INT-F-21 headcount of a collective complaint
    referring_body: str | None = None             # INT-F-17 for referrals
    sla_profile: str | None = None                # TL profile; None = the configured default


@dataclass(frozen=True, slots=True)
class Transition:
    state: DossierState
    on: date
    at: datetime
    actor: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Extension:
    """A recorded extension of the conclusion period (TL-03): approved, with written notice."""

    days: int
    reason: str
    approved_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentAnalysis:
    """What intake learnt about a document. ``text`` and ``metadata`` are document content and are
    stored only inside the vault (encrypted); the rest are catalogue facts."""

    outcome: str                              # ingest.model.IngestOutcome value
    message: str | None = None
    text: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    pages: int | None = None
    languages: tuple[str, ...] = ()
    ocr_pages: int = 0
    ocr_confidence: float | None = None       # lowest mean page confidence among OCR'd pages
    review_pages: tuple[int, ...] = ()        # pages flagged for review (low OCR confidence)
    kind_rule: str | None = None              # the classification rule that fired


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    document_id: DocumentId
    item_number: str
    version: int
    kind: DocumentKind
    filename: str
    media_type: str
    size: int
    sha256: str
    received_at: datetime
    channel: Channel | None
    source: DocumentSource
    parent_item: str | None
    supersedes_item: str | None
    filed_at: datetime
    filed_by: str
    outcome: str | None = None
    outcome_message: str | None = None
    pages: int | None = None
    languages: tuple[str, ...] = ()
    text_chars: int | None = None
    ocr_confidence: float | None = None
    review_pages: tuple[int, ...] = ()
    kind_rule: str | None = None
    kind_set_by: str | None = None        # a person corrected the kind (reclassify) …
    kind_set_reason: str | None = None    # … and why; ``kind_rule`` is still the rule that fired
    # Withdrawn as junk (#11): the number and bytes stay, but it counts for nothing and leaves search.
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_reason: str | None = None


@dataclass(frozen=True, slots=True)
class DossierInfo:
    dossier_id: DossierId
    archive_number: str
    state: DossierState
    registration: Registration
    registered_at: datetime
    registered_by: str
    state_dates: dict[str, date] = field(default_factory=dict)
    transitions: tuple[Transition, ...] = ()
    extensions: tuple[Extension, ...] = ()
    documents: tuple[DocumentInfo, ...] = ()
    void_reason: str | None = None
    # The number the dossier had in the archive it was transferred from (``import-bag``); None for our own.
    source_reference: str | None = None


def item_number(archive_number: str, seq: int, width: int, version: int = 1) -> str:
    """A document's item number inside its dossier (ARC-3-06), e.g. ``2611-007-03``; later
    versions of the same item carry ``.v2``, ``.v3``."""
    base = f"{archive_number}-{seq:0{width}d}"
    return base if version == 1 else f"{base}.v{version}"


@dataclass(frozen=True, slots=True)
class FiledDocument:
    """A document as the search index needs it: the document, its dossier's fields, its text."""

    document: DocumentInfo
    dossier_id: DossierId
    archive_number: str
    state: DossierState
    registration: Registration
    text: str
    closed_on: date | None = None
