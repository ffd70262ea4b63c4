"""Every rate, share and size the synthetic-data generator uses, in one place (figures from shared/domain.md)."""

from __future__ import annotations

# --- Scale ---------------------------------------------------------------------------------
# Persons generated per chunk: one transaction per chunk per database, memory bounded by it.
CHUNK_PERSONS = 5_000
# The 7-digit running number inside a generated citizen ID bounds how many IDs a run can mint
# (ministry persons plus the city's persons unknown to the ministry).
MAX_PERSONS = 9_900_000
# At this many persons the Bangkok-wide published counts (homeless, communities) are reached;
# smaller runs scale them down, larger runs keep them (they are counts of real things, not shares).
FULL_SCALE_PERSONS = 1_000_000

# --- Persons and households -----------------------------------------------------------------
BANGKOK_SHARE = 0.70
MALE_SHARE = 0.49
# Household sizes 1..6 (Thai mean household size is about 2.8).
HOUSEHOLD_SIZE_WEIGHTS = {1: 22, 2: 26, 3: 22, 4: 15, 5: 9, 6: 6}
# Age brackets (first, last year of age): weight. The first member of a household is an adult;
# the others follow the member brackets. Together about 20% are 60+ and about 6% under 6.
HEAD_AGE_WEIGHTS = {
    (18, 29): 10, (30, 39): 20, (40, 49): 22, (50, 59): 20,
    (60, 69): 16, (70, 79): 8, (80, 89): 3.2, (90, 99): 0.8,
}
MEMBER_AGE_WEIGHTS = {
    (0, 5): 9, (6, 14): 13, (15, 17): 5, (18, 29): 17, (30, 39): 15, (40, 49): 13, (50, 59): 12,
    (60, 69): 9.5, (70, 79): 4.5, (80, 89): 1.6, (90, 99): 0.4,
}
# Probability that a person of at least this age (at the reference date) has died within the
# death window: a few percent overall, more among the old.
DEATH_RATE_BY_AGE = ((90, 0.40), (80, 0.22), (70, 0.10), (60, 0.04), (40, 0.008), (0, 0.002))
DEATH_WINDOW_DAYS = 5 * 365
# Share of households of non-Thai nationality, their nationalities, and their citizen-ID types
# (6: temporary residents and migrant workers; 7: their children born in Thailand; 8: legal residents).
NON_THAI_HOUSEHOLD_SHARE = 0.025
NON_THAI_NATIONALITY_WEIGHTS = {"MM": 55, "KH": 20, "LA": 15, "CN": 6, "IN": 4}
NON_THAI_RESIDENT_TYPE_WEIGHTS = {"6": 65, "8": 35}
# Thai persons born on or after 1 Jan 1984 get type 1, or 2 when the birth was notified late.
LATE_BIRTH_NOTIFICATION_SHARE = 0.04
THAI_ID_TYPE_CUTOFF_YEAR = 1984
# The registry office (digits 2-5) is the person's current district for most, any district otherwise.
REGISTRY_OFFICE_IS_HOME_DISTRICT = 0.85
# Women of 15+ titled นาง (married) rather than นางสาว, by age.
MARRIED_TITLE_BY_AGE = ((40, 0.75), (30, 0.62), (20, 0.30), (15, 0.03))
CHILD_TITLE_UNDER_AGE = 15
# Members who carry the household's family name.
SHARED_FAMILY_NAME_SHARE = 0.85
HOUSE_CODE_SHARE = 0.95
ADDRESS_SOI_SHARE = 0.55
# BMN excludes Bangkok; most households elsewhere are in it.
IN_BMN_SHARE_OUTSIDE_BANGKOK = 0.92
WELFARE_CARD_SHARE = 0.30
LOGBOOK_SHARE_WITH_WELFARE_CARD = 0.15
LOGBOOK_SHARE_WITHOUT_WELFARE_CARD = 0.03
LOGBOOK_STAGE_WEIGHTS = {1: 50, 2: 35, 3: 15}
RECORD_AGE_DAYS = 2 * 365  # how far back updated_at goes
VERSION_WEIGHTS = {1: 60, 2: 25, 3: 10, 4: 5}

