"""The city's legacy tables bound to the unified records: PIDs, BE dates, dist_id and letters normalised."""

from dataclasses import replace

import sqlalchemy as sa

from hub import normalise as n
from hub.bindings import Binding, Col, Relation, dist_id_filter
from hub.records import (
    BenefitRecord,
    CommunityRecord,
    HomelessCountRecord,
    HomelessPersonRecord,
    HousingApplicationRecord,
    HousingProjectRecord,
    PaymentRecord,
)
from hub.sources.city import tables as t

SOURCE = "city"

allowance_status = n.letter(n.ALLOWANCE_STATUS, "allowance status")
payment_channel = n.letter(n.PAYMENT_CHANNEL, "payment channel")
application_status = n.letter(n.APPLICATION_STATUS, "application status")
funeral_status = n.letter(n.FUNERAL_AID_STATUS, "funeral aid status")
sex = n.letter(n.SEX, "sex")


def _allowance(name: str, table, kind: str, reg_kind: str, **extra_fields) -> Binding:
    return Binding(
        name=f"city.{name}",
        source=SOURCE,
        record=BenefitRecord,
        table=table,
        key=table.c.reg_id,
        updated_at=table.c.upd_dt,
        updated_at_normalise=n.bangkok_local,
        constants={"kind": kind, "amount": None, "end_date": None, "start_date": None},
        fields={
            "registration_id": Col(table.c.reg_id),
            "benefit_id": Col(table.c.reg_id, lambda v, k=reg_kind: f"{k}{v}"),
            "citizen_id": Col(table.c.pid, n.citizen_id),
            "title": Col(table.c.prename, n.stripped),
            "first_name": Col(table.c.fname, n.stripped),
            "last_name": Col(table.c.lname, n.stripped),
            "birth_date": Col(table.c.birth_be, n.be_date),
            "district_code": Col(table.c.dist_id, n.dist_id),
            "address": Col(table.c.addr),
            "fiscal_year": Col(table.c.reg_fy),
            "monthly_amount": Col(table.c.amount, n.money),
            "status": Col(table.c.status, allowance_status),
            "bank_account": Col(table.c.bank_acct),
            **extra_fields,
        },
        district_filter=dist_id_filter(table.c.dist_id),
    )


ELDERLY_ALLOWANCE = _allowance("tb_elder_allow", t.tb_elder_allow, "ELDERLY_ALLOWANCE", "E")
DISABILITY_ALLOWANCE = _allowance(
    "tb_disab_allow", t.tb_disab_allow, "DISABILITY_ALLOWANCE", "D", card_no=Col(t.tb_disab_allow.c.card_no)
)

PAYMENT = Binding(
    name="city.tb_allow_pay",
    source=SOURCE,
    record=PaymentRecord,
    table=t.tb_allow_pay,
    key=t.tb_allow_pay.c.pay_id,
    fields={
        "payment_id": Col(t.tb_allow_pay.c.pay_id),
        "benefit_kind": Col(
            t.tb_allow_pay.c.reg_kind,
            n.letter({"E": "ELDERLY_ALLOWANCE", "D": "DISABILITY_ALLOWANCE"}, "registration kind"),
        ),
        "registration_id": Col(t.tb_allow_pay.c.reg_id),
        "month": Col(t.tb_allow_pay.c.pay_ym, n.be_month),
        "amount": Col(t.tb_allow_pay.c.amount, n.money),
        "paid_at": Col(t.tb_allow_pay.c.paid_dt, n.bangkok_local),
        "channel": Col(t.tb_allow_pay.c.channel, payment_channel),
    },
)

FUNERAL_AID = Binding(
    name="city.tb_funeral_aid",
    source=SOURCE,
    record=BenefitRecord,
    table=t.tb_funeral_aid,
    key=t.tb_funeral_aid.c.aid_id,
    constants={"kind": "FUNERAL_AID", "monthly_amount": None, "end_date": None},
    fields={
        "registration_id": Col(t.tb_funeral_aid.c.aid_id),
        "benefit_id": Col(t.tb_funeral_aid.c.aid_id, lambda v: f"F{v}"),
        "citizen_id": Col(t.tb_funeral_aid.c.deceased_pid, n.citizen_id),
        "first_name": Col(t.tb_funeral_aid.c.deceased_name, n.stripped),
        "applicant_citizen_id": Col(t.tb_funeral_aid.c.applicant_pid, n.citizen_id),
        "district_code": Col(t.tb_funeral_aid.c.dist_id, n.dist_id),
        "start_date": Col(t.tb_funeral_aid.c.death_be, n.be_date),
        "amount": Col(t.tb_funeral_aid.c.amount, n.money),
        "status": Col(t.tb_funeral_aid.c.status, funeral_status),
    },
    district_filter=dist_id_filter(t.tb_funeral_aid.c.dist_id),
)

HOMELESS_COUNT = Binding(
    name="city.tb_homeless_count",
    source=SOURCE,
    record=HomelessCountRecord,
    table=t.tb_homeless_count,
    key=t.tb_homeless_count.c.count_id,
    fields={
        "count_id": Col(t.tb_homeless_count.c.count_id),
        "district_code": Col(t.tb_homeless_count.c.dist_id, n.dist_id),
        "count_date": Col(t.tb_homeless_count.c.count_date),
        "place": Col(t.tb_homeless_count.c.spot_desc),
        "male": Col(t.tb_homeless_count.c.male),
        "female": Col(t.tb_homeless_count.c.female),
        "unspecified": Col(t.tb_homeless_count.c.unspecified),
    },
    district_filter=dist_id_filter(t.tb_homeless_count.c.dist_id),
)

