"""When a FHIR ``Dosage`` says to take a medicine, in the pack's four times of day.

The pack prints the Universal Medication Schedule: morning, noon, evening and
bedtime (:data:`medpdf.products.pack.medicines.TIMES`). A FHIR dosage says the same in one
of several ways, read in this order (the first that says anything wins):

1. ``timing.repeat.when``: event codes (``MORN``, ``HS``, ``CM`` "at
   breakfast", ``ACV`` "before dinner" …), each onto one time; the meal codes
   without a meal (``C``, ``AC``, ``PC``) onto the meals the frequency asks for;
2. ``timing.repeat.timeOfDay``: clock times, by the hour (4 to 10 h morning,
   11 to 15 h noon, 16 to 20 h evening, else bedtime);
3. ``timing.repeat.frequency`` per ``period``/``periodUnit`` ("twice daily"),
   and the timing code (``BID``, ``TID``, ``QID``, ``QD``, ``AM``, ``PM``,
   ``Q6H``…): once a day is the morning, twice morning and evening, three times
   adds noon, four times adds bedtime, as the schedule's authors advise;
4. the dosage's own text, in English ("twice daily", "at bedtime").

A rhythm that is not every day (weekly, every other day) ticks nothing: a
weekly medicine ticked on a daily schedule would be taken seven times too
often. It is marked instead, and the dosage's text goes with it. More than
four times a day ticks nothing either: the boxes are left to fill by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from medpdf.products.pack import TIMES

if TYPE_CHECKING:
    from fhir.resources.R4B.dosage import Dosage
    from fhir.resources.R4B.timing import TimingRepeat

MORNING, NOON, EVENING, BEDTIME = TIMES

#: HL7 EventTiming codes (FHIR R4, with the v3 TimingEvent codes it includes) → a time.
#: The meal codes without a named meal map to None: the frequency decides.
WHEN: dict[str, str | None] = {
    "WAKE": MORNING,
    "MORN": MORNING,
    "MORN.early": MORNING,
    "MORN.late": MORNING,
    "NOON": NOON,
    "AFT": NOON,
    "AFT.early": NOON,
    "AFT.late": NOON,
    "EVE": EVENING,
    "EVE.early": EVENING,
    "EVE.late": EVENING,
    "NIGHT": BEDTIME,
    "PHS": BEDTIME,
    "HS": BEDTIME,
    "C": None,
    "CM": MORNING,
    "CD": NOON,
    "CV": EVENING,
    "AC": None,
    "ACM": MORNING,
    "ACD": NOON,
    "ACV": EVENING,
    "PC": None,
    "PCM": MORNING,
    "PCD": NOON,
    "PCV": EVENING,
    "IC": None,
    "ICM": MORNING,
    "ICD": NOON,
    "ICV": EVENING,
}

#: How a meal code relates the dose to the meal, by its first letters.
MEAL = (("AC", "before"), ("PC", "after"), ("IC", "between"), ("C", "with"))

#: Times of the schedule for n doses a day, as the Universal Medication Schedule advises.
PER_DAY: dict[int, tuple[str, ...]] = {
    1: (MORNING,),
    2: (MORNING, EVENING),
    3: (MORNING, NOON, EVENING),
    4: (MORNING, NOON, EVENING, BEDTIME),
}
#: Meals for n doses with "a meal": breakfast, then dinner, then lunch.
MEALS_PER_DAY: dict[int, tuple[str, ...]] = {
    1: (MORNING,),
    2: (MORNING, EVENING),
    3: (MORNING, NOON, EVENING),
}

#: v3 GTSAbbreviation timing codes (``Timing.code``): doses a day, or fixed times.
CODE_PER_DAY = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "Q24H": 1, "Q12H": 2, "Q8H": 3, "Q6H": 4}
CODE_TIMES = {"AM": (MORNING,), "PM": (EVENING,)}
CODE_NOT_DAILY = frozenset({"QOD", "WK", "MO", "Q2D", "Q3D", "Q1W"})

_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 7 * 86400}


class TimingProblem(ValueError):
    """A dosage that says something impossible (an unknown event code): the field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Schedule:
    """What a dosage says about when: the times ticked, the meal, whether every day."""

    times: tuple[str, ...] = ()
    #: "with", "before", "after" or "between" meals; None when no meal is named.
    meal: str | None = None
    #: False for a weekly or every-other-day rhythm: nothing is ticked then.
    daily: bool = True

    def merged(self, other: Schedule) -> Schedule:
        """Two dosages of one medicine (5 mg mornings, 2.5 mg evenings): both schedules."""
        wanted = set(self.times) | set(other.times)
        return Schedule(
            tuple(t for t in TIMES if t in wanted),
            self.meal or other.meal,
            self.daily and other.daily,
        )


def in_order(times: Iterable[str]) -> tuple[str, ...]:
    """The times in the order of a day, each once."""
    wanted = set(times)
    return tuple(t for t in TIMES if t in wanted)


def time_of_clock(time: dt.time) -> str:
    """The schedule's time for a clock time: 4 to 10 h morning, 11 to 15 noon, 16 to 20 evening."""
    if 4 <= time.hour <= 10:
        return MORNING
    if 11 <= time.hour <= 15:
        return NOON
    if 16 <= time.hour <= 20:
        return EVENING
    return BEDTIME