# --- TPMAP / BMN ----------------------------------------------------------------------------
# Deprivation rate per BMN indicator; together about 20% of assessed households fail at least one.
MPI_DEPRIVATION_RATE = {
    1: 0.004, 4: 0.008, 5: 0.006, 7: 0.020, 8: 0.025, 9: 0.006, 10: 0.006, 11: 0.015,
    15: 0.008, 16: 0.006, 17: 0.020, 19: 0.010, 20: 0.020, 21: 0.018, 22: 0.045, 27: 0.008, 28: 0.005,
}

# --- Disability cards -----------------------------------------------------------------------
# Card holders by age (about 2% overall) and the seven types (1 visual, 2 hearing or communication,
# 3 physical or mobility, 4 mental or behavioural, 5 intellectual, 6 learning, 7 autism).
DISABILITY_RATE_BY_AGE = ((80, 0.08), (60, 0.04), (18, 0.015), (0, 0.007))
DISABILITY_TYPE_WEIGHTS = {1: 9.3, 2: 18.4, 3: 48.7, 4: 7.6, 5: 6.8, 6: 0.8, 7: 1.0}
DISABILITY_CARD_YEARS = 8  # (verify)
DISABILITY_CARD_EXPIRED_SHARE = 0.05
DISABILITY_CARD_REVOKED_SHARE = 0.02

# --- Welfare cases --------------------------------------------------------------------------
WELFARE_CASE_RATE = 0.008
WELFARE_CASE_RATE_CARD_HOLDER = 0.04
# Cases by group of person: category -> weight.
CASE_CATEGORY_CHILD = {"child": 85, "family": 15}
CASE_CATEGORY_YOUTH = {"youth": 60, "family": 20, "women": 10, "vulnerable": 10}
CASE_CATEGORY_ADULT = {"women": 15, "family": 25, "vulnerable": 30, "housing": 25, "beggar": 5}
CASE_CATEGORY_ELDERLY = {"elderly": 65, "vulnerable": 15, "family": 5, "housing": 15}
CASE_DISABILITY_SHARE_CARD_HOLDER = 0.6
CASE_CHANNEL_WEIGHTS = {"hotline_1300": 30, "one_home": 15, "tambon_centre": 25, "referral": 15, "outreach": 15}
CASE_STATUS_WEIGHTS = {"open": 15, "in_progress": 25, "referred": 15, "closed": 45}
CASE_CENTRE_SHARE_REFERRAL = 0.3
CASE_AGE_DAYS = 3 * 365
CASE_DURATION_DAYS = 180
# Homeless and beggar cases with no citizen ID, per person generated (at least one in the first chunk).
ANONYMOUS_STREET_CASE_RATE = 0.0003
ANONYMOUS_STREET_CATEGORY_WEIGHTS = {"homeless": 55, "beggar": 45}

# --- Other ministry programmes ---------------------------------------------------------------
CHILD_SUPPORT_SHARE = 0.30  # of Thai children under 6
CHILD_SUPPORT_AGE_LIMIT = 6
CHILD_SUPPORT_MONTHLY = 600
CHILD_SUPPORT_ENDED_SHARE = 0.02
VOLUNTEER_SHARE = 0.005  # of adults
VOLUNTEER_AGE = (18, 70)
VOLUNTEER_ACTIVE_SHARE = 0.85
ASSISTANCE_CENTRES_PER_PERSON = 300 / 1_000_000
MIN_ASSISTANCE_CENTRES = 5

