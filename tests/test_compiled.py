"""Differential tests: the compiled execution path answers exactly as the reference resolvers do.

Two apps run over the same seeded databases (the same store, so the same signing key, cursor key
and audit trail): one with the compiled path on, one with it off. Every query of the corpus is
sent to both, and the HTTP status, the headers and the whole body (data and errors, keys in the
same order, byte for byte) must be equal. Cursors are sealed with a random nonce, so they are
compared by what they decode to; pages reached by following them are compared too. The audit
entry each request leaves (found by its X-Request-Id) must be the same: citizen IDs, outcome,
scopes, purpose, operation. Queries the compiled path is meant to answer must be answered by it
(the compiled app's `hub_graphql_executions_total{path="compiled"}` goes up by one), so it cannot
silently stop being used. The same is done with one source down, and for generated documents.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from graphql import GraphQLError
from starlette.testclient import TestClient

from hub import thai
from hub.app import create_app
from hub.store.tables import audit_log
from schema.connections import decode_cursor, encode_cursor
from tests.backends import read_sql
from tests.conftest import settings_for
from tests.tokens import mint

FULL = "ministry:read city:read pii:read sensitive:read"
PURPOSE = "case review"
PERSON_CURSOR = "person"
CLIENT_ID = "compiled-differential"

# ---------------------------------------------------------------------------------------------
# Selections
# ---------------------------------------------------------------------------------------------

PROV = "provenance { source sourceKey updatedAt }"
ISSUES = "issues { field problem }"
DISTRICT_FULL = "district { code nameTh nameEn provinceCode province { code nameTh nameEn } }"
BENEFIT = (
    "kind benefitId citizenId status monthlyAmount amount fiscalYear startDate endDate title firstName lastName "
    f"birthDate address cardNo bankAccount district {{ code nameEn provinceCode }} {PROV} {ISSUES}"
)
PAYMENTS = f"payments {{ paymentId month amount paidAt channel {PROV} {ISSUES} }}"
SCALARS = (
    "citizenId sources nationality title firstName lastName sex birthDate birthYear age deathDate deceased "
    "subdistrictCode"
)
HOUSEHOLD = (
    "household { householdId houseCode address subdistrictCode district { code } inBmn hasWelfareCard logbookStage "
    f"mpiAssessments {{ surveyYear indicator deprived {PROV} }} cases {{ caseId status category }} {PROV} }}"
)
CARDS = f"disabilityCards {{ cardNo disabilityType issuedOn expiresOn revoked valid {PROV} }}"
CASES = (
    "cases { caseId citizenId category channel status centreCode subdistrictCode district { code nameEn } "
    f"openedAt closedAt summary {PROV} }}"
)
VOLUNTEER = f"volunteer {{ volunteerId subdistrictCode registeredOn active {PROV} }}"
MINISTRY_FIELDS = f"{HOUSEHOLD} {CARDS} {CASES} childSupportGrants {{ {BENEFIT} }} {VOLUNTEER}"
HOMELESS = (
    "homelessRecords { homelessId citizenId nickname sex ageBand district { code } firstSeen lastSeen referredTo "
    f"{PROV} {ISSUES} }}"
)
HOUSING = (
    "housingApplications { applicationId projectId citizenId householdSize monthlyIncome appliedOn status "
    f"{PROV} {ISSUES} }}"
)
CITY_FIELDS = (
    f"elderlyAllowances {{ {BENEFIT} {PAYMENTS} }} disabilityAllowances {{ {BENEFIT} {PAYMENTS} }} "
    f"funeralAid {{ {BENEFIT} }} {HOMELESS} {HOUSING}"
)
EVERYTHING = f"{SCALARS} {DISTRICT_FULL} {MINISTRY_FIELDS} {CITY_FIELDS} {PROV}"
# Nearly everything, within the cost budget of a list (payments without their provenance and issues).
LISTED_RICH = (
    f"{SCALARS} {DISTRICT_FULL} {MINISTRY_FIELDS} elderlyAllowances {{ {BENEFIT} payments {{ paymentId month amount paidAt channel }} }} "
    f"disabilityAllowances {{ {BENEFIT} payments {{ paymentId month amount }} }} funeralAid {{ {BENEFIT} }} {HOMELESS} {HOUSING} {PROV}"
)


def not_sensitive(selection: str) -> str:
    """The selection without the special-category fields (bankAccount, disabilityType, summary)."""
    return re.sub(r"\b(bankAccount|disabilityType|summary)\b", "", selection)


NOT_SENSITIVE = not_sensitive(EVERYTHING)
MINISTRY_ONLY_SELECTION = f"{SCALARS} {DISTRICT_FULL} {MINISTRY_FIELDS} {PROV}"
CITY_ONLY_SELECTION = f"{SCALARS} {DISTRICT_FULL} {CITY_FIELDS} {PROV}"
LIGHT = f"citizenId sources firstName birthYear age deceased district {{ code }} {PROV}"
LISTED = (
    "citizenId sources firstName lastName birthDate age deceased district { code nameEn } "
    "household { householdId } disabilityCards { cardNo } cases { caseId } "
    "elderlyAllowances { benefitId status monthlyAmount payments { month amount } } "
    "disabilityAllowances { benefitId payments { month } } funeralAid { benefitId } "
    "homelessRecords { homelessId } housingApplications { applicationId } provenance { source sourceKey }"
)
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def person_query(selection: str) -> str:
    return f"query($id: CitizenId!) {{ person(citizenId: $id) {{ {selection} }} }}"


def persons_query(selection: str, *, edges_cursor: bool = True, page_info: bool = True, total: bool = False) -> str:
    parts = []
    if total:
        parts.append("totalCount")
    parts.append(f"edges {{ {'cursor ' if edges_cursor else ''}node {{ {selection} }} }}")
    if page_info:
        parts.append(PAGE_INFO)
    return (
        "query($filter: PersonFilter, $first: Int, $after: String) "
        f"{{ persons(filter: $filter, first: $first, after: $after) {{ {' '.join(parts)} }} }}"
    )


# ---------------------------------------------------------------------------------------------
# Placeholders resolved once the seeded data is known
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S:
    """A sample citizen ID by kind, in one of the forms a client may type it."""

    kind: str
    form: str = "digits"  # digits, dashed, spaced, or raw (as the city typed it)


@dataclass(frozen=True)
class After:
    """A sealed person cursor just after this sample's citizen ID (or after a literal value).

    Document texts name samples as @@kind@@ or @@kind:form@@, and districts as @@district.kind@@."""

    kind: str
    cursor_kind: str = PERSON_CURSOR
    before: bool = False  # a cursor just before the sample, so that the page starts with it


@dataclass(frozen=True)
class D:
    """A DOPA district code of the seeded data: home (the "both" sample's), other_bangkok, provincial, mismatch_city."""

    kind: str


@dataclass(frozen=True)
class Case:
    id: str
    query: str
    variables: Any = None
    token: str = "full"
    purpose: str | None = PURPOSE
    method: str = "POST"
    operation_name: str | None = None
    accept: str | None = None
    # The compiled path is meant to answer this one: the compiled app must have used it.
    compiled: bool = False
    # Persisted queries: "register" sends the document with its hash; "hash" and "document_id" send
    # the hash alone (the document registered beforehand); "unknown" a hash of nothing registered.
    persisted: str | None = None


def _form(digits: str, form: str, raw: str | None) -> str:
    if form == "digits":
        return digits
    if form == "dashed":
        return thai.format_citizen_id(digits)
    if form == "spaced":
        return f"{digits[0]} {digits[1:5]} {digits[5:10]} {digits[10:12]} {digits[12]}"
    if form == "raw":
        assert raw is not None
        return raw
    raise AssertionError(form)


# ---------------------------------------------------------------------------------------------
# The seeded data: which citizen IDs are of which kind (plain SQL, independent of the hub's adapters)
# ---------------------------------------------------------------------------------------------


def _digits(raw: str | None) -> str:
    return re.sub(r"[\s-]", "", raw or "")


def _valid(raw: str | None) -> bool:
    return thai.is_valid_citizen_id(_digits(raw))


@dataclass
class Samples:
    ids: dict[str, str]
    raw: dict[str, str]
    districts: dict[str, str]

    def resolve(self, value, cursor_key: bytes):
        if isinstance(value, S):
            return _form(self.ids[value.kind], value.form, self.raw.get(value.kind))
        if isinstance(value, D):
            return self.districts[value.kind]
        if isinstance(value, After):
            target = self.ids.get(value.kind, value.kind)
            if value.before:
                target = target[:12]
            return encode_cursor(cursor_key, value.cursor_kind, target)
        if isinstance(value, dict):
            return {k: self.resolve(v, cursor_key) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, cursor_key) for v in value]
        return value

    def render(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            kind, _, form = match.group(1).partition(":")
            if kind.startswith("district."):
                return self.districts[kind.removeprefix("district.")]
            return _form(self.ids[kind], form or "digits", self.raw.get(kind))

        return re.sub(r"@@([\w.:]+)@@", replace, text)


def _find_samples(urls: dict[str, str]) -> Samples:
    async def read_all():
        m, c = urls["ministry"], urls["city"]
        return await asyncio.gather(
            read_sql(m, "SELECT citizen_id, household_id, subdistrict_code, death_date, nationality FROM person ORDER BY citizen_id"),
            read_sql(m, "SELECT citizen_id FROM disability_card ORDER BY card_no"),
            read_sql(m, "SELECT citizen_id FROM welfare_case WHERE citizen_id IS NOT NULL ORDER BY case_id"),
            read_sql(m, "SELECT child_citizen_id FROM child_support_grant ORDER BY grant_id"),
            read_sql(m, "SELECT citizen_id FROM volunteer ORDER BY volunteer_id"),
            read_sql(m, "SELECT household_id FROM mpi_assessment ORDER BY household_id"),
            read_sql(m, "SELECT household_id FROM welfare_case WHERE household_id IS NOT NULL ORDER BY case_id"),
            read_sql(c, "SELECT reg_id, pid, dist_id FROM tb_elder_allow ORDER BY reg_id"),
            read_sql(c, "SELECT reg_id, pid FROM tb_disab_allow ORDER BY reg_id"),
            read_sql(c, "SELECT deceased_pid FROM tb_funeral_aid ORDER BY aid_id"),
            read_sql(c, "SELECT pid FROM tb_homeless_person WHERE pid IS NOT NULL ORDER BY hl_id"),
            read_sql(c, "SELECT pid FROM tb_housing_app ORDER BY app_id"),
            read_sql(c, "SELECT DISTINCT reg_id FROM tb_allow_pay WHERE reg_kind = 'D' ORDER BY reg_id"),
        )

    (persons, cards, cases, grants, volunteers, mpi, household_cases, elder, disab, funeral, homeless, housing,
     disab_paid) = asyncio.run(read_all())
    ministry = {r[0]: r for r in persons}
    elder_by_id: dict[str, list] = {}
    elder_district: dict[str, str] = {}
    for reg_id, pid, dist_id in elder:
        if _valid(pid):
            elder_by_id.setdefault(_digits(pid), []).append((reg_id, pid))
            elder_district.setdefault(_digits(pid), str(1000 + dist_id))
    disab_by_id: dict[str, list] = {}
    for reg_id, pid in disab:
        if _valid(pid):
            disab_by_id.setdefault(_digits(pid), []).append((reg_id, pid))
    city_ids = set(elder_by_id) | set(disab_by_id)
    ids: dict[str, str] = {}
    raw: dict[str, str] = {}

    def pick(kind: str, candidates, raw_of=None) -> None:
        for cid in candidates:
            ids[kind] = cid
            if raw_of is not None:
                raw[kind] = raw_of(cid)
            return
        raise AssertionError(f"the seeded data has no person of kind {kind!r}")

    def raw_elder(cid):
        return elder_by_id[cid][0][1]

    both = [cid for cid in sorted(elder_by_id) if cid in ministry]
    pick("both", [c for c in both if raw_elder(c) == c])
    pick("both_dashed", [c for c in both if "-" in raw_elder(c)], raw_elder)
    pick("both_spaced", [c for c in both if " " in raw_elder(c).strip()], raw_elder)
    stray = {c: pid for c in sorted(elder_by_id) for _, pid in elder_by_id[c] if pid != pid.strip()}
    pick("both_stray", [c for c in stray if c in ministry] or list(stray), stray.get)
    pick("ministry_only", [c for c in ministry if c not in city_ids and ministry[c][2].startswith("10")])
    pick("ministry_only_provincial", [c for c in ministry if c not in city_ids and not ministry[c][2].startswith("10")])
    pick("city_only", [c for c in sorted(city_ids) if c not in ministry])
    pick("deceased", [c for c in ministry if ministry[c][3] is not None and c in elder_by_id]
         or [c for c in ministry if ministry[c][3] is not None])
    pick("non_thai", [c for c in ministry if ministry[c][4] != "TH"])
    pick("duplicate_registration", [c for c in sorted(elder_by_id) if len(elder_by_id[c]) > 1 and c in ministry])
    pick("card", [r[0] for r in cards if r[0] in ministry])
    pick("case", [r[0] for r in cases if r[0] in ministry])
    pick("child", [r[0] for r in grants if r[0] in ministry])
    pick("volunteer", [r[0] for r in volunteers if r[0] in ministry])
    mpi_households = {r[0] for r in mpi}
    case_households = {r[0] for r in household_cases}
    pick("household_mpi", [c for c in ministry if ministry[c][1] in mpi_households])
    pick("household_cases", [c for c in ministry if ministry[c][1] in case_households]
         or [c for c in ministry if ministry[c][1] in mpi_households])
    # Registered by the city in another district than the ministry's (planted): a token limited to
    # the city's district sees the person from the city alone.
    pick("district_mismatch", [c for c in both if len(elder_by_id[c]) == 1 and elder_district[c] != ministry[c][2][:4]])
    pick("funeral", [_digits(r[0]) for r in funeral if _valid(r[0])])
    pick("homeless", [_digits(r[0]) for r in homeless if _valid(r[0])])
    pick("housing", [_digits(r[0]) for r in housing if _valid(r[0])])
    paid = {r[0] for r in disab_paid}
    pick("disability_allowance", [c for c in sorted(disab_by_id) if any(reg in paid for reg, _ in disab_by_id[c])]
         or sorted(disab_by_id))
    # A city registration whose PID has a wrong check digit: the person the clerk meant exists
    # in the ministry, but the registration links to nobody.
    typos = []
    for pid in [r[1] for r in elder] + [r[1] for r in disab]:
        digits = _digits(pid)
        if re.fullmatch(r"[0-9]{13}", digits) and not thai.is_valid_citizen_id(digits):
            typos += [cid for cid in ministry if sum(a != b for a, b in zip(cid, digits)) == 1]
    pick("typo_intended", typos)
    unknown = next(cid for cid in (thai.with_check_digit(f"{n:012d}") for n in range(999999999999, 0, -7919))
                   if cid not in ministry and cid not in city_ids)
    ids["unknown"] = unknown
    districts = {
        "home": ministry[ids["both"]][2][:4],
        "other_bangkok": next(r[2][:4] for r in persons if r[2].startswith("10") and r[2][:4] != ministry[ids["both"]][2][:4]),
        "provincial": ministry[ids["ministry_only_provincial"]][2][:4],
        "mismatch_city": elder_district[ids["district_mismatch"]],
    }
    return Samples(ids, raw, districts)


# ---------------------------------------------------------------------------------------------
# The two apps
# ---------------------------------------------------------------------------------------------

_EXECUTIONS = re.compile(r'^hub_graphql_executions_total\{path="(compiled|reference)"\} ([0-9.e+]+)$', re.MULTILINE)


def executions(client: TestClient) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    found = {"compiled": 0.0, "reference": 0.0}
    for path, value in _EXECUTIONS.findall(response.text):
        found[path] = float(value)
    return found


@dataclass
class Hub:
    compiled: TestClient
    reference: TestClient
    tokens: dict[str, str]
    samples: Samples
    cursor_key: bytes
    # The counts each app's /metrics showed after the last compared request (None: read them afresh).
    counts: dict | None = None

    def executions(self) -> tuple[dict[str, float], dict[str, float]]:
        self.counts = {"compiled": executions(self.compiled), "reference": executions(self.reference)}
        return self.counts["compiled"], self.counts["reference"]

    def executions_before(self) -> tuple[dict[str, float], dict[str, float]]:
        if self.counts is None:
            return self.executions()
        return self.counts["compiled"], self.counts["reference"]

    def audit(self, client: TestClient, request_id: str) -> list[tuple]:
        store = client.app.state.databases["store"]

        async def read() -> list[tuple]:
            columns = (audit_log.c.kind, audit_log.c.client_id, audit_log.c.scopes, audit_log.c.purpose,
                       audit_log.c.operation_name, audit_log.c.document_hash, audit_log.c.citizen_ids,
                       audit_log.c.outcome)
            async with store.connect() as connection:
                rows = await connection.execute(sa.select(*columns).where(audit_log.c.request_id == request_id))
                return [tuple(r) for r in rows]

        return client.portal.call(read)


TOKENS = {
    "full": dict(scope=FULL),
    "no_pii": dict(scope="ministry:read city:read sensitive:read"),
    "no_pii_no_sensitive": dict(scope="ministry:read city:read"),
    "no_sensitive": dict(scope="ministry:read city:read pii:read"),
    "ministry": dict(scope="ministry:read pii:read sensitive:read"),
    "city": dict(scope="city:read pii:read sensitive:read"),
    "ministry_bare": dict(scope="ministry:read"),
    "city_bare": dict(scope="city:read"),
    "neither": dict(scope="pii:read sensitive:read"),
    "districts": dict(scope=FULL, districts=["1001", "1002"]),
    # Limited to the "both" sample's own district, and to the city's district of the mismatch sample.
    "districts_home": dict(scope=FULL, districts=lambda samples: [samples.districts["home"]]),
    "districts_city": dict(scope=FULL, districts=lambda samples: [samples.districts["mismatch_city"]]),
    "districts_provincial": dict(scope=FULL, districts=lambda samples: [samples.districts["provincial"]]),
    "no_purpose": dict(scope=FULL, purpose=None),
    "purpose_claim": dict(scope=FULL, purpose="eligibility check"),
}


@contextlib.contextmanager
def two_apps(urls: dict[str, str], samples: Samples, **overrides):
    """The compiled app and the reference app over the same databases, with tokens of every kind."""
    # One client makes every request here: lift the per-client limits so they never answer instead.
    common = dict(requests_per_minute=1_000_000, persons_per_hour=1_000_000_000, **overrides)
    compiled_settings = settings_for(urls, **common)
    reference_settings = settings_for(urls, compiled_execution=False, **common)
    assert compiled_settings.compiled_execution and not reference_settings.compiled_execution
    tokens = {}
    for name, spec in TOKENS.items():
        spec = dict(spec)
        if callable(spec.get("districts")):
            spec["districts"] = spec["districts"](samples)
        scope = spec.pop("scope")
        # A client of its own: these requests must not count against other modules' "test-client"
        # in the store's per-minute and per-hour ledgers.
        tokens[name] = mint(compiled_settings, scope, client_id=CLIENT_ID, **spec)
    with TestClient(create_app(compiled_settings)) as compiled_client, \
            TestClient(create_app(reference_settings)) as reference_client:
        key = compiled_client.app.state.cursor_key
        assert key and key == reference_client.app.state.cursor_key  # one store: one cursor key
        yield Hub(compiled_client, reference_client, tokens, samples, key)


@pytest.fixture(scope="module")
def samples(seeded_databases) -> Samples:
    return _find_samples(seeded_databases.urls)


@pytest.fixture(scope="module")
def hub(seeded_databases, samples):
    with two_apps(seeded_databases.urls, samples) as both:
        yield both


@pytest.fixture(scope="module")
def hub_production(seeded_databases, samples):
    with two_apps(seeded_databases.urls, samples, env="production") as both:
        yield both


# Where nothing listens: the source is down for the whole module.
DEAD = {
    "ministry": "postgresql+asyncpg://postgres@127.0.0.1:9/hub_down",
    "city": "mysql+asyncmy://root@127.0.0.1:9/hub_down",
}


@pytest.fixture(scope="module", params=sorted(DEAD))
def hub_down(request, seeded_databases, samples):
    with two_apps({**seeded_databases.urls, request.param: DEAD[request.param]}, samples) as both:
        yield both


# ---------------------------------------------------------------------------------------------
# Sending one case to both apps and comparing
# ---------------------------------------------------------------------------------------------


def _send(client: TestClient, hub: Hub, case: Case, query: str, variables, request_id: str):
    headers = {"X-Request-Id": request_id}
    token = hub.tokens.get(case.token)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if case.purpose is not None:
        headers["X-Purpose"] = case.purpose
    if case.accept is not None:
        headers["Accept"] = case.accept
    if case.method == "GET":
        params = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        if case.operation_name is not None:
            params["operationName"] = case.operation_name
        return client.get("/graphql", params=params, headers=headers)
    body: dict[str, Any] = {"query": query}
    digest = hashlib.sha256(query.encode()).hexdigest()
    if case.persisted == "unknown":
        digest = hashlib.sha256(f"{query} # {uuid.uuid4()}".encode()).hexdigest()
    if case.persisted in ("register", "hash", "unknown"):
        body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    if case.persisted == "document_id":
        body["documentId"] = f"sha256:{digest}"
    if case.persisted in ("hash", "document_id", "unknown"):
        del body["query"]
    if variables is not None:
        body["variables"] = variables
    if case.operation_name is not None:
        body["operationName"] = case.operation_name
    return client.post("/graphql", json=body, headers=headers)


def normalise(value, key: bytes):
    """The JSON value with objects as lists of (key, value) pairs (so key order counts) and every
    sealed person cursor replaced by what it seals (the nonce differs on every call)."""
    if isinstance(value, dict):
        return [(k, normalise(v, key)) for k, v in value.items()]
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if isinstance(value, str) and len(value) >= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", value):
        try:
            return ("<cursor>", decode_cursor(key, PERSON_CURSOR, value))
        except GraphQLError:
            return value
    return value


def _body(response):
    """The JSON body; a request strawberry refuses before GraphQL (e.g. an unknown operation name) gets plain text."""
    try:
        return response.json()
    except ValueError:
        return {"<text>": response.text}


def _unsealed_text(text: str, key: bytes) -> str:
    def unseal(match: re.Match) -> str:
        try:
            return f'"<cursor {decode_cursor(key, PERSON_CURSOR, match.group(1))}>"'
        except GraphQLError:
            return match.group(0)

    return re.sub(r'"([A-Za-z0-9_-]{40,})"', unseal, text)


def _headers(response) -> list[tuple[str, str]]:
    """The response headers but the request ID, the date and the length (cursors are not all the same length)."""
    return sorted((k, v) for k, v in response.headers.items() if k not in ("x-request-id", "date", "content-length"))


def _paths_delta(before: dict, after: dict) -> dict:
    return {p: after[p] - before[p] for p in before}


def run_both(hub: Hub, case: Case) -> tuple[Any, Any]:
    """Send the case to both apps; assert the answers, the path taken and the audit entries agree."""
    query = hub.samples.render(case.query)
    variables = hub.samples.resolve(case.variables, hub.cursor_key)
    if case.persisted in ("hash", "document_id"):
        # Each app registers the document the way a client would, before what is measured.
        register = Case(case.id, case.query, case.variables, case.token, case.purpose, persisted="register")
        for client in (hub.compiled, hub.reference):
            assert _send(client, hub, register, query, variables, f"reg-{uuid.uuid4().hex}").status_code == 200
        hub.counts = None
    before_c, before_r = hub.executions_before()
    rid_c, rid_r = f"cmp-{uuid.uuid4().hex}", f"ref-{uuid.uuid4().hex}"
    try:
        response_c = _send(hub.compiled, hub, case, query, variables, rid_c)
        response_r = _send(hub.reference, hub, case, query, variables, rid_r)
    finally:
        after_c, after_r = hub.executions()
    delta_c, delta_r = _paths_delta(before_c, after_c), _paths_delta(before_r, after_r)

    # The reference app never takes the compiled path; both apps executed the operation, or neither did.
    assert delta_r["compiled"] == 0, delta_r
    assert sum(delta_c.values()) == sum(delta_r.values()) <= 1, (delta_c, delta_r)
    path = "compiled" if delta_c["compiled"] else "reference" if delta_c["reference"] else "none"

    body_c, body_r = _body(response_c), _body(response_r)
    assert response_c.status_code == response_r.status_code, (response_c.status_code, response_r.status_code, body_c, body_r)
    assert _headers(response_c) == _headers(response_r)
    assert normalise(body_c, hub.cursor_key) == normalise(body_r, hub.cursor_key), (
        f"the paths answer differently ({path} vs reference)\ncompiled app: {json.dumps(body_c, ensure_ascii=False)[:3000]}"
        f"\nreference app: {json.dumps(body_r, ensure_ascii=False)[:3000]}"
    )

    # Byte for byte too (serialisation, escaping, key order), once the sealed cursors are opened.
    assert _unsealed_text(response_c.text, hub.cursor_key) == _unsealed_text(response_r.text, hub.cursor_key)

    audit_c, audit_r = hub.audit(hub.compiled, rid_c), hub.audit(hub.reference, rid_r)
    assert audit_c == audit_r, f"audit entries differ ({path}):\ncompiled app: {audit_c}\nreference app: {audit_r}"

    if case.compiled:
        assert path == "compiled", f"the compiled path was not used (it ran on: {path}); body: {str(body_c)[:500]}"
        assert "errors" not in body_c
        assert len(audit_c) == 1, "a read of persons leaves one audit entry"
    return body_c, body_r


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------

KINDS = [
    "both", "both_dashed", "both_spaced", "both_stray", "ministry_only", "ministry_only_provincial", "city_only",
    "deceased", "non_thai", "duplicate_registration", "card", "case", "child", "volunteer", "household_mpi",
    "household_cases", "funeral", "homeless", "housing", "disability_allowance", "typo_intended",
]

CORPUS: list[Case] = []


def add(*cases: Case) -> None:
    CORPUS.extend(cases)


# Every field of a person, for every kind of person in the seeded data.
for kind in KINDS:
    add(Case(f"everything-{kind}", person_query(EVERYTHING), {"id": S(kind)}, compiled=True))
add(Case("everything-unknown", person_query(EVERYTHING), {"id": S("unknown")}, compiled=True))

# How the ID is typed.
add(
    Case("typed-dashed", person_query(LIGHT), {"id": S("both", "dashed")}, compiled=True),
    Case("typed-spaced", person_query(LIGHT), {"id": S("both", "spaced")}, compiled=True),
    Case("typed-as-city-dashed", person_query(LIGHT), {"id": S("both_dashed", "raw")}, compiled=True),
    Case("typed-as-city-spaced", person_query(LIGHT), {"id": S("both_spaced", "raw")}, compiled=True),
    Case("typed-as-city-stray-spaces", person_query(LIGHT), {"id": S("both_stray", "raw")}, compiled=True),
    Case("literal-argument", '{ person(citizenId: "@@both:dashed@@") { citizenId sources firstName } }', compiled=True),
    Case("literal-unknown", '{ person(citizenId: "@@unknown@@") { citizenId } }', compiled=True),
)

# Field subsets, __typename, aliases, the same field twice, fragments.
add(
    Case("scalars-only", person_query(SCALARS), {"id": S("both")}, compiled=True),
    Case("district-province", person_query(f"citizenId {DISTRICT_FULL} district {{ code }}"), {"id": S("city_only")}, compiled=True),
    Case("district-subdistricts", person_query("district { code subdistricts { code nameTh nameEn districtCode postalCodes } }"),
         {"id": S("both")}, compiled=True),
    Case("provenance-only", person_query(PROV), {"id": S("both_dashed")}, compiled=True),
    Case("typename-nested", person_query("__typename citizenId district { __typename code province { __typename code } } "
                                         "elderlyAllowances { __typename benefitId payments { __typename month } } provenance { __typename source }"),
         {"id": S("both")}, compiled=True),
    Case("typename-root", "query($id: CitizenId!) { __typename person(citizenId: $id) { citizenId } }", {"id": S("both")}),
    Case("aliases", person_query("id: citizenId name: firstName fam: lastName born: birthDate where: district { c: code n: nameEn } "
                                 "money: elderlyAllowances { b: benefitId amt: monthlyAmount paid: payments { m: month a: amount } }"),
         {"id": S("both")}, compiled=True),
    Case("same-field-twice", person_query("citizenId firstName citizenId district { code } district { nameEn code } "
                                          "elderlyAllowances { benefitId } elderlyAllowances { status benefitId }"),
         {"id": S("both")}, compiled=True),
    Case("same-field-aliased-twice", person_query("a: firstName b: firstName x: district { code } y: district { nameTh }"),
         {"id": S("both")}, compiled=True),
    Case("field-order-reversed", person_query("provenance { updatedAt sourceKey source } age sources citizenId"),
         {"id": S("both")}, compiled=True),
    Case("named-fragments", """
        query($id: CitizenId!) { person(citizenId: $id) { ...Who ...Money district { ...Place } } }
        fragment Who on Person { citizenId firstName lastName ...Born }
        fragment Born on Person { birthDate birthYear }
        fragment Money on Person { elderlyAllowances { ...Allowance } disabilityAllowances { ...Allowance } }
        fragment Allowance on Benefit { benefitId status payments { month amount } }
        fragment Place on District { code nameEn }""", {"id": S("both")}, compiled=True),
    Case("inline-fragments", person_query("... on Person { citizenId } ... { firstName district { ... on District { code } } } "
                                          "elderlyAllowances { ... on Benefit { benefitId } }"),
         {"id": S("both")}, compiled=True),
    Case("fragment-overlapping-fields", """
        query($id: CitizenId!) { person(citizenId: $id) { firstName ...A district { code } ...A } }
        fragment A on Person { citizenId firstName district { nameEn } }""", {"id": S("both")}, compiled=True),
    # Not modelled by the compiled path, so answered by the reference path on both apps (compared all
    # the same): household members, totalCount, directives, other root fields, nested figures.
    Case("household-members", person_query("household { householdId members { citizenId firstName sources } }"), {"id": S("both")}),
    Case("typename-root-only", "{ __typename }"),
)

# Directives.
DIRECTIVE_QUERY = """query($id: CitizenId!, $withMoney: Boolean!, $hideName: Boolean!) {
  person(citizenId: $id) { citizenId firstName @skip(if: $hideName)
    elderlyAllowances @include(if: $withMoney) { benefitId payments { month } } } }"""
add(
    Case("include-true-skip-false", DIRECTIVE_QUERY, {"id": S("both"), "withMoney": True, "hideName": False}),
    Case("include-false-skip-true", DIRECTIVE_QUERY, {"id": S("both"), "withMoney": False, "hideName": True}),
    Case("include-on-fragment", """query($id: CitizenId!, $on: Boolean!) { person(citizenId: $id) { citizenId ...F @include(if: $on) } }
        fragment F on Person { firstName district { code } }""", {"id": S("both"), "on": True}),
)

# Several root fields: aliased persons, the same person twice, mixed with other roots.
add(
    Case("two-persons-aliased", """query($a: CitizenId!, $b: CitizenId!) {
        a: person(citizenId: $a) { citizenId sources elderlyAllowances { benefitId } }
        b: person(citizenId: $b) { citizenId sources elderlyAllowances { benefitId } } }""",
         {"a": S("both"), "b": S("city_only")}, compiled=True),
    Case("same-person-twice", """query($a: CitizenId!, $b: CitizenId!) {
        a: person(citizenId: $a) { citizenId firstName } b: person(citizenId: $b) { citizenId firstName cases { caseId } } }""",
         {"a": S("case"), "b": S("case", "dashed")}, compiled=True),
    Case("person-found-and-not", """query($a: CitizenId!, $b: CitizenId!) {
        known: person(citizenId: $a) { citizenId } unknown: person(citizenId: $b) { citizenId } }""",
         {"a": S("ministry_only"), "b": S("unknown")}, compiled=True),
    Case("root-merged-same-key", """query($a: CitizenId!) { person(citizenId: $a) { citizenId } person(citizenId: $a) { firstName } }""",
         {"a": S("both")}, compiled=True),
    Case("person-and-persons", f"""query($a: CitizenId!) {{ person(citizenId: $a) {{ {LIGHT} }}
        persons(first: 3) {{ edges {{ cursor node {{ {LIGHT} }} }} {PAGE_INFO} }} }}""", {"a": S("city_only")}, compiled=True),
    Case("person-and-districts", """query($a: CitizenId!) { person(citizenId: $a) { citizenId district { code } }
        districts(provinceCode: "10") { code } }""", {"a": S("both")}),
    Case("person-and-sources", """query($a: CitizenId!) { sources { name } person(citizenId: $a) { citizenId } }""", {"a": S("both")}),
    Case("persons-and-district", """{ persons(first: 2) { edges { node { citizenId } } } district(code: "1001") { code nameEn } }"""),
    Case("persons-aliased-different-filters-same-selection", f"""{{
        old: persons(first: 4, filter: {{ageMin: 60}}) {{ edges {{ cursor node {{ {LISTED} }} }} {PAGE_INFO} }}
        here: persons(first: 4, filter: {{districtCode: "@@district.home@@"}}) {{ edges {{ cursor node {{ {LISTED} }} }} {PAGE_INFO} }}
        young: persons(first: 4, filter: {{ageMax: 17}}) {{ edges {{ cursor node {{ {LISTED} }} }} {PAGE_INFO} }}
        elderly: persons(first: 4, filter: {{benefitKind: ELDERLY_ALLOWANCE}}) {{ edges {{ cursor node {{ {LISTED} }} }} {PAGE_INFO} }}
        all: persons(first: 4) {{ edges {{ cursor node {{ {LISTED} }} }} {PAGE_INFO} }} }}""", compiled=True),
    Case("persons-aliased-different-selections", f"""{{
        a: persons(first: 5, filter: {{benefitKind: DISABILITY_ALLOWANCE}}) {{ edges {{ node {{ citizenId disabilityAllowances {{ benefitId payments {{ month }} }} }} }} }}
        b: persons(first: 5, filter: {{benefitKind: CHILD_SUPPORT_GRANT}}) {{ edges {{ node {{ citizenId childSupportGrants {{ benefitId monthlyAmount startDate }} }} }} pageInfo {{ endCursor }} }}
        c: persons(first: 3, filter: {{benefitKind: FUNERAL_AID}}) {{ pageInfo {{ hasNextPage }} edges {{ cursor node {{ deceased deathDate funeralAid {{ benefitId amount status }} }} }} }} }}""",
         compiled=True),
    Case("persons-aliased-same-filter", f"""{{
        a: persons(first: 3) {{ edges {{ node {{ citizenId }} }} }} b: persons(first: 3) {{ edges {{ node {{ citizenId }} }} }} }}""",
         compiled=True),
)

# Listing persons: filters, page sizes, cursors, totals.
add(
    Case("persons-default", persons_query(LISTED), compiled=True),
    Case("persons-first-0", persons_query(LIGHT), {"first": 0}, compiled=True),
    Case("persons-first-1", persons_query(LISTED_RICH), {"first": 1}, compiled=True),
    Case("persons-first-12-rich", persons_query(LISTED_RICH), {"first": 12}, compiled=True),
    Case("persons-first-100", persons_query("citizenId sources district { code } provenance { sourceKey }"), {"first": 100}, compiled=True),
    Case("persons-after-cursor", persons_query(LISTED), {"first": 7, "after": After("both")}, compiled=True),
    Case("persons-after-city-only", persons_query(LISTED), {"first": 7, "after": After("city_only")}, compiled=True),
    Case("persons-after-last", persons_query(LIGHT), {"first": 5, "after": After("9999999999999")}, compiled=True),
    Case("persons-district", persons_query(LISTED), {"first": 25, "filter": {"districtCode": D("other_bangkok")}}, compiled=True),
    Case("persons-district-bangkok", persons_query(LISTED), {"first": 25, "filter": {"districtCode": "1001"}}, compiled=True),
    Case("persons-district-provincial", persons_query(LISTED), {"first": 25, "filter": {"districtCode": D("provincial")}}, compiled=True),
    Case("persons-age-min", persons_query(LISTED), {"first": 20, "filter": {"ageMin": 60}}, compiled=True),
    Case("persons-age-max", persons_query(LISTED), {"first": 20, "filter": {"ageMax": 5}}, compiled=True),
    Case("persons-age-band", persons_query(LISTED), {"first": 20, "filter": {"ageMin": 30, "ageMax": 40}}, compiled=True),
    Case("persons-age-band-empty", persons_query(LISTED), {"first": 20, "filter": {"ageMin": 140, "ageMax": 150}}, compiled=True),
    Case("persons-benefit-elderly", persons_query(LISTED), {"first": 30, "filter": {"benefitKind": "ELDERLY_ALLOWANCE"}}, compiled=True),
    Case("persons-benefit-disability", persons_query(LISTED), {"first": 30, "filter": {"benefitKind": "DISABILITY_ALLOWANCE"}}, compiled=True),
    Case("persons-benefit-child", persons_query(LISTED), {"first": 30, "filter": {"benefitKind": "CHILD_SUPPORT_GRANT"}}, compiled=True),
    Case("persons-benefit-funeral", persons_query(LISTED), {"first": 30, "filter": {"benefitKind": "FUNERAL_AID"}}, compiled=True),
    Case("persons-all-filters", persons_query(LISTED), {"first": 10, "filter": {"districtCode": "1001", "ageMin": 60, "ageMax": 100,
                                                                                  "benefitKind": "ELDERLY_ALLOWANCE"}}, compiled=True),
    Case("persons-elderly-after", persons_query(LISTED), {"first": 10, "after": After("both"),
                                                            "filter": {"benefitKind": "ELDERLY_ALLOWANCE", "ageMin": 65}}, compiled=True),
    # totalCount is not modelled by the compiled path: the reference path answers on both apps.
    Case("persons-total-count", persons_query(LIGHT, total=True), {"first": 5, "filter": {"ageMin": 60}}),
    Case("persons-total-count-only", "{ persons { totalCount } }"),
    Case("persons-page-info-only", "{ persons(first: 10) { pageInfo { hasNextPage endCursor startCursor } } }", compiled=True),
    Case("persons-edges-cursor-only", "{ persons(first: 10) { edges { cursor } } }", compiled=True),
    Case("persons-aliased-connection-fields", """{ list: persons(first: 3) { e: edges { c: cursor n: node { id: citizenId } }
        p: pageInfo { next: hasNextPage end: endCursor } } }""", compiled=True),
    Case("persons-typename", "{ persons(first: 2) { __typename edges { __typename node { __typename citizenId } } pageInfo { __typename } } }",
         compiled=True),
    Case("persons-fragments", """{ persons(first: 3) { ...Conn } }
        fragment Conn on PersonConnection { edges { ...E } pageInfo { endCursor } }
        fragment E on PersonEdge { cursor node { citizenId ... on Person { sources } } }""", compiled=True),
)

# Invalid arguments and variables: errors, identically on both paths.
add(
    Case("persons-first-500", persons_query(LIGHT), {"first": 500}),
    Case("persons-first-negative", persons_query(LIGHT), {"first": -1}),
    Case("persons-age-min-negative", persons_query(LIGHT), {"filter": {"ageMin": -1}}),
    Case("persons-age-max-too-old", persons_query(LIGHT), {"filter": {"ageMax": 151}}),
    Case("persons-bad-district", persons_query(LIGHT), {"filter": {"districtCode": "9999"}}),
    Case("persons-bad-district-text", persons_query(LIGHT), {"filter": {"districtCode": "abc"}}),
    Case("persons-bad-benefit-kind", persons_query(LIGHT), {"filter": {"benefitKind": "PENSION"}}),
    Case("persons-bad-cursor", persons_query(LIGHT), {"after": "bm90LWEtY3Vyc29y"}),
    Case("persons-cursor-of-another-list", persons_query(LIGHT), {"after": After("both", cursor_kind="case")}),
    Case("persons-first-not-int", persons_query(LIGHT), {"first": "ten"}),
    Case("persons-aliased-one-bad", f"""{{ ok: persons(first: 2) {{ edges {{ node {{ citizenId }} }} }}
        bad: persons(first: 2, filter: {{ageMin: -5}}) {{ edges {{ node {{ citizenId }} }} }} }}"""),
    Case("person-malformed-short", person_query(LIGHT), {"id": "12345"}),
    Case("person-malformed-check-digit", person_query(LIGHT), {"id": "1-2345-67890-12-3"}),
    Case("person-malformed-thai-digits", person_query(LIGHT), {"id": "๑๒๓๔๕๖๗๘๙๐๑๒๓"}),
    Case("person-missing-variable", person_query(LIGHT), {}),
    Case("person-null-variable", person_query(LIGHT), {"id": None}),
    Case("person-malformed-graphql-response", person_query(LIGHT), {"id": "12345"}, accept="application/graphql-response+json"),
    Case("person-unknown-field", person_query("citizenId shoeSize"), {"id": S("both")}),
    Case("person-syntax-error", "query { person(citizenId: ", {}),
    Case("person-literal-malformed", '{ person(citizenId: "1234") { citizenId } }'),
    Case("too-deep", person_query("household { members { household { members { household { members { household { householdId } } } } } } }"),
         {"id": S("both")}),
)

# Tokens: masking, scopes, districts, purpose.
add(
    Case("no-pii-everything", person_query(EVERYTHING), {"id": S("both")}, token="no_pii", compiled=True),
    Case("no-pii-city-only", person_query(EVERYTHING), {"id": S("city_only")}, token="no_pii", compiled=True),
    Case("no-pii-homeless", person_query(EVERYTHING), {"id": S("homeless")}, token="no_pii", compiled=True),
    Case("no-pii-housing", person_query(EVERYTHING), {"id": S("housing")}, token="no_pii", compiled=True),
    Case("no-pii-persons", persons_query(not_sensitive(LISTED_RICH)), {"first": 8}, token="no_pii_no_sensitive", compiled=True),
    Case("no-pii-sensitive-refused", person_query(EVERYTHING), {"id": S("card")}, token="no_pii_no_sensitive"),
    Case("no-sensitive-refused", person_query(EVERYTHING), {"id": S("case")}, token="no_sensitive"),
    Case("no-sensitive-fine", person_query(NOT_SENSITIVE), {"id": S("case")}, token="no_sensitive", compiled=True),
    Case("ministry-token-ministry-fields", person_query(MINISTRY_ONLY_SELECTION), {"id": S("both")}, token="ministry", compiled=True),
    Case("ministry-token-city-person", person_query(MINISTRY_ONLY_SELECTION), {"id": S("city_only")}, token="ministry", compiled=True),
    Case("ministry-token-city-fields", person_query(EVERYTHING), {"id": S("both")}, token="ministry"),
    Case("ministry-token-persons", persons_query(f"{SCALARS} household {{ householdId }} cases {{ caseId }}"), {"first": 10},
         token="ministry", compiled=True),
    Case("ministry-token-city-filter", persons_query(LIGHT), {"filter": {"benefitKind": "ELDERLY_ALLOWANCE"}}, token="ministry"),
    Case("city-token-city-fields", person_query(CITY_ONLY_SELECTION), {"id": S("both")}, token="city", compiled=True),
    Case("city-token-ministry-only-person", person_query(CITY_ONLY_SELECTION), {"id": S("ministry_only")}, token="city", compiled=True),
    Case("city-token-ministry-fields", person_query(EVERYTHING), {"id": S("both")}, token="city"),
    Case("city-token-persons", persons_query(f"{SCALARS} elderlyAllowances {{ benefitId payments {{ month }} }}"), {"first": 10},
         token="city", compiled=True),
    Case("city-token-child-filter", persons_query(LIGHT), {"filter": {"benefitKind": "CHILD_SUPPORT_GRANT"}}, token="city"),
    Case("ministry-bare-token", person_query(not_sensitive(MINISTRY_ONLY_SELECTION)), {"id": S("both_dashed")},
         token="ministry_bare", compiled=True),
    Case("ministry-bare-token-persons", persons_query(f"{SCALARS} {PROV} cases {{ caseId citizenId }}"), {"first": 6},
         token="ministry_bare", compiled=True),
    Case("ministry-bare-token-sensitive", person_query("cases { caseId summary }"), {"id": S("case")}, token="ministry_bare"),
    Case("city-bare-token", person_query(not_sensitive(CITY_ONLY_SELECTION)), {"id": S("both_dashed")}, token="city_bare",
         compiled=True),
    Case("city-bare-token-persons", persons_query(f"{SCALARS} {PROV} elderlyAllowances {{ benefitId citizenId firstName birthDate "
                                                  f"address {PAYMENTS} }} {HOMELESS} {HOUSING}"), {"first": 6},
         token="city_bare", compiled=True),
    Case("neither-token-person", person_query(LIGHT), {"id": S("both")}, token="neither"),
    Case("neither-token-persons", persons_query(LIGHT), {"first": 3}, token="neither"),
    Case("districts-token-outside", person_query(EVERYTHING), {"id": S("ministry_only_provincial")}, token="districts", compiled=True),
    Case("districts-token-home", person_query(EVERYTHING), {"id": S("both")}, token="districts_home", compiled=True),
    Case("districts-token-persons", persons_query(LISTED), {"first": 30}, token="districts", compiled=True),
    Case("districts-token-persons-other-district", persons_query(LISTED), {"first": 30, "filter": {"districtCode": "1050"}},
         token="districts", compiled=True),
    Case("no-purpose-person", person_query(LIGHT), {"id": S("both")}, token="no_purpose", purpose=None),
    Case("no-purpose-persons", persons_query(LIGHT), {"first": 3}, token="no_purpose", purpose=None),
    Case("blank-purpose-header", person_query(LIGHT), {"id": S("both")}, token="no_purpose", purpose="   "),
    Case("purpose-from-token", person_query(LIGHT), {"id": S("both")}, token="purpose_claim", purpose=None, compiled=True),
    Case("no-token", person_query(LIGHT), {"id": S("both")}, token="none"),
)

# GET requests (allowed in demo mode), operation names.
add(
    Case("get-person", person_query(EVERYTHING), {"id": S("both")}, method="GET", compiled=True),
    Case("get-persons", persons_query(LISTED), {"first": 5, "filter": {"ageMin": 70}}, method="GET", compiled=True),
    Case("get-person-no-variables", '{ person(citizenId: "@@city_only@@") { citizenId sources } }', method="GET", compiled=True),
    Case("get-bad-variable", person_query(LIGHT), {"id": "12"}, method="GET"),
    Case("operation-name-picks", """query One($id: CitizenId!) { person(citizenId: $id) { citizenId } }
        query Two { persons(first: 2) { edges { node { citizenId } } } }""", {"id": S("both")}, operation_name="Two", compiled=True),
    Case("operation-name-missing", """query One { persons(first: 1) { edges { node { citizenId } } } }
        query Two { persons(first: 2) { edges { node { citizenId } } } }"""),
    Case("operation-name-unknown", "query One { persons(first: 1) { edges { node { citizenId } } } }", operation_name="Three"),
    Case("named-operation", "query Lookup($id: CitizenId!) { person(citizenId: $id) { citizenId firstName } }", {"id": S("both")},
         compiled=True),
)


# Listing pages that start at the interesting persons (a cursor just before each), every field.
for kind in ["both_dashed", "both_stray", "city_only", "duplicate_registration", "deceased", "funeral", "homeless",
             "housing", "disability_allowance", "typo_intended", "district_mismatch", "child", "volunteer"]:
    add(Case(f"persons-from-{kind}", persons_query(LISTED_RICH), {"first": 3, "after": After(kind, before=True)}, compiled=True))

# Variables: defaults, variables inside literals, explicit nulls; root fragments; more nested resolvers.
add(
    Case("variable-defaults", """query($id: CitizenId! = "@@both:dashed@@", $first: Int = 3, $filter: PersonFilter = {ageMin: 60}) {
        person(citizenId: $id) { citizenId sources } persons(first: $first, filter: $filter) { edges { cursor node { citizenId age } } } }""",
         compiled=True),
    Case("variable-defaults-overridden", """query($first: Int = 3, $filter: PersonFilter = {ageMin: 60}) {
        persons(first: $first, filter: $filter) { edges { node { citizenId age } } } }""",
         {"first": 2, "filter": {"ageMax": 10}}, compiled=True),
    Case("variable-inside-literal-filter", """query($min: Int, $kind: BenefitKind) {
        persons(first: 6, filter: {ageMin: $min, benefitKind: $kind}) { edges { node { citizenId age elderlyAllowances { benefitId } } } } }""",
         {"min": 70, "kind": "ELDERLY_ALLOWANCE"}, compiled=True),
    Case("explicit-nulls", """{ persons(first: null, after: null, filter: null) { edges { node { citizenId } } pageInfo { endCursor } } }""",
         compiled=True),
    Case("explicit-null-filter-fields", persons_query(LIGHT),
         {"first": 4, "filter": {"districtCode": None, "ageMin": None, "ageMax": None, "benefitKind": None}}, compiled=True),
    Case("unused-extra-variable", person_query(LIGHT), {"id": S("both"), "nobody": "asked"}, compiled=True),
    Case("root-named-fragment", """query($id: CitizenId!) { ...Roots }
        fragment Roots on Query { person(citizenId: $id) { citizenId } persons(first: 2) { edges { node { citizenId } } } }""",
         {"id": S("city_only")}, compiled=True),
    Case("root-inline-fragment", """query($id: CitizenId!) { ... on Query { person(citizenId: $id) { citizenId } } ... { p: persons(first: 1) { pageInfo { hasNextPage } } } }""",
         {"id": S("both")}, compiled=True),
    Case("ten-person-roots", "query { " + " ".join(
        f'p{i}: person(citizenId: "@@{kind}@@") {{ citizenId sources firstName elderlyAllowances {{ benefitId }} cases {{ caseId }} }}'
        for i, kind in enumerate(["both", "both_dashed", "city_only", "ministry_only", "unknown", "case", "card", "funeral",
                                  "homeless", "both"])) + " }", compiled=True),
    Case("province-districts", person_query("district { code province { code nameEn districts { code nameEn provinceCode } } }"),
         {"id": S("both")}, compiled=True),
    Case("payments-of-grants-and-aid", person_query("childSupportGrants { kind benefitId payments { month } } "
                                                    "funeralAid { kind benefitId payments { month } } "
                                                    "disabilityAllowances { kind payments { month amount } }"),
         {"id": S("child")}, compiled=True),
    Case("payments-of-funeral-aid", person_query("funeralAid { kind benefitId payments { month } }"), {"id": S("funeral")}, compiled=True),
    Case("persons-household-relations", persons_query(f"citizenId {HOUSEHOLD} volunteer {{ volunteerId }}"), {"first": 15}, compiled=True),
    Case("persons-first-100-listed", "{ persons(first: 100) { edges { node { citizenId sources elderlyAllowances { benefitId } "
                                     "disabilityCards { cardNo } household { householdId } } } pageInfo { endCursor hasNextPage } } }",
         compiled=True),
    Case("nested-district-figures", person_query("citizenId district { code figures { persons elderlyPersons } }"), {"id": S("both")}),
    Case("nested-unlinked-registrations", person_query("citizenId district { code unlinkedRegistrations { benefitId citizenId issues { field problem } } }"),
         {"id": S("typo_intended")}),
    Case("household-members-deep", person_query("household { householdId members { citizenId age household { householdId } "
                                                "elderlyAllowances { benefitId } } }"), {"id": S("household_mpi")}),
    Case("districts-city-token-mismatch", person_query(EVERYTHING), {"id": S("district_mismatch")}, token="districts_city", compiled=True),
    Case("districts-city-token-persons", persons_query(LISTED_RICH), {"first": 10}, token="districts_city", compiled=True),
    Case("districts-city-token-filter-other", persons_query(LISTED), {"first": 10, "filter": {"districtCode": D("home")}},
         token="districts_city", compiled=True),
    Case("get-operation-name", """query A { persons(first: 1) { edges { node { citizenId } } } }
        query B($id: CitizenId!) { person(citizenId: $id) { citizenId sources } }""", {"id": S("both")}, method="GET",
         operation_name="B", compiled=True),
    Case("get-bad-variable-graphql-response", person_query(LIGHT), {"id": "12"}, method="GET",
         accept="application/graphql-response+json"),
    Case("graphql-response-success", person_query(LIGHT), {"id": S("both")}, accept="application/graphql-response+json",
         compiled=True),
    Case("districts-provincial-person", person_query(EVERYTHING), {"id": S("ministry_only_provincial")},
         token="districts_provincial", compiled=True),
    Case("districts-provincial-persons", persons_query(LISTED_RICH), {"first": 6}, token="districts_provincial", compiled=True),
    Case("districts-provincial-bangkok-person", person_query(EVERYTHING), {"id": S("both")}, token="districts_provincial",
         compiled=True),
    Case("comments-commas-whitespace", "# who\n query ( $id : CitizenId! ) , { person ( citizenId : $id ) "
         "{ citizenId , firstName\n\t district { code } } # end\n}", {"id": S("both")}, compiled=True),
    Case("unused-variable-declared", "query($id: CitizenId!, $unused: Int) { person(citizenId: $id) { citizenId } }",
         {"id": S("both")}),
    Case("query-beside-mutation", """query Q($id: CitizenId!) { person(citizenId: $id) { citizenId sources } }
        mutation M { syncPersons(items: [], idempotencyKey: "never-sent") { applied } }""", {"id": S("both")},
         operation_name="Q", compiled=True),
    Case("query-beside-mutation-get", """query Q($id: CitizenId!) { person(citizenId: $id) { citizenId sources } }
        mutation M { syncPersons(items: [], idempotencyKey: "never-sent") { applied } }""", {"id": S("both")},
         operation_name="Q", method="GET"),
    Case("persisted-register", person_query(LISTED), {"id": S("both")}, persisted="register", compiled=True),
    Case("persisted-by-hash", person_query(LISTED), {"id": S("city_only")}, persisted="hash", compiled=True),
    Case("persisted-by-document-id", persons_query(LISTED), {"first": 4, "after": After("both")}, persisted="document_id",
         compiled=True),
    Case("persisted-by-hash-no-pii", person_query(EVERYTHING), {"id": S("both_spaced")}, token="no_pii", persisted="hash",
         compiled=True),
    Case("persisted-by-hash-bad-variable", person_query(LIGHT), {"id": "123"}, persisted="hash"),
    Case("persisted-unknown-hash", person_query(LIGHT), {"id": S("both")}, persisted="unknown"),
    Case("no-pii-persons-listed", persons_query(LISTED), {"first": 30, "filter": {"benefitKind": "ELDERLY_ALLOWANCE"}},
         token="no_pii", compiled=True),
    Case("no-pii-duplicate-and-typo", """query($a: CitizenId!, $b: CitizenId!) { a: person(citizenId: $a) { %s } b: person(citizenId: $b) { %s } }"""
         % (LISTED, f"{SCALARS} {CITY_FIELDS}"), {"a": S("duplicate_registration"), "b": S("typo_intended")}, token="no_pii", compiled=True),
)

@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_both_paths_answer_alike(hub, case):
    run_both(hub, case)



# With one source down: the compiled path hands over to the reference resolvers, which report the
# outage; the answers (partial data, SOURCE_UNAVAILABLE errors) must be the same.
OUTAGE_CORPUS = [
    Case("down-person-everything-both", person_query(EVERYTHING), {"id": S("both")}),
    Case("down-person-everything-city-only", person_query(EVERYTHING), {"id": S("city_only")}),
    Case("down-person-everything-ministry-only", person_query(EVERYTHING), {"id": S("ministry_only")}),
    Case("down-person-unknown", person_query(LIGHT), {"id": S("unknown")}),
    Case("down-person-identity-only", person_query("citizenId sources firstName birthDate"), {"id": S("both")}),
    Case("down-person-ministry-fields", person_query(MINISTRY_ONLY_SELECTION), {"id": S("both")}, token="ministry"),
    Case("down-person-city-fields", person_query(CITY_ONLY_SELECTION), {"id": S("both")}, token="city"),
    Case("down-persons", persons_query(LISTED), {"first": 5}),
    Case("down-persons-filtered", persons_query(LISTED), {"first": 5, "filter": {"benefitKind": "ELDERLY_ALLOWANCE"}}),
    Case("down-persons-child-filter", persons_query(LISTED), {"first": 5, "filter": {"benefitKind": "CHILD_SUPPORT_GRANT"}}),
    Case("down-persons-aliased", """{ a: persons(first: 2) { edges { node { citizenId } } } b: persons(first: 2, filter: {ageMin: 70}) {
        edges { node { citizenId sources } } } }"""),
    Case("down-persons-ministry-token", persons_query(f"{SCALARS} household {{ householdId }}"), {"first": 4}, token="ministry"),
    Case("down-persons-city-token", persons_query(f"{SCALARS} elderlyAllowances {{ benefitId }}"), {"first": 4}, token="city"),
    Case("down-person-and-persons", f"""query($a: CitizenId!) {{ person(citizenId: $a) {{ {LIGHT} }}
        persons(first: 3) {{ edges {{ node {{ {LIGHT} }} }} }} }}""", {"a": S("city_only")}),
]


@pytest.mark.parametrize("case", OUTAGE_CORPUS, ids=[c.id for c in OUTAGE_CORPUS])
def test_both_paths_answer_alike_with_a_source_down(hub_down, case):
    run_both(hub_down, case)



# In production: no GET, no introspection, no field suggestions (the schema's own extensions).
PRODUCTION_CORPUS = [
    Case("production-person", person_query(EVERYTHING), {"id": S("both")}, compiled=True),
    Case("production-persons", persons_query(LISTED), {"first": 5, "filter": {"benefitKind": "ELDERLY_ALLOWANCE"}}, compiled=True),
    Case("production-typename", person_query("__typename citizenId district { __typename code }"), {"id": S("city_only")},
         compiled=True),
    Case("production-introspection-beside-person", "query($id: CitizenId!) { __schema { queryType { name } } "
         "person(citizenId: $id) { citizenId } }", {"id": S("both")}),
    Case("production-type-introspection", '{ __type(name: "Person") { name } persons(first: 1) { edges { node { citizenId } } } }'),
    Case("production-misspelt-field", person_query("citizenID firstName"), {"id": S("both")}),
    Case("production-get", person_query(LIGHT), {"id": S("both")}, method="GET"),
]


@pytest.mark.parametrize("case", PRODUCTION_CORPUS, ids=[c.id for c in PRODUCTION_CORPUS])
def test_both_paths_answer_alike_in_production(hub_production, case):
    run_both(hub_production, case)

# ---------------------------------------------------------------------------------------------
# Generated documents: random selections over everything reachable from person and persons
# (aliases, repeated fields, fragments, several roots), random persons and tokens. Seeded, so the
# same documents every run; HUB_COMPILED_FUZZ=<n> runs n of them instead of the default, and
# HUB_COMPILED_FUZZ_SEED=<seed> draws another set.
# ---------------------------------------------------------------------------------------------

FUZZ_TOKENS = ["full"] * 6 + ["no_pii", "no_pii_no_sensitive", "no_sensitive", "ministry", "city", "districts",
                              "districts_city", "districts_provincial", "purpose_claim", "ministry_bare", "city_bare"]
FUZZ_KINDS = [*KINDS, "unknown"]
# Fields that cost a statement per district or are large: rarely chosen.
FUZZ_RARE = {"figures", "homelessCounts", "housingProjects", "communities", "assistanceCentres", "unlinkedRegistrations",
             "subdistricts", "districts", "members", "totalCount"}


class _Fuzzer:
    def __init__(self, rng: random.Random) -> None:
        from graphql import GraphQLObjectType, get_named_type

        from schema.root import build_schema

        self.rng = rng
        self.schema = build_schema()._schema
        self.object_type = GraphQLObjectType
        self.named = get_named_type
        self.fragments: list[str] = []

    def selection(self, type_name: str, depth: int) -> str:
        rng = self.rng
        graphql_type = self.schema.get_type(type_name)
        fields = list(graphql_type.fields.items())
        chosen = []
        for _ in range(rng.randint(1, 5)):
            name, definition = rng.choice(fields)
            if name in FUZZ_RARE and rng.random() > 0.1:
                continue
            child = self.named(definition.type)
            alias = f"{name}_{rng.randint(0, 9)}: " if rng.random() < 0.15 else ""
            if isinstance(child, self.object_type):
                if depth >= 4:
                    continue
                chosen.append(f"{alias}{name} {{ {self.selection(child.name, depth + 1)} }}")
            else:
                chosen.append(f"{alias}{name}")
        if not chosen:
            leaf = next(n for n, d in fields if not isinstance(self.named(d.type), self.object_type))
            chosen.append(leaf)
        if rng.random() < 0.1:
            chosen.append("__typename")
        if rng.random() < 0.15:
            chosen.append(rng.choice(chosen))  # the same field again
        if rng.random() < 0.1:
            cut = rng.randint(0, len(chosen))
            inner = " ".join(chosen[cut:]) or "__typename"
            chosen = chosen[:cut] + [f"... on {type_name} {{ {inner} }}" if rng.random() < 0.5 else f"... {{ {inner} }}"]
        if rng.random() < 0.1:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {type_name} {{ {' '.join(chosen)} }}")
            chosen = [f"...{name}"]
        rng.shuffle(chosen)
        return " ".join(chosen)

    def case(self, number: int) -> Case:
        rng = self.rng
        self.fragments = []
        roots, variables, declared = [], {}, []
        for index in range(rng.choice([1, 1, 1, 2, 2, 3])):
            alias = f"r{index}: "
            if rng.random() < 0.55:
                kind = rng.choice(FUZZ_KINDS)
                form = rng.choice(["digits", "digits", "dashed", "spaced"])
                roots.append(f'{alias}person(citizenId: "@@{kind}:{form}@@") {{ {self.selection("Person", 1)} }}')
                continue
            arguments = [f"first: {rng.choice([0, 1, 2, 3, 5, 8])}"]
            conditions = []
            if rng.random() < 0.3:
                conditions.append(f'districtCode: "@@district.{rng.choice(["home", "other_bangkok", "provincial"])}@@"')
            if rng.random() < 0.3:
                conditions.append(f"ageMin: {rng.choice([0, 18, 60, 80])}")
            if rng.random() < 0.2:
                conditions.append(f"ageMax: {rng.choice([5, 30, 70, 150])}")
            if rng.random() < 0.3:
                conditions.append(f"benefitKind: {rng.choice(['ELDERLY_ALLOWANCE', 'DISABILITY_ALLOWANCE', 'CHILD_SUPPORT_GRANT', 'FUNERAL_AID'])}")
            if conditions:
                arguments.append(f"filter: {{{', '.join(conditions)}}}")
            if rng.random() < 0.3:
                declared.append(f"$after{index}: String")
                arguments.append(f"after: $after{index}")
                variables[f"after{index}"] = After(rng.choice(KINDS), before=rng.random() < 0.5)
            roots.append(f"{alias}persons({', '.join(arguments)}) {{ {self.selection('PersonConnection', 1)} }}")
        header = f"query({', '.join(declared)})" if declared else "query"
        document = f"{header} {{ {' '.join(roots)} }} " + " ".join(self.fragments)
        return Case(f"fuzz-{number}", document, variables or None, token=rng.choice(FUZZ_TOKENS))


def fuzz_cases(count: int, seed: int = 2568) -> list[Case]:
    from schema.limits import precheck

    rng = random.Random(seed)
    fuzzer = _Fuzzer(rng)
    cases: list[Case] = []
    while len(cases) < count:
        case = fuzzer.case(len(cases))
        probe = re.sub(r"@@[\w.:]+@@", "1001", case.query)
        if not precheck(fuzzer.schema, probe):  # within the limits: it will be executed
            cases.append(case)
    return cases


FUZZ_CORPUS = fuzz_cases(int(os.environ.get("HUB_COMPILED_FUZZ", "24")), int(os.environ.get("HUB_COMPILED_FUZZ_SEED", "2568")))


@pytest.mark.parametrize("case", FUZZ_CORPUS, ids=[c.id for c in FUZZ_CORPUS])
def test_both_paths_answer_alike_generated(hub, case):
    run_both(hub, case)

def test_corpus_ids_are_unique():
    every = CORPUS + OUTAGE_CORPUS + PRODUCTION_CORPUS + FUZZ_CORPUS
    assert len({c.id for c in every}) == len(every)
    assert len(CORPUS) >= 60


# ---------------------------------------------------------------------------------------------
# Following cursors on each app
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def hub_outside(hub):
    """The two apps, for a test that sends its own requests (not through run_both's counting)."""
    hub.counts = None
    yield hub
    hub.counts = None


WALK = persons_query("citizenId sources firstName district { code } elderlyAllowances { benefitId }")


def _walk(hub: Hub, client: TestClient, variables: dict, token: str = "full") -> list:
    pages = []
    after = None
    for _ in range(40):
        body = client.post(
            "/graphql", json={"query": WALK, "variables": {**variables, "after": after}},
            headers={"Authorization": f"Bearer {hub.tokens[token]}", "X-Purpose": PURPOSE},
        ).json()
        assert "errors" not in body, body
        connection = body["data"]["persons"]
        pages.append(normalise(connection, hub.cursor_key))
        if not connection["pageInfo"]["hasNextPage"]:
            return pages
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("variables, token", [
    ({"first": 97}, "full"),
    ({"first": 20, "filter": {"benefitKind": "ELDERLY_ALLOWANCE"}}, "full"),
    ({"first": 8}, "districts"),
], ids=["all", "elderly", "districts"])
def test_following_cursors_gives_the_same_pages(hub_outside, variables, token):
    hub = hub_outside
    before = executions(hub.compiled)["compiled"]
    compiled_pages = _walk(hub, hub.compiled, variables, token)
    assert executions(hub.compiled)["compiled"] - before == len(compiled_pages)
    assert compiled_pages == _walk(hub, hub.reference, variables, token)
    assert len(compiled_pages) > 1


def test_a_cursor_from_one_app_continues_on_the_other(hub_outside):
    """Cursors sealed by the compiled path are opened by the reference path and vice versa."""
    hub = hub_outside
    headers = {"Authorization": f"Bearer {hub.tokens['full']}", "X-Purpose": PURPOSE}
    first = hub.compiled.post("/graphql", json={"query": WALK, "variables": {"first": 9}}, headers=headers).json()
    end = first["data"]["persons"]["pageInfo"]["endCursor"]
    next_c = hub.compiled.post("/graphql", json={"query": WALK, "variables": {"first": 9, "after": end}}, headers=headers).json()
    next_r = hub.reference.post("/graphql", json={"query": WALK, "variables": {"first": 9, "after": end}}, headers=headers).json()
    assert normalise(next_c, hub.cursor_key) == normalise(next_r, hub.cursor_key)
    edge_cursor = first["data"]["persons"]["edges"][4]["cursor"]
    from_edge = hub.reference.post("/graphql", json={"query": WALK, "variables": {"first": 4, "after": edge_cursor}},
                                   headers=headers).json()
    assert [e["node"]["citizenId"] for e in from_edge["data"]["persons"]["edges"]] == \
        [e["node"]["citizenId"] for e in first["data"]["persons"]["edges"][5:9]]



def test_branches_run_together_and_fail_as_gather_does():
    """The compiled path's gather: results in order, branches concurrent, a failure reported
    once (the other branch's failure collected, not left unretrieved), cancellation passed on."""
    from resolvers.compiled import _gather

    async def value(v, delay=0.0):
        await asyncio.sleep(delay)
        return v

    async def fail(message, delay=0.0):
        await asyncio.sleep(delay)
        raise ValueError(message)

    async def run():
        loop = asyncio.get_running_loop()
        unretrieved = []
        loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
        assert await _gather([]) == []
        assert await _gather([value(1)]) == [1]
        assert await _gather([value(1, 0.02), value(2), value(3, 0.01)]) == [1, 2, 3]
        # Together, not one after another: the first branch waits for what the last one does.
        ready = asyncio.Event()

        async def waits():
            await ready.wait()
            return "waited"

        async def sets():
            ready.set()
            return "set"

        assert await asyncio.wait_for(_gather([waits(), sets()]), 5) == ["waited", "set"]
        with pytest.raises(ValueError, match="last"):
            await _gather([fail("first", 0.02), fail("last")])
        await asyncio.sleep(0.05)
        import gc
        gc.collect()
        await asyncio.sleep(0)
        assert unretrieved == []
        branch_cancelled = asyncio.Event()

        async def slow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                branch_cancelled.set()
                raise

        caller = asyncio.ensure_future(_gather([slow(), value(1, 10)]))
        await asyncio.sleep(0.01)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.wait_for(branch_cancelled.wait(), 1)
        # A branch that fails as it is cancelled (say, its connection breaks): its error is
        # retrieved, not left for the loop to report.
        async def fails_when_cancelled():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                raise ValueError("while cancelled") from None

        caller = asyncio.ensure_future(_gather([fails_when_cancelled(), value(1, 10)]))
        await asyncio.sleep(0.01)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.sleep(0.01)
        gc.collect()
        await asyncio.sleep(0)
        assert unretrieved == []

    asyncio.run(run())