def _per_day(repeat: TimingRepeat) -> tuple[int | None, bool]:
    """Doses a day from frequency/period (None: not said, or not whole), and whether daily."""
    if repeat.frequency is None and repeat.period is None:
        return None, True
    frequency = int(repeat.frequency or 1)
    period = Decimal(repeat.period) if repeat.period is not None else Decimal(1)
    unit = repeat.periodUnit or "d"
    seconds = _SECONDS.get(unit)
    if seconds is None or period <= 0:  # months and years: not every day
        return None, False
    span = period * seconds
    if span > 86400:
        return None, False
    doses = Decimal(frequency) * Decimal(86400) / span
    if doses != doses.to_integral_value():
        return None, True
    return int(doses), True


def meal_of(code: str) -> str | None:
    """How a meal code relates to the meal (``ACV``: "before"); None for other codes."""
    return next((relation for start, relation in MEAL if code.startswith(start)), None)


def _when(codes: Sequence[str | None], per_day: int | None, field: str) -> Schedule:
    times: list[str] = []
    meal: str | None = None
    unnamed_meal = False
    for number, code in enumerate(codes):
        if code is None:
            continue
        if code not in WHEN:
            raise TimingProblem(f"{field}[{number}]", f"'{code}' is not an EventTiming code")
        mapped = WHEN[code]
        meal = meal or meal_of(code)
        if mapped is None:
            unnamed_meal = True
        else:
            times.append(mapped)
    if unnamed_meal:
        times.extend(MEALS_PER_DAY.get(per_day or 3, ()))
    return Schedule(in_order(times), meal)


def _text(text: str) -> Schedule:
    """What an English dosage text says about times ("1 tablet twice daily at meals")."""
    folded = " ".join(text.casefold().split())
    if _NOT_DAILY.search(folded):
        return Schedule(daily=False)
    named = [time for time, pattern in _NAMED_TIMES if pattern.search(folded)]
    if named:
        return Schedule(in_order(named))
    for doses, pattern in _TEXT_PER_DAY:
        if pattern.search(folded):
            return Schedule(PER_DAY[doses])
    return Schedule()


_NOT_DAILY = re.compile(
    r"\b(?:weekly|once a week|every week|every other day|alternate days|monthly"
    r"|every \d+ (?:days|weeks))\b"
)
_NAMED_TIMES = (
    (MORNING, re.compile(r"\b(?:in the morning|every morning|at breakfast|on waking|mornings?)\b")),
    (NOON, re.compile(r"\b(?:at noon|at midday|at lunch(?:time)?|noon)\b")),
    (EVENING, re.compile(r"\b(?:in the evening|every evening|at dinner|at supper|evenings?)\b")),
    (BEDTIME, re.compile(r"\b(?:at bedtime|at night|before bed|nightly|bedtime)\b")),
)
_TEXT_PER_DAY = (
    (
        4,
        re.compile(
            r"\b(?:four times (?:a |per )?day|four times daily|qid|q\.i\.d\.?"
            r"|every 6 hours)(?!\w)"
        ),
    ),
    (
        3,
        re.compile(
            r"\b(?:three times (?:a |per )?day|three times daily|tid|t\.i\.d\.?"
            r"|every 8 hours)(?!\w)"
        ),
    ),
    (
        2,
        re.compile(
            r"\b(?:twice (?:a |per )?day|twice daily|two times (?:a |per )?day|bid|b\.i\.d\.?"
            r"|every 12 hours)(?!\w)"
        ),
    ),
    (
        1,
        re.compile(
            r"\b(?:once (?:a |per )?day|once daily|one time (?:a |per )?day|daily|every day|qd)\b"
        ),
    ),
)


def schedule_of(dosage: Dosage, field: str = "dosageInstruction[0]") -> Schedule:
    """The times one dosage ticks; a timing that cannot be read raises :class:`TimingProblem`."""
    timing = dosage.timing
    repeat = timing.repeat if timing is not None else None
    per_day, daily = _per_day(repeat) if repeat is not None else (None, True)
    if not daily:
        return Schedule(daily=False)
    if repeat is not None and repeat.when:
        return _when(repeat.when, per_day, f"{field}.timing.repeat.when")
    if repeat is not None and repeat.timeOfDay:
        return Schedule(in_order(time_of_clock(t) for t in repeat.timeOfDay if t is not None))
    if per_day is not None:
        return Schedule(PER_DAY.get(per_day, ()))
    code = timing.code if timing is not None else None
    if code is not None:
        for coding in code.coding or ():
            value = (coding.code or "").upper() if coding is not None else ""
            if value in CODE_NOT_DAILY:
                return Schedule(daily=False)
            if value in CODE_TIMES:
                return Schedule(CODE_TIMES[value])
            if value in CODE_PER_DAY:
                return Schedule(PER_DAY[CODE_PER_DAY[value]])
        if code.text:
            return _text(code.text)
    if dosage.text:
        return _text(dosage.text)
    return Schedule()
