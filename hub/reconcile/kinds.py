"""The kinds of data issue reconciliation reports, how serious each is, and what to do about it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    INVALID_CITIZEN_ID = "INVALID_CITIZEN_ID"
    CITIZEN_ID_FORMATTING = "CITIZEN_ID_FORMATTING"
    UNKNOWN_PERSON = "UNKNOWN_PERSON"
    UNREADABLE_VALUE = "UNREADABLE_VALUE"
    ALLOWANCE_ACTIVE_FOR_DECEASED = "ALLOWANCE_ACTIVE_FOR_DECEASED"
    ELDERLY_ALLOWANCE_UNDER_AGE = "ELDERLY_ALLOWANCE_UNDER_AGE"
    ELDERLY_ALLOWANCE_WRONG_TIER = "ELDERLY_ALLOWANCE_WRONG_TIER"
    DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD = "DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD"
    FUNERAL_AID_NOT_DECEASED = "FUNERAL_AID_NOT_DECEASED"
    DUPLICATE_REGISTRATION = "DUPLICATE_REGISTRATION"
    DISTRICT_MISMATCH = "DISTRICT_MISMATCH"
    MISSED_HOUSEHOLD = "MISSED_HOUSEHOLD"
    HOMELESS_WITHOUT_CASE = "HOMELESS_WITHOUT_CASE"
    HOMELESS_CASE_WITHOUT_CITY_RECORD = "HOMELESS_CASE_WITHOUT_CITY_RECORD"
    STALE_SOURCE = "STALE_SOURCE"


class Severity(StrEnum):
    HIGH = "high"  # money is being paid wrongly
    MEDIUM = "medium"  # a person may be missed or cannot be checked
    LOW = "low"  # bookkeeping


SEVERITY: dict[Kind, Severity] = {
    Kind.INVALID_CITIZEN_ID: Severity.MEDIUM,
    Kind.CITIZEN_ID_FORMATTING: Severity.LOW,
    Kind.UNKNOWN_PERSON: Severity.MEDIUM,
    Kind.UNREADABLE_VALUE: Severity.MEDIUM,
    Kind.ALLOWANCE_ACTIVE_FOR_DECEASED: Severity.HIGH,
    Kind.ELDERLY_ALLOWANCE_UNDER_AGE: Severity.HIGH,
    Kind.ELDERLY_ALLOWANCE_WRONG_TIER: Severity.MEDIUM,
    Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD: Severity.HIGH,
    Kind.FUNERAL_AID_NOT_DECEASED: Severity.HIGH,
    Kind.DUPLICATE_REGISTRATION: Severity.HIGH,
    Kind.DISTRICT_MISMATCH: Severity.LOW,
    Kind.MISSED_HOUSEHOLD: Severity.MEDIUM,
    Kind.HOMELESS_WITHOUT_CASE: Severity.MEDIUM,
    Kind.HOMELESS_CASE_WITHOUT_CITY_RECORD: Severity.MEDIUM,
    Kind.STALE_SOURCE: Severity.MEDIUM,
}

SUGGESTION: dict[Kind, str] = {
    Kind.INVALID_CITIZEN_ID: (
        "Check the citizen ID against the ID card or the DOPA linkage centre and correct it at the source; "
        "until then the record cannot be linked or checked."
    ),
    Kind.CITIZEN_ID_FORMATTING: (
        "Store the citizen ID as 13 digits without dashes or spaces; the hub links it, other systems may not."
    ),
    Kind.UNKNOWN_PERSON: (
        "Verify the citizen ID with the DOPA linkage centre; correct the city's record, or add the person to "
        "the ministry's register so eligibility can be checked."
    ),
    Kind.UNREADABLE_VALUE: "Correct the value at the source; the hub shows it as unknown until then.",
    Kind.ALLOWANCE_ACTIVE_FOR_DECEASED: (
        "Suspend the allowance, confirm the death with the district registry and recover payments made after it."
    ),
    Kind.ELDERLY_ALLOWANCE_UNDER_AGE: (
        "Suspend the allowance until the fiscal year in which the person turns 60 and recover payments made before."
    ),
    Kind.ELDERLY_ALLOWANCE_WRONG_TIER: (
        "Correct the monthly amount to the tier for the person's age (600/700/800/1,000 baht) "
        "and settle the difference."
    ),
    Kind.DISABILITY_ALLOWANCE_WITHOUT_VALID_CARD: (
        "Ask the person to renew the disability card (พก.); suspend the allowance if no valid card is shown."
    ),
    Kind.FUNERAL_AID_NOT_DECEASED: (
        "Confirm the death with the civil registry: record it in the ministry's register, or stop and recover the aid."
    ),
    Kind.DUPLICATE_REGISTRATION: (
        "Keep the registration in the district where the person lives and cancel the others; recover double payments."
    ),
    Kind.DISTRICT_MISMATCH: (
        "Check the house registration; move the registration to the right district or update the ministry's address."
    ),
    Kind.MISSED_HOUSEHOLD: (
        "Send a social development volunteer or One Home team to assess the household and open a case."
    ),
    Kind.HOMELESS_WITHOUT_CASE: (
        "Refer the person to the ministry (hotline 1300) so that a homeless case is opened and followed up."
    ),
    Kind.HOMELESS_CASE_WITHOUT_CITY_RECORD: (
        "Ask the district office to add the person to the city's homeless register, or correct the case's location."
    ),
    Kind.STALE_SOURCE: "Check the source's synchronisation with its owner; findings on its data may be out of date.",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One discrepancy: what it is, the records it names on each side, and where it belongs."""

    kind: Kind
    # What makes this finding this finding (e.g. the record and the column): hashed into the key.
    identity: tuple[str, ...]
    source: str  # 'ministry', 'city' or 'both'
    detail: str
    district_code: str | None = None
    citizen_id: str | None = None
    ministry_refs: tuple[str, ...] = ()
    city_refs: tuple[str, ...] = ()
    severity: Severity | None = None
    suggestion: str | None = None
    # The records whose re-reading re-evaluates this finding (by default all it names): an incremental
    # run that examines one of them takes the finding into its scope.
    scope_refs: tuple[str, ...] | None = None

    @property
    def issue_key(self) -> str:
        text = "|".join((self.kind.value, *self.identity))
        return hashlib.sha256(text.encode()).hexdigest()[:40]

    @property
    def refs(self) -> tuple[str, ...]:
        return (*self.ministry_refs, *self.city_refs)

    @property
    def scope(self) -> tuple[str, ...]:
        return self.scope_refs if self.scope_refs is not None else self.refs

    def row(self) -> dict:
        """The data_issue columns this finding determines (times and run are added by the writer)."""
        return {
            "issue_key": self.issue_key,
            "kind": self.kind.value,
            "severity": (self.severity or SEVERITY[self.kind]).value,
            "source": self.source,
            "district_code": self.district_code,
            "citizen_id": self.citizen_id,
            "ministry_ref": _joined(self.ministry_refs),
            "city_ref": _joined(self.city_refs),
            "detail": self.detail[:500],
            "suggestion": (self.suggestion or SUGGESTION[self.kind])[:500],
        }


def _joined(refs: tuple[str, ...]) -> str | None:
    if not refs:
        return None
    text = ",".join(refs)
    # The data_issue_ref table keeps every ref; the display column keeps what fits.
    return text if len(text) <= 1000 else text[:996] + ",..."
