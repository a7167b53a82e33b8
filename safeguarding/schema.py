"""Canonical data model: the entities, columns and code lists every stage shares.

This module is the contract between the synthetic generator, the ingest, the
indicator engine and the report. Ingest maps whatever a source calls a column
or a code onto the names defined here; everything downstream reads only these
names. Codes follow the DfE Children in Need census where one exists
(categories of abuse, referral sources, primary need, ethnicity, sex).

Each entity is written by ingest to ``data/processed/<entity>.parquet``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Code lists (canonical code -> plain-English label)
# --------------------------------------------------------------------------

CATEGORY_OF_ABUSE: dict[str, str] = {
    "NEG": "Neglect",
    "PHY": "Physical abuse",
    "SAB": "Sexual abuse",
    "EMO": "Emotional abuse",
    "MUL": "Multiple",
}

SEX: dict[str, str] = {"M": "Male", "F": "Female", "U": "Unknown"}

ETHNICITY: dict[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish heritage",
    "WOTH": "Any other White background",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Caribbean",
    "BAFR": "African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}

#: DfE top-level ethnic groups used for breakdowns in the report.
ETHNIC_GROUP: dict[str, str] = {
    **{c: "White" for c in ("WBRI", "WIRI", "WIRT", "WOTH", "WROM")},
    **{c: "Mixed" for c in ("MWBC", "MWBA", "MWAS", "MOTH")},
    **{c: "Asian" for c in ("AIND", "APKN", "ABAN", "AOTH")},
    **{c: "Black" for c in ("BCRB", "BAFR", "BOTH")},
    **{c: "Other" for c in ("CHNE", "OOTH")},
    **{c: "Not known" for c in ("REFU", "NOBT")},
}

REFERRAL_SOURCE: dict[str, str] = {
    "1A": "Individual: family member, relative or carer",
    "1B": "Individual: acquaintance",
    "1C": "Individual: self",
    "1D": "Individual: other",
    "2A": "Schools",
    "2B": "Education services",
    "3A": "Health: GP",
    "3B": "Health: health visitor",
    "3C": "Health: school nurse",
    "3D": "Health: other primary health",
    "3E": "Health: A&E",
    "3F": "Health: other",
    "4": "Housing",
    "5A": "LA services: social care",
    "5B": "LA services: other internal",
    "5C": "LA services: external",
    "5D": "LA services: early help",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}

#: Broad source groups used for the "by source" breakdown (DfE groupings).
REFERRAL_SOURCE_GROUP: dict[str, str] = {
    **{c: "Individual" for c in ("1A", "1B", "1C", "1D")},
    **{c: "Schools and education" for c in ("2A", "2B")},
    **{c: "Health services" for c in ("3A", "3B", "3C", "3D", "3E", "3F")},
    "4": "Housing",
    **{c: "Local authority services" for c in ("5A", "5B", "5C", "5D")},
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}

PRIMARY_NEED: dict[str, str] = {
    "N0": "Not stated",
    "N1": "Abuse or neglect",
    "N2": "Child's disability",
    "N3": "Parental illness or disability",
    "N4": "Family in acute stress",
    "N5": "Family dysfunction",
    "N6": "Socially unacceptable behaviour",
    "N7": "Low income",
    "N8": "Absent parenting",
    "N9": "Cases other than child in need",
}

LADO_SECTOR: dict[str, str] = {
    "education": "Education",
    "social_care": "Social care",
    "health": "Health",
    "foster_carers": "Foster carers",
    "secure_estate": "Secure estate",
    "police": "Police",
    "faith": "Faith groups",
    "voluntary_youth": "Voluntary and youth",
    "early_years": "Early years",
    "other": "Other",
}

LADO_CATEGORY: dict[str, str] = {
    "physical": "Physical",
    "emotional": "Emotional",
    "sexual": "Sexual",
    "neglect": "Neglect",
}

LADO_OUTCOME: dict[str, str] = {
    "substantiated": "Substantiated",
    "unsubstantiated": "Unsubstantiated",
    "unfounded": "Unfounded",
    "false": "False",
    "malicious": "Malicious",
}

LADO_ACTION: dict[str, str] = {
    "suspension": "Suspension",
    "dismissal": "Dismissal",
    "resignation": "Resignation",
    "cessation_of_use": "Cessation of use",
    "s47_enquiry": "Section 47 enquiry",
    "police_investigation": "Police investigation",
    "caution": "Caution",
    "conviction": "Conviction",
    "acquittal": "Acquittal",
    "barring_referral": "Referral to barring service",
    "regulator_referral": "Referral to regulator",
    "disciplinary": "Disciplinary action",
}

#: Survey of children and families (voice of the child): when the question was asked.
SURVEY_TIME_POINT: dict[str, str] = {
    "before": "Before (at the start of the work)",
    "after": "After (at the end of the work)",
}

#: Survey answers: yes, no, or not answered (asked but no answer given).
SURVEY_ANSWER: dict[str, str] = {"yes": "Yes", "no": "No", "not_answered": "Not answered"}

CODE_LISTS: dict[str, dict[str, str]] = {
    "category_of_abuse": CATEGORY_OF_ABUSE,
    "sex": SEX,
    "ethnicity": ETHNICITY,
    "referral_source": REFERRAL_SOURCE,
    "primary_need": PRIMARY_NEED,
    "lado_sector": LADO_SECTOR,
    "lado_category": LADO_CATEGORY,
    "lado_outcome": LADO_OUTCOME,
    "lado_action": LADO_ACTION,
    "survey_time_point": SURVEY_TIME_POINT,
    "survey_answer": SURVEY_ANSWER,
}

#: Extra spellings seen in real extracts, beyond each code's own label.
#: Keys are normalised with :func:`normalise_code_text` before lookup.
EXTRA_ALIASES: dict[str, dict[str, str]] = {
    "category_of_abuse": {
        "n": "NEG", "p": "PHY", "s": "SAB", "e": "EMO", "m": "MUL",
        "physical": "PHY", "sexual": "SAB", "emotional": "EMO",
        "multiple not recommended": "MUL", "multiple categories": "MUL",
        "mixed": "MUL",
    },
    "sex": {
        "male": "M", "female": "F", "1": "M", "2": "F", "0": "U", "9": "U",
        "not known": "U", "not specified": "U", "unknown": "U", "boy": "M", "girl": "F",
    },
    "lado_sector": {
        "school": "education", "schools": "education", "education": "education",
        "social care": "social_care", "childrens social care": "social_care",
        "residential": "social_care", "health": "health", "nhs": "health",
        "foster carer": "foster_carers", "fostering": "foster_carers",
        "secure estate": "secure_estate", "yoi": "secure_estate",
        "faith": "faith", "faith group": "faith", "faith organisation": "faith",
        "voluntary": "voluntary_youth", "youth": "voluntary_youth",
        "voluntary sector": "voluntary_youth", "sport": "voluntary_youth",
        "nursery": "early_years", "childminder": "early_years",
    },
    "lado_action": {
        "suspended": "suspension", "dismissed": "dismissal", "resigned": "resignation",
        "s47": "s47_enquiry", "section 47": "s47_enquiry",
        "police": "police_investigation", "dbs referral": "barring_referral",
        "dbs": "barring_referral", "referral to dbs": "barring_referral",
        "referral to regulator": "regulator_referral", "regulator": "regulator_referral",
        "disciplinary": "disciplinary",
    },
    "survey_time_point": {
        "start": "before", "at start": "before", "pre": "before", "baseline": "before", "first": "before",
        "registration": "before", "1": "before", "t1": "before", "time 1": "before",
        "end": "after", "at end": "after", "post": "after", "follow up": "after", "second": "after",
        "deregistration": "after", "2": "after", "t2": "after", "time 2": "after",
    },
    "survey_answer": {
        "y": "yes", "n": "no", "true": "yes", "false": "no",
        "no answer": "not_answered", "not answered": "not_answered", "did not answer": "not_answered",
        "skipped": "not_answered", "declined": "not_answered", "prefer not to say": "not_answered",
    },
}

#: DfE groups of a code list's codes (code -> group label), for lists whose breakdowns are by group.
CODE_GROUPS: dict[str, dict[str, str]] = {
    "referral_source": REFERRAL_SOURCE_GROUP,
    "ethnicity": ETHNIC_GROUP,
}

#: Other spellings of a group label seen in extracts (normalised text -> group label).
GROUP_ALIASES: dict[str, dict[str, str]] = {
    "referral_source": {
        "individuals": "Individual", "health": "Health services", "health service": "Health services",
        "la services": "Local authority services", "la service": "Local authority services",
        "local authority": "Local authority services", "local authority service": "Local authority services",
        "schools education": "Schools and education",
        # the DfE group numbers, written without the letter of a sub-code
        "1": "Individual", "2": "Schools and education", "3": "Health services", "5": "Local authority services",
    },
    "ethnicity": {"mixed multiple ethnic groups": "Mixed", "asian or asian british": "Asian",
                  "black or black british": "Black", "black african caribbean or black british": "Black",
                  "other ethnic group": "Other", "any other": "Other"},
}

#: Per group, its catch-all code ("Health: other", "Any other White background"): what a bare group
#: label is suggested to map to, which keeps the group right in the by-group breakdowns. Groups
#: without one (Schools and education, Local authority services, ...) get no suggested code.
GROUP_OTHER_CODE: dict[str, dict[str, str]] = {
    "referral_source": {"Individual": "1D", "Health services": "3F"},
    "ethnicity": {"White": "WOTH", "Mixed": "MOTH", "Asian": "AOTH", "Black": "BOTH", "Other": "OOTH"},
}

_LEADING_ENUM = re.compile(r"^\s*(?:\(?[a-z0-9]{1,2}\)|[a-z0-9]{1,2}[.:])\s+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_code_text(value: str) -> str:
    """Normalise a source code value for alias lookup.

    Lower-cases, strips an Annex A style enumerator (``"a) Neglect"`` ->
    ``"neglect"``), turns punctuation and underscores into single spaces and
    drops the words "abuse" and "the" so that ``"Physical abuse"``, ``"PHYSICAL"``
    and ``"b) Physical Abuse"`` agree.
    """
    text = str(value).strip().lower()
    text = _LEADING_ENUM.sub("", text)
    text = _NON_ALNUM.sub(" ", text).strip()
    words = [w for w in text.split() if w not in {"abuse", "the"}]
    return " ".join(words)


def build_aliases(code_list: str) -> dict[str, str]:
    """Return normalised alias -> canonical code for one code list.

    Includes each code itself, its label, and :data:`EXTRA_ALIASES`.
    """
    codes = CODE_LISTS[code_list]
    aliases: dict[str, str] = {}
    for code, label in codes.items():
        aliases[normalise_code_text(code)] = code
        aliases[normalise_code_text(label)] = code
    for alias, code in EXTRA_ALIASES.get(code_list, {}).items():
        aliases[normalise_code_text(alias)] = code
    return aliases


def code_group(code_list: str, value: str) -> str | None:
    """The DfE group a source value names when it is a group label rather than a code, else None.

    ``"Health services"`` names the referral source group of codes 3A-3F and
    ``"White"`` the ethnic group of WBRI, WIRI, ...; only groups of two or more
    codes count (a one-code group such as ``Police`` is that code's own label).
    """
    groups = CODE_GROUPS.get(code_list)
    if not groups:
        return None
    sizes: dict[str, int] = {}
    for g in groups.values():
        sizes[g] = sizes.get(g, 0) + 1
    norm = normalise_code_text(value)
    names = {normalise_code_text(g): g for g in sizes}
    names.update({normalise_code_text(a): g for a, g in GROUP_ALIASES.get(code_list, {}).items()})
    group = names.get(norm)
    return group if group is not None and sizes.get(group, 0) > 1 else None


# --------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One canonical column of an entity.

    ``kind`` is one of ``id`` (a record or child identifier, string),
    ``date``, ``str``, ``bool``, ``int``, ``code`` (value from ``codes``),
    ``codes`` (several values from ``codes`` separated by ``;``, ``,`` or ``|``).
    """

    name: str
    kind: str
    required: bool = False
    codes: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Entity:
    """A canonical table: its columns, key and date-order rules."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: pairs (earlier, later): a row where later < earlier is rejected
    date_order: tuple[tuple[str, str], ...] = ()
    #: whether the entity holds a child identifier to pseudonymise
    has_child: bool = True
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        """Canonical column names in order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of the columns an input must provide."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}; valid: {', '.join(self.column_names)}")