HOMELESS_PERSON = Binding(
    name="city.tb_homeless_person",
    source=SOURCE,
    record=HomelessPersonRecord,
    table=t.tb_homeless_person,
    key=t.tb_homeless_person.c.hl_id,
    fields={
        "homeless_id": Col(t.tb_homeless_person.c.hl_id),
        "citizen_id": Col(t.tb_homeless_person.c.pid, n.citizen_id),
        "nickname": Col(t.tb_homeless_person.c.nickname),
        "sex": Col(t.tb_homeless_person.c.sex, sex),
        "age_band": Col(t.tb_homeless_person.c.age_band),
        "district_code": Col(t.tb_homeless_person.c.dist_id, n.dist_id),
        "first_seen": Col(t.tb_homeless_person.c.first_seen),
        "last_seen": Col(t.tb_homeless_person.c.last_seen),
        "referred_to": Col(t.tb_homeless_person.c.referred_to),
    },
    district_filter=dist_id_filter(t.tb_homeless_person.c.dist_id),
)

HOUSING_PROJECT = Binding(
    name="city.tb_housing_proj",
    source=SOURCE,
    record=HousingProjectRecord,
    table=t.tb_housing_proj,
    key=t.tb_housing_proj.c.proj_id,
    fields={
        "project_id": Col(t.tb_housing_proj.c.proj_id),
        "district_code": Col(t.tb_housing_proj.c.dist_id, n.dist_id),
        "name": Col(t.tb_housing_proj.c.proj_name),
        "units_total": Col(t.tb_housing_proj.c.units_total),
        "units_occupied": Col(t.tb_housing_proj.c.units_occupied),
        "opened_on": Col(t.tb_housing_proj.c.opened_dt),
    },
    district_filter=dist_id_filter(t.tb_housing_proj.c.dist_id),
)

def dist_id_filter_select(districts: frozenset[str]):
    return sa.select(t.tb_housing_proj.c.proj_id).where(dist_id_filter(t.tb_housing_proj.c.dist_id)(districts))


HOUSING_APPLICATION = Binding(
    name="city.tb_housing_app",
    source=SOURCE,
    record=HousingApplicationRecord,
    table=t.tb_housing_app,
    key=t.tb_housing_app.c.app_id,
    fields={
        "application_id": Col(t.tb_housing_app.c.app_id),
        "project_id": Col(t.tb_housing_app.c.proj_id),
        "citizen_id": Col(t.tb_housing_app.c.pid, n.citizen_id),
        "household_size": Col(t.tb_housing_app.c.household_size),
        "monthly_income": Col(t.tb_housing_app.c.income_month, n.money),
        "applied_on": Col(t.tb_housing_app.c.applied_dt),
        "status": Col(t.tb_housing_app.c.status, application_status),
    },
    district_filter=lambda districts: t.tb_housing_app.c.proj_id.in_(
        dist_id_filter_select(districts)
    ),
)

COMMUNITY = Binding(
    name="city.tb_community",
    source=SOURCE,
    record=CommunityRecord,
    table=t.tb_community,
    key=t.tb_community.c.comm_id,
    fields={
        "community_id": Col(t.tb_community.c.comm_id),
        "district_code": Col(t.tb_community.c.dist_id, n.dist_id),
        "name": Col(t.tb_community.c.comm_name),
        "community_type": Col(t.tb_community.c.comm_type),
        "households": Col(t.tb_community.c.households),
    },
    district_filter=dist_id_filter(t.tb_community.c.dist_id),
)

# Relations keyed by a ministry citizen ID: the digits-only PID columns find clerk-typed rows.
PERSON_ELDERLY_ALLOWANCES = Relation(
    "elderly_allowances", ELDERLY_ALLOWANCE, t.tb_elder_allow.c.pid_digits, "citizen_id",
    order_by=(t.tb_elder_allow.c.reg_id,),
)
PERSON_DISABILITY_ALLOWANCES = Relation(
    "disability_allowances", DISABILITY_ALLOWANCE, t.tb_disab_allow.c.pid_digits, "citizen_id",
    order_by=(t.tb_disab_allow.c.reg_id,),
)
PERSON_FUNERAL_AID = Relation(
    "funeral_aid", FUNERAL_AID, t.tb_funeral_aid.c.deceased_pid_digits, "citizen_id",
    order_by=(t.tb_funeral_aid.c.aid_id,),
)
PERSON_HOMELESS_RECORDS = Relation(
    "homeless_records", HOMELESS_PERSON, t.tb_homeless_person.c.pid_digits, "citizen_id",
    order_by=(t.tb_homeless_person.c.hl_id,),
)
PERSON_HOUSING_APPLICATIONS = Relation(
    "housing_applications", HOUSING_APPLICATION, t.tb_housing_app.c.pid_digits, "citizen_id",
    order_by=(t.tb_housing_app.c.app_id,),
)
ELDERLY_PAYMENTS = Relation(
    "payments", replace(PAYMENT, name="city.tb_allow_pay.E", where=t.tb_allow_pay.c.reg_kind == "E"),
    t.tb_allow_pay.c.reg_id, "registration_id", order_by=(t.tb_allow_pay.c.pay_ym,),
)
DISABILITY_PAYMENTS = Relation(
    "payments", replace(PAYMENT, name="city.tb_allow_pay.D", where=t.tb_allow_pay.c.reg_kind == "D"),
    t.tb_allow_pay.c.reg_id, "registration_id", order_by=(t.tb_allow_pay.c.pay_ym,),
)

BINDINGS = (
    ELDERLY_ALLOWANCE, DISABILITY_ALLOWANCE, PAYMENT, FUNERAL_AID, HOMELESS_COUNT, HOMELESS_PERSON,
    HOUSING_PROJECT, HOUSING_APPLICATION, COMMUNITY,
)
