"""CronJob schedules as robfig/cron's ParseStandard reads them, and the times they name.

One parser serves both the CronJob validation (its error messages are robfig's, which kube
returns verbatim) and the CronJob controller (which asks for the next time after a moment, in
the CronJob's time zone). Five fields: minute, hour, day of month, month, day of week; ranges,
steps, lists, month and weekday names, `?` as `*`, and the `@hourly`-style descriptors.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from admission.gofmt import go_quote
from admission.gotime import parse_duration

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (low, high, names) per field, in the order a standard spec writes them.
_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}),
           (1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}), (0, 6, {d: i for i, d in enumerate(_DAYS)}))
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
# robfig gives up looking for a matching time five years on (a schedule like "0 0 30 2 *").
_YEARS_AHEAD = 5


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset
    hours: frozenset
    days: frozenset
    months: frozenset
    weekdays: frozenset
    any_day: bool        # day of month written as `*` or `?`
    any_weekday: bool    # day of week written as `*` or `?`
    every: dt.timedelta | None = None   # `@every <duration>`

    def _day_matches(self, t: dt.datetime) -> bool:
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        # Either field left as a star means both must match; otherwise one suffices (cron's rule).
        return dom and dow if self.any_day or self.any_weekday else dom or dow

    def next(self, after: dt.datetime) -> dt.datetime | None:
        """The first time strictly after `after` (an aware datetime, read in its own zone) that the
        schedule names, or None when none comes within five years."""
        if self.every is not None:
            step = max(self.every, dt.timedelta(seconds=1))
            return after.replace(microsecond=0) + dt.timedelta(seconds=int(step.total_seconds()))
        zone = after.tzinfo
        t = (after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)).replace(tzinfo=None)
        limit = t.year + _YEARS_AHEAD
        while t.year <= limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
            elif not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + dt.timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += dt.timedelta(minutes=1)
            else:
                found = t.replace(tzinfo=zone)
                # A wall time skipped by a daylight-saving jump does not exist: move past it.
                if zone is not None and found.astimezone(dt.timezone.utc).astimezone(zone).replace(
                        tzinfo=None) != t:
                    t += dt.timedelta(minutes=1)
                    continue
                return found
        return None


def _int(text: str, names: dict) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"failed to parse int from {text}: strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    if int(text) < 0:
        raise ValueError(f"negative number ({int(text)}) not allowed: {text}")
    return int(text)


def _field(text: str, lo: int, hi: int, names: dict) -> tuple[set, bool]:
    """The values one field names, and whether it was written as a bare star."""
    values: set = set()
    star = False
    for expr in filter(None, text.split(",")):
        range_and_step = expr.split("/")
        low_high = range_and_step[0].split("-")
        bare = low_high[0] in ("*", "?")
        if bare:
            start, end = lo, hi
        elif len(low_high) > 2:
            raise ValueError(f"too many hyphens: {expr}")
        else:
            start = _int(low_high[0], names)
            end = _int(low_high[1], names) if len(low_high) == 2 else start
        if len(range_and_step) > 2:
            raise ValueError(f"too many slashes: {expr}")
        step = _int(range_and_step[1], {}) if len(range_and_step) == 2 else 1
        if len(range_and_step) == 2 and len(low_high) == 1:
            end = hi
        if start < lo:
            raise ValueError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
        if end > hi:
            raise ValueError(f"end of range ({end}) above maximum ({hi}): {expr}")
        if start > end:
            raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
        if step == 0:
            raise ValueError(f"step of range should be a positive number: {expr}")
        star = star or (bare and step == 1)
        values.update(range(start, end + 1, step))
    return values, star


def split_zone(spec: str) -> tuple[str | None, str]:
    """A legacy `TZ=zone ` or `CRON_TZ=zone ` prefix apart from the schedule after it."""
    m = re.match(r"(?:CRON_)?TZ=(\S+)\s*", spec)
    return (m.group(1), spec[m.end():]) if m else (None, spec)


def parse(spec: str) -> Schedule:
    """robfig/cron's ParseStandard (the time-zone prefix taken off first); ValueError carries its
    message."""
    if not spec:
        raise ValueError("empty spec string")
    if spec.startswith("@"):
        if spec.startswith("@every "):
            text = spec[len("@every "):]
            try:
                every = parse_duration(text)
            except ValueError as e:
                raise ValueError(f"failed to parse duration {spec}: {e}") from None
            return Schedule(*(frozenset() for _ in range(5)), False, False, every)
        if spec not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    parts = spec.split()
    if len(parts) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(parts)}: [{' '.join(parts)}]")
    fields = [_field(text, *limits) for text, limits in zip(parts, _FIELDS)]
    return Schedule(*(frozenset(values) for values, _ in fields), fields[2][1], fields[4][1])