C = Column

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "children",
            "One row per child: characteristics.",
            (
                C("child_id", "id", True, description="child identifier (pseudonymised at ingest)"),
                C("date_of_birth", "date", True),
                C("sex", "code", True, "sex"),
                C("ethnicity", "code", False, "ethnicity"),
                C("disability", "bool", False),
            ),
            key=("child_id",),
            aliases={
                "child_id": ("child id", "childid", "la child id", "lachildid", "person id", "child ref", "id"),
                "date_of_birth": ("dob", "date of birth", "birth date", "personbirthdate"),
                "sex": ("gender", "sex", "gendercurrent", "gender current"),
                "ethnicity": ("ethnic origin", "ethnicity code", "ethnic group"),
                "disability": ("disabled", "disability flag", "has disability"),
            },
        ),
        Entity(
            "referrals",
            "One row per referral to children's social care.",
            (
                C("referral_id", "id", True),
                C("child_id", "id", True),
                C("referral_date", "date", True),
                C("referral_source", "code", False, "referral_source"),
                C("primary_need", "code", False, "primary_need"),
                C("nfa", "bool", False, description="referral closed with no further action"),
                C("team", "str", False),
            ),
            key=("referral_id",),
            aliases={
                "referral_id": ("referral id", "referral ref", "referral number", "contact id"),
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "referral_date": ("date of referral", "referral date", "cinreferraldate", "date referral received"),
                "referral_source": ("source", "source of referral", "referralsource", "referral source"),
                "primary_need": ("primary need", "primary need code", "primaryneedcode", "need code"),
                "nfa": ("no further action", "referral nfa", "referralnfa", "nfa flag", "outcome nfa"),
                "team": ("team", "allocated team", "team name"),
            },
        ),
        Entity(
            "s47",
            "One row per section 47 enquiry.",
            (
                C("s47_id", "id", True),
                C("child_id", "id", True),
                C("s47_start_date", "date", True),
                C("referral_id", "id", False),
                C("team", "str", False),
            ),
            key=("s47_id",),
            aliases={
                "s47_id": ("s47 id", "enquiry id", "section 47 id", "s47 ref"),
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "s47_start_date": ("s47 start", "s47 start date", "date s47 started", "strategy discussion date",
                                    "s47actualstartdate", "enquiry start date", "start date"),
                "referral_id": ("referral id", "referral ref"),
                "team": ("team", "allocated team"),
            },
        ),
        Entity(
            "icpc",
            "One row per initial child protection conference.",
            (
                C("icpc_id", "id", True),
                C("child_id", "id", True),
                C("icpc_date", "date", True),
                C("s47_id", "id", False, description="the enquiry that led to it, where recorded"),
                C("plan_resulted", "bool", False),
            ),
            key=("icpc_id",),
            aliases={
                "icpc_id": ("icpc id", "conference id", "icpc ref"),
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "icpc_date": ("icpc date", "date of icpc", "conference date", "dateofinitialcpc",
                              "date of initial cpc", "date of initial child protection conference"),
                "s47_id": ("s47 id", "enquiry id", "s47 ref"),
                "plan_resulted": ("plan resulted", "cp plan", "outcome plan", "cp plan made", "plan made"),
            },
        ),
        Entity(
            "cp_plans",
            "One row per child protection plan.",
            (
                C("plan_id", "id", True),
                C("child_id", "id", True),
                C("plan_start_date", "date", True),
                C("plan_end_date", "date", False),
                C("initial_category", "code", True, "category_of_abuse"),
                C("latest_category", "code", False, "category_of_abuse"),
                C("previous_plans", "int", False,
                  description="recorded number of previous CP plans (CIN NumberOfPreviousCPP)"),
                C("team", "str", False),
            ),
            key=("plan_id",),
            date_order=(("plan_start_date", "plan_end_date"),),
            aliases={
                "plan_id": ("plan id", "cp plan id", "cpp id", "plan ref"),
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "plan_start_date": ("plan start", "cp plan start date", "cppstartdate", "start date",
                                    "child protection plan start date", "plan start date"),
                "plan_end_date": ("plan end", "cp plan end date", "cppenddate", "end date",
                                  "child protection plan end date", "plan end date"),
                "initial_category": ("initial category", "initial category of abuse", "initialcategoryofabuse",
                                     "category of abuse", "category"),
                "latest_category": ("latest category", "latest category of abuse", "latestcategoryofabuse",
                                    "current category"),
                "previous_plans": ("number of previous cpp", "numberofpreviouscpp", "previous plans",
                                   "number of previous child protection plans", "previous cp plans"),
                "team": ("team", "allocated team"),
            },
        ),
        Entity(
            "cp_reviews",
            "One row per child protection review conference.",
            (
                C("plan_id", "id", True),
                C("child_id", "id", False),
                C("review_date", "date", True),
            ),
            key=("plan_id", "review_date"),
            aliases={
                "plan_id": ("plan id", "cp plan id", "cpp id", "plan ref"),
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "review_date": ("review date", "cppreviewdate", "date of review", "review conference date"),
            },
        ),
        Entity(
            "allegations",
            "One row per allegation referred to the LADO (no child identifier).",
            (
                C("allegation_id", "id", True),
                C("referral_date", "date", True),
                C("sector", "code", True, "lado_sector"),
                C("category", "code", False, "lado_category"),
                C("concluded_date", "date", False),
                C("outcome", "code", False, "lado_outcome"),
                C("actions", "codes", False, "lado_action"),
            ),
            key=("allegation_id",),
            date_order=(("referral_date", "concluded_date"),),
            has_child=False,
            aliases={
                "allegation_id": ("allegation id", "lado ref", "case ref", "lado id", "case id"),
                "referral_date": ("date referred", "referral date", "date of referral", "date received"),
                "sector": ("employer sector", "sector", "organisation type", "employment sector"),
                "category": ("category", "allegation category", "category of allegation", "type of harm"),
                "concluded_date": ("date concluded", "conclusion date", "concluded", "date closed"),
                "outcome": ("outcome", "allegation outcome", "conclusion"),
                "actions": ("actions", "actions taken", "action"),
            },
        ),
        Entity(
            "private_fostering",
            "One row per private fostering notification (and its arrangement).",
            (
                C("pf_id", "id", True),
                C("child_id", "id", True),
                C("notification_date", "date", True),
                C("confirmed", "bool", False, description="confirmed as private fostering after assessment"),
                C("initial_visit_date", "date", False),
                C("arrangement_start_date", "date", False),
                C("arrangement_end_date", "date", False),
            ),
            key=("pf_id",),
            date_order=(("notification_date", "initial_visit_date"),
                        ("arrangement_start_date", "arrangement_end_date")),
            aliases={
                "pf_id": ("pf id", "notification id", "pf ref", "arrangement id"),
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "notification_date": ("date notified", "notification date", "date of notification"),
                "confirmed": ("confirmed", "confirmed as private fostering", "assessed as pf", "is private fostering"),
                "initial_visit_date": ("initial visit", "initial visit date", "date of initial visit",
                                       "first visit date"),
                "arrangement_start_date": ("arrangement start", "start date", "arrangement start date"),
                "arrangement_end_date": ("arrangement end", "end date", "arrangement end date"),
            },
        ),
        Entity(
            "survey",
            "One row per child, question and time point: the child's answer to a survey question "
            "(voice of children and families), asked before and after the work.",
            (
                C("child_id", "id", True, description="child identifier (pseudonymised at ingest)"),
                C("question", "str", True, description="question code, the same at both time points (FEEL_SAFE)"),
                C("time_point", "code", True, "survey_time_point", description="before or after the work"),
                C("answer", "code", True, "survey_answer", description="yes, no or not answered"),
                C("response_date", "date", False),
                C("question_text", "str", False, description="the question as asked (shown in the report)"),
            ),
            key=("child_id", "question", "time_point"),
            aliases={
                "child_id": ("child id", "la child id", "lachildid", "person id", "child ref"),
                "question": ("question code", "question id", "question ref", "item", "question number"),
                "time_point": ("time point", "timepoint", "survey point", "stage", "when asked", "survey stage"),
                "answer": ("answer", "response", "reply"),
                "response_date": ("response date", "date of response", "survey date", "date completed",
                                  "date asked", "interview date"),
                "question_text": ("question text", "question wording", "wording", "question asked"),
            },
        ),
    )
}

#: Derived table written by ingest: one row per (allegation_id, action).
ALLEGATION_ACTIONS_COLUMNS = ("allegation_id", "action")

#: Tidy layout of aggregate returns (partners' monthly counts) after ingest.
AGGREGATE_COLUMNS = (
    "indicator_id", "period_type", "period_start", "breakdown", "breakdown_value",
    "numerator", "denominator",
)

#: Columns of the indicator table written by the engine.
INDICATOR_COLUMNS = (
    "indicator_id", "period_type", "period_start", "period_end", "breakdown",
    "breakdown_value", "numerator", "denominator", "value",
)

#: Column-name patterns that identify personal free text; such source columns
#: are never carried over (ingest reports them as dropped).
PERSONAL_COLUMN_PATTERNS = (
    "name", "forename", "surname", "address", "postcode", "post code", "street",
    "phone", "telephone", "email", "nhs number", "nhs no", "upn", "ni number",
    "notes", "note", "comment", "comments", "narrative", "description", "free text",
    "details", "case summary", "ucn", "allocated worker", "social worker", "personal advisor",
)


def entity(name: str) -> Entity:
    """Return the entity called ``name`` or raise listing the valid names."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; valid: {', '.join(ENTITIES)}") from None