# --- City: allowances and payments ----------------------------------------------------------
ELDERLY_ALLOWANCE_AGE = 60
ELDERLY_ALLOWANCE_COVERAGE = 0.78  # 1,002,948 budgeted of 1,281,398 Bangkok elderly
# The first fiscal year (BE) the city's legacy register holds.
LEGACY_REGISTER_FIRST_FY = 2553
# Years between the fiscal year of the 60th birthday and registration.
REGISTRATION_LAG_WEIGHTS = {0: 80, 1: 12, 2: 5, 3: 3}
ALLOWANCE_SUSPENDED_SHARE = 0.015
ALLOWANCE_MOVED_SHARE = 0.015
ALLOWANCE_TRANSFER_SHARE = 0.65
DISABILITY_ALLOWANCE_COVERAGE = 0.94  # 99,325 of 105,493
# Card holders whose card lapsed: registered (then normally suspended) at this share.
LAPSED_CARD_REGISTERED_SHARE = 0.5
PAYMENT_MONTHS = 3
PAYMENT_LAST_DAY = 10
PAYMENT_UNCOLLECTED_CASH_SHARE = 0.01
PRENAME_ABBREVIATED_SHARE = 0.3
FUNERAL_AID_SHARE = 0.35  # of deceased Bangkok elderly
FUNERAL_AID_AMOUNT = 3_000
FUNERAL_AID_STATUS_WEIGHTS = {"A": 90, "R": 5, "P": 5}
HOUSING_APPLICATION_SHARE = 0.005  # of Bangkok adults
HOUSING_APPLICATION_STATUS_WEIGHTS = {"P": 50, "A": 30, "R": 20}
HOUSING_PROJECTS_PER_DISTRICT = (1, 3)

# --- City: homeless and communities -----------------------------------------------------------
BANGKOK_HOMELESS = 1_258  # One Night Count 2023
MIN_HOMELESS_TOTAL = 80
# Relative weight of a district in the counts (others 1); Phra Nakhon (Ratchadamnoen) has the most.
HOMELESS_DISTRICT_WEIGHTS = {
    "1001": 20, "1007": 5, "1008": 4, "1013": 3, "1004": 3, "1037": 3, "1030": 3, "1002": 3,
    "1033": 3, "1015": 2, "1026": 2, "1029": 2,
}
HOMELESS_SPOTS_PER_DISTRICT = (1, 4)
HOMELESS_SEX_WEIGHTS = {"M": 70, "F": 25, "U": 5}
HOMELESS_WITH_PID_SHARE = 0.35
HOMELESS_AGE_BAND_WEIGHTS = {"18-29": 10, "30-39": 18, "40-49": 25, "50-59": 25, "60+": 22}
HOMELESS_REFERRED_SHARE = 0.4
# Ministry homeless cases for a named person the city never recorded, per person generated.
MINISTRY_ONLY_HOMELESS_CASE_RATE = 0.0001
BANGKOK_COMMUNITIES = 662
COMMUNITY_TYPE_WEIGHTS = {
    "ชุมชนแออัด": 45, "ชุมชนชานเมือง": 25, "ชุมชนหมู่บ้านจัดสรร": 15, "ชุมชนเคหะชุมชน": 10, "ชุมชนอาคารสูง": 5,
}

# --- Messiness planted in the city's data (each kind occurs at least once per run) -----------------
PID_DASHED_SHARE = 0.12  # '1-1020-12345-67-8'
PID_SPACED_SHARE = 0.03  # '1 1020 12345 67 8'
PID_STRAY_SPACES_SHARE = 0.03  # ' 1102012345678 '
PID_CHECK_DIGIT_TYPO_SHARE = 0.003  # one digit mistyped: the check digit no longer matches
CITY_ONLY_PERSON_SHARE = 0.004  # of elderly registrations: an extra person the ministry does not know
DECEASED_STILL_ACTIVE_SHARE = 0.08  # of registrants the ministry records deceased
UNDER_60_REGISTERED_SHARE = 0.01  # of Bangkok Thai persons aged 55-59
WRONG_TIER_SHARE = 0.005  # of active elderly registrations
DUPLICATE_REGISTRATION_SHARE = 0.004
DUPLICATE_IN_SAME_DISTRICT_SHARE = 0.5
DISTRICT_MISMATCH_SHARE = 0.01
LAPSED_CARD_STILL_ACTIVE_SHARE = 0.3  # of registrations whose card expired or was revoked
DISABILITY_WITHOUT_CARD_SHARE = 0.0002  # of Bangkok Thai persons with no card
FUNERAL_AID_NOT_DECEASED_SHARE = 0.001  # of living Bangkok elderly
HOMELESS_PID_WITHOUT_CASE_SHARE = 0.4  # of homeless persons with a PID
DEPRIVED_UNSERVED_SHARE = 0.02  # of assessed households: deprived, no case, no benefit, by construction
