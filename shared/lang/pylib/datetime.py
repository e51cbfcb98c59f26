"""Dates and times: socklab's datetime, after the structure of CPython's
pure-Python module. Local time is UTC."""

import time as _time

MINYEAR = 1
MAXYEAR = 9999

_DAYS_IN_MONTH = [-1, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_DAYS_BEFORE_MONTH = [-1, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
_MONTHNAMES = [None, "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DAYNAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_US_PER_DAY = 86400000000
# Day 1 is 0001-01-01; this is 1970-01-01's number.
_EPOCH_ORDINAL = 719163


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year, month):
    if month == 2 and _is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month]


def _ymd2ord(year, month, day):
    y = year - 1
    before = _DAYS_BEFORE_MONTH[month] + (1 if month > 2 and _is_leap(year) else 0)
    return y * 365 + y // 4 - y // 100 + y // 400 + before + day


def _ord2ymd(n):
    return tuple(_time.gmtime((n - _EPOCH_ORDINAL) * 86400)[:3])


def _check_int(value):
    if not isinstance(value, int):
        raise TypeError("'%s' object cannot be interpreted as an integer" % type(value).__name__)
    return value


def _check_date(year, month, day):
    _check_int(year)
    _check_int(month)
    _check_int(day)
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError("year %d is out of range" % year)
    if not 1 <= month <= 12:
        raise ValueError("month must be in 1..12")
    if not 1 <= day <= _days_in_month(year, month):
        raise ValueError("day is out of range for month")


def _check_time(hour, minute, second, microsecond):
    for value in (hour, minute, second, microsecond):
        _check_int(value)
    if not 0 <= hour <= 23:
        raise ValueError("hour must be in 0..23")
    if not 0 <= minute <= 59:
        raise ValueError("minute must be in 0..59")
    if not 0 <= second <= 59:
        raise ValueError("second must be in 0..59")
    if not 0 <= microsecond <= 999999:
        raise ValueError("microsecond must be in 0..999999")


def _format_time(hour, minute, second, microsecond, timespec):
    if timespec == "auto":
        timespec = "microseconds" if microsecond else "seconds"
    if timespec == "hours":
        return "%02d" % hour
    if timespec == "minutes":
        return "%02d:%02d" % (hour, minute)
    if timespec == "seconds":
        return "%02d:%02d:%02d" % (hour, minute, second)
    if timespec == "milliseconds":
        return "%02d:%02d:%02d.%03d" % (hour, minute, second, microsecond // 1000)
    if timespec == "microseconds":
        return "%02d:%02d:%02d.%06d" % (hour, minute, second, microsecond)
    raise ValueError("Unknown timespec value")


def _wrap_strftime(fmt, microsecond, offset):
    """`%f` (microseconds) and `%z` are the datetime's own; the rest goes to time.strftime."""
    out = []
    i = 0
    n = len(fmt)
    while i < n:
        ch = fmt[i]
        i += 1
        if ch == "%" and i < n:
            d = fmt[i]
            i += 1
            if d == "f":
                out.append("%06d" % microsecond)
            elif d == "z":
                out.append(offset)
            elif d == "Z":
                out.append("UTC" if offset else "")
            else:
                out.append("%" + d)
        else:
            out.append(ch)
    return "".join(out)


class timedelta:
    """A duration: days, seconds (0..86399) and microseconds (0..999999)."""

    def __init__(self, days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0):
        us = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
        us = round(us * 1000000 + milliseconds * 1000 + microseconds)
        d, us = divmod(us, _US_PER_DAY)
        s, us = divmod(us, 1000000)
        if abs(d) > 999999999:
            raise OverflowError("days=%d; must have magnitude <= 999999999" % d)
        self._days = d
        self._seconds = s
        self._microseconds = us

    @property
    def days(self):
        return self._days

    @property
    def seconds(self):
        return self._seconds

    @property
    def microseconds(self):
        return self._microseconds

    def _to_us(self):
        return (self._days * 86400 + self._seconds) * 1000000 + self._microseconds

    def total_seconds(self):
        return self._to_us() / 10**6

    def __repr__(self):
        args = []
        if self._days:
            args.append("days=%d" % self._days)
        if self._seconds:
            args.append("seconds=%d" % self._seconds)
        if self._microseconds:
            args.append("microseconds=%d" % self._microseconds)
        if not args:
            args.append("0")
        return "datetime.timedelta(%s)" % ", ".join(args)

    def __str__(self):
        mm, ss = divmod(self._seconds, 60)
        hh, mm = divmod(mm, 60)
        s = "%d:%02d:%02d" % (hh, mm, ss)
        if self._days:
            s = "%d day%s, " % (self._days, "s" if abs(self._days) != 1 else "") + s
        if self._microseconds:
            s = s + ".%06d" % self._microseconds
        return s

    def __add__(self, other):
        if isinstance(other, timedelta):
            return timedelta(microseconds=self._to_us() + other._to_us())
        if isinstance(other, date):
            return other + self
        raise TypeError("unsupported operand type(s) for +: 'datetime.timedelta' and '%s'" % type(other).__name__)

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return timedelta(microseconds=self._to_us() - other._to_us())
        raise TypeError("unsupported operand type(s) for -: 'datetime.timedelta' and '%s'" % type(other).__name__)

    def __neg__(self):
        return timedelta(microseconds=-self._to_us())

    def __pos__(self):
        return self

    def __abs__(self):
        return -self if self._days < 0 else self

    def __mul__(self, other):
        if isinstance(other, (int, float)):
            return timedelta(microseconds=round(self._to_us() * other))
        raise TypeError("unsupported operand type(s) for *: 'datetime.timedelta' and '%s'" % type(other).__name__)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        if isinstance(other, timedelta):
            return self._to_us() / other._to_us()
        return timedelta(microseconds=round(self._to_us() / other))

    def __floordiv__(self, other):
        if isinstance(other, timedelta):
            return self._to_us() // other._to_us()
        return timedelta(microseconds=self._to_us() // other)

    def __eq__(self, other):
        return isinstance(other, timedelta) and self._to_us() == other._to_us()

    def __hash__(self):
        return hash(self._to_us())

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self._to_us() < other._to_us()

    def __le__(self, other):
        return self._to_us() <= other._to_us()

    def __gt__(self, other):
        return self._to_us() > other._to_us()

    def __ge__(self, other):
        return self._to_us() >= other._to_us()


timedelta.min = timedelta(-999999999)
timedelta.max = timedelta(days=999999999, hours=23, minutes=59, seconds=59, microseconds=999999)
timedelta.resolution = timedelta(microseconds=1)


class timezone:
    """A fixed offset from UTC; `timezone.utc` is the one socklab's clocks give."""

    def __init__(self, offset, name=None):
        self._offset = offset
        self._name = name

    def utcoffset(self, dt):
        return self._offset

    def tzname(self, dt):
        if self._name is not None:
            return self._name
        return "UTC" + _format_offset(self._offset, ":") if self._offset else "UTC"

    def __repr__(self):
        if not self._offset and self._name is None:
            return "datetime.timezone.utc"
        return "datetime.timezone(%r)" % self._offset

    def __str__(self):
        return self.tzname(None)

    def __eq__(self, other):
        return isinstance(other, timezone) and self._offset == other._offset

    def __hash__(self):
        return hash(self._offset)


def _format_offset(offset, sep):
    if offset is None:
        return ""
    sign = "+"
    if offset.days < 0:
        sign = "-"
        offset = -offset
    hh, rest = divmod(offset.seconds, 3600)
    mm, ss = divmod(rest, 60)
    s = "%s%02d%s%02d" % (sign, hh, sep, mm)
    if ss:
        s = s + "%s%02d" % (sep, ss)
    return s


timezone.utc = timezone(timedelta(0))
UTC = timezone.utc


class date:
    """A day of the proleptic Gregorian calendar."""

    def __init__(self, year, month, day):
        _check_date(year, month, day)
        self._year = year
        self._month = month
        self._day = day

    @property
    def year(self):
        return self._year

    @property
    def month(self):
        return self._month

    @property
    def day(self):
        return self._day

    @classmethod
    def today(cls):
        return cls.fromtimestamp(_time.time())

    @classmethod
    def fromtimestamp(cls, t):
        y, m, d = _time.gmtime(t)[:3]
        return cls(y, m, d)

    @classmethod
    def fromordinal(cls, n):
        y, m, d = _ord2ymd(n)
        return cls(y, m, d)

    @classmethod
    def fromisoformat(cls, s):
        if not isinstance(s, str):
            raise TypeError("fromisoformat: argument must be str")
        try:
            y, m, d = s[:10].split("-")
            return cls(int(y), int(m), int(d))
        except ValueError:
            raise ValueError("Invalid isoformat string: %r" % s)

    def toordinal(self):
        return _ymd2ord(self._year, self._month, self._day)

    def weekday(self):
        return (self.toordinal() + 6) % 7

    def isoweekday(self):
        return self.weekday() + 1

    def replace(self, year=None, month=None, day=None):
        return date(self._year if year is None else year, self._month if month is None else month,
                    self._day if day is None else day)

    def timetuple(self):
        yday = self.toordinal() - _ymd2ord(self._year, 1, 1) + 1
        return (self._year, self._month, self._day, 0, 0, 0, self.weekday(), yday, -1)

    def isoformat(self):
        return "%04d-%02d-%02d" % (self._year, self._month, self._day)

    def __str__(self):
        return self.isoformat()

    def __repr__(self):
        return "datetime.date(%d, %d, %d)" % (self._year, self._month, self._day)

    def ctime(self):
        return "%s %s %2d 00:00:00 %04d" % (_DAYNAMES[self.weekday()], _MONTHNAMES[self._month], self._day, self._year)

    def strftime(self, fmt):
        return _time.strftime(_wrap_strftime(fmt, 0, ""), self.timetuple())

    def __format__(self, spec):
        return self.strftime(spec) if spec else str(self)

    def _key(self):
        return (self._year, self._month, self._day)

    def __eq__(self, other):
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self._key() < other._key()

    def __le__(self, other):
        return self._key() <= other._key()

    def __gt__(self, other):
        return self._key() > other._key()

    def __ge__(self, other):
        return self._key() >= other._key()

    def __add__(self, other):
        if not isinstance(other, timedelta):
            raise TypeError("unsupported operand type(s) for +: 'datetime.date' and '%s'" % type(other).__name__)
        return date.fromordinal(self.toordinal() + other.days)

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return self + timedelta(-other.days)
        if isinstance(other, date):
            return timedelta(self.toordinal() - other.toordinal())
        raise TypeError("unsupported operand type(s) for -: 'datetime.date' and '%s'" % type(other).__name__)


class time:
    """A time of day."""

    def __init__(self, hour=0, minute=0, second=0, microsecond=0, tzinfo=None):
        _check_time(hour, minute, second, microsecond)
        self._hour = hour
        self._minute = minute
        self._second = second
        self._microsecond = microsecond
        self._tzinfo = tzinfo

    @property
    def hour(self):
        return self._hour

    @property
    def minute(self):
        return self._minute

    @property
    def second(self):
        return self._second

    @property
    def microsecond(self):
        return self._microsecond

    @property
    def tzinfo(self):
        return self._tzinfo

    def isoformat(self, timespec="auto"):
        s = _format_time(self._hour, self._minute, self._second, self._microsecond, timespec)
        if self._tzinfo is not None:
            s = s + _format_offset(self._tzinfo.utcoffset(None), ":")
        return s

    def __str__(self):
        return self.isoformat()

    def __repr__(self):
        args = "%d, %d" % (self._hour, self._minute)
        if self._second or self._microsecond:
            args = args + ", %d" % self._second
        if self._microsecond:
            args = args + ", %d" % self._microsecond
        if self._tzinfo is not None:
            args = args + ", tzinfo=%r" % self._tzinfo
        return "datetime.time(%s)" % args

    def strftime(self, fmt):
        offset = _format_offset(self._tzinfo.utcoffset(None), "") if self._tzinfo is not None else ""
        t = (1900, 1, 1, self._hour, self._minute, self._second, 0, 1, -1)
        return _time.strftime(_wrap_strftime(fmt, self._microsecond, offset), t)

    def __format__(self, spec):
        return self.strftime(spec) if spec else str(self)

    def _key(self):
        return (self._hour, self._minute, self._second, self._microsecond)

    def __eq__(self, other):
        return isinstance(other, time) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self._key() < other._key()

    def __le__(self, other):
        return self._key() <= other._key()

    def __gt__(self, other):
        return self._key() > other._key()

    def __ge__(self, other):
        return self._key() >= other._key()


class datetime(date):
    """A day and a time of day, naive or in UTC."""

    def __init__(self, year, month, day, hour=0, minute=0, second=0, microsecond=0, tzinfo=None):
        _check_date(year, month, day)
        _check_time(hour, minute, second, microsecond)
        self._year = year
        self._month = month
        self._day = day
        self._hour = hour
        self._minute = minute
        self._second = second
        self._microsecond = microsecond
        self._tzinfo = tzinfo

    @property
    def hour(self):
        return self._hour

    @property
    def minute(self):
        return self._minute

    @property
    def second(self):
        return self._second

    @property
    def microsecond(self):
        return self._microsecond

    @property
    def tzinfo(self):
        return self._tzinfo

    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(_time.time(), tz)

    @classmethod
    def utcnow(cls):
        return cls.fromtimestamp(_time.time())

    @classmethod
    def today(cls):
        return cls.fromtimestamp(_time.time())

    @classmethod
    def fromtimestamp(cls, t, tz=None):
        us = round(t * 1000000)
        s, us = divmod(us, 1000000)
        y, m, d, hh, mm, ss = _time.gmtime(s)[:6]
        return cls(y, m, d, hh, mm, ss, us, tz)

    @classmethod
    def utcfromtimestamp(cls, t):
        return cls.fromtimestamp(t)

    @classmethod
    def fromordinal(cls, n):
        y, m, d = _ord2ymd(n)
        return cls(y, m, d)

    @classmethod
    def combine(cls, d, t, tzinfo=None):
        if tzinfo is None:
            tzinfo = t.tzinfo
        return cls(d.year, d.month, d.day, t.hour, t.minute, t.second, t.microsecond, tzinfo)

    @classmethod
    def fromisoformat(cls, s):
        if not isinstance(s, str):
            raise TypeError("fromisoformat: argument must be str")
        try:
            d = date.fromisoformat(s[:10])
            rest = s[11:]
            tz = None
            if rest.endswith("Z"):
                rest = rest[:-1]
                tz = timezone.utc
            elif rest.endswith("+00:00"):
                rest = rest[:-6]
                tz = timezone.utc
            hh = mm = ss = us = 0
            if rest:
                parts = rest.split(":")
                hh = int(parts[0])
                if len(parts) > 1:
                    mm = int(parts[1])
                if len(parts) > 2:
                    sec = parts[2].split(".")
                    ss = int(sec[0])
                    if len(sec) > 1:
                        us = int((sec[1] + "000000")[:6])
            return cls(d.year, d.month, d.day, hh, mm, ss, us, tz)
        except ValueError:
            raise ValueError("Invalid isoformat string: %r" % s)

    @classmethod
    def strptime(cls, text, fmt):
        return _strptime(cls, text, fmt)

    def date(self):
        return date(self._year, self._month, self._day)

    def time(self):
        return time(self._hour, self._minute, self._second, self._microsecond)

    def timetz(self):
        return time(self._hour, self._minute, self._second, self._microsecond, self._tzinfo)

    def replace(self, year=None, month=None, day=None, hour=None, minute=None, second=None, microsecond=None,
                tzinfo=True):
        return datetime(
            self._year if year is None else year,
            self._month if month is None else month,
            self._day if day is None else day,
            self._hour if hour is None else hour,
            self._minute if minute is None else minute,
            self._second if second is None else second,
            self._microsecond if microsecond is None else microsecond,
            self._tzinfo if tzinfo is True else tzinfo,
        )

    def utcoffset(self):
        return None if self._tzinfo is None else self._tzinfo.utcoffset(self)

    def astimezone(self, tz=None):
        return self.replace(tzinfo=timezone.utc if tz is None else tz)

    def timetuple(self):
        yday = self.toordinal() - _ymd2ord(self._year, 1, 1) + 1
        return (self._year, self._month, self._day, self._hour, self._minute, self._second, self.weekday(), yday, -1)

    def _to_us(self):
        days = self.toordinal() - _EPOCH_ORDINAL
        return ((days * 24 + self._hour) * 60 + self._minute) * 60000000 + self._second * 1000000 + self._microsecond

    def timestamp(self):
        return self._to_us() / 10**6

    def isoformat(self, sep="T", timespec="auto"):
        s = "%04d-%02d-%02d%s" % (self._year, self._month, self._day, sep)
        s = s + _format_time(self._hour, self._minute, self._second, self._microsecond, timespec)
        if self._tzinfo is not None:
            s = s + _format_offset(self._tzinfo.utcoffset(self), ":")
        return s

    def __str__(self):
        return self.isoformat(" ")

    def __repr__(self):
        fields = [self._year, self._month, self._day, self._hour, self._minute, self._second, self._microsecond]
        while len(fields) > 5 and fields[-1] == 0:
            fields.pop()
        s = "datetime.datetime(%s" % ", ".join(str(f) for f in fields)
        if self._tzinfo is not None:
            s = s + ", tzinfo=%r" % self._tzinfo
        return s + ")"

    def ctime(self):
        return "%s %s %2d %02d:%02d:%02d %04d" % (_DAYNAMES[self.weekday()], _MONTHNAMES[self._month], self._day,
                                                  self._hour, self._minute, self._second, self._year)

    def strftime(self, fmt):
        offset = _format_offset(self.utcoffset(), "")
        return _time.strftime(_wrap_strftime(fmt, self._microsecond, offset), self.timetuple())

    def _key(self):
        return self._to_us()

    def __eq__(self, other):
        return isinstance(other, datetime) and self._to_us() == other._to_us()

    def __hash__(self):
        return hash(self._to_us())

    def __add__(self, other):
        if not isinstance(other, timedelta):
            raise TypeError("unsupported operand type(s) for +: 'datetime.datetime' and '%s'" % type(other).__name__)
        return self._exact(self._to_us() + other._to_us())

    def _exact(self, us):
        """The datetime `us` microseconds after the epoch, with no float rounding."""
        days, us = divmod(us, _US_PER_DAY)
        y, m, d = _ord2ymd(days + _EPOCH_ORDINAL)
        s, us = divmod(us, 1000000)
        hh, s = divmod(s, 3600)
        mm, ss = divmod(s, 60)
        return datetime(y, m, d, hh, mm, ss, us, self._tzinfo)

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return self._exact(self._to_us() - other._to_us())
        if isinstance(other, datetime):
            return timedelta(microseconds=self._to_us() - other._to_us())
        raise TypeError("unsupported operand type(s) for -: 'datetime.datetime' and '%s'" % type(other).__name__)


_STRPTIME_NAMES = {"b": _MONTHNAMES, "a": _DAYNAMES}


def _strptime(cls, text, fmt):
    """The directives socket programs parse timestamps with: %Y %m %d %H %M
    %S %f %y %b %j %p %I %%, and literal text."""
    fields = {"Y": 1900, "m": 1, "d": 1, "H": 0, "M": 0, "S": 0, "f": 0}
    pm = None
    i = 0
    j = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            if j >= len(text) or text[j] != ch:
                raise ValueError("time data %r does not match format %r" % (text, fmt))
            i += 1
            j += 1
            continue
        d = fmt[i + 1] if i + 1 < len(fmt) else ""
        i += 2
        if d == "%":
            if j >= len(text) or text[j] != "%":
                raise ValueError("time data %r does not match format %r" % (text, fmt))
            j += 1
            continue
        if d in ("b", "a"):
            word = text[j:j + 3].title()
            names = _STRPTIME_NAMES[d]
            if word not in names:
                raise ValueError("time data %r does not match format %r" % (text, fmt))
            if d == "b":
                fields["m"] = names.index(word)
            j += 3
            continue
        if d == "p":
            word = text[j:j + 2].upper()
            if word not in ("AM", "PM"):
                raise ValueError("time data %r does not match format %r" % (text, fmt))
            pm = word == "PM"
            j += 2
            continue
        width = {"Y": 4, "f": 6, "j": 3}.get(d, 2)
        k = j
        while k < len(text) and k - j < width and text[k].isdigit():
            k += 1
        if k == j or d not in "YmdHMSfyIj":
            raise ValueError("time data %r does not match format %r" % (text, fmt))
        n = int(text[j:k])
        if d == "y":
            fields["Y"] = n + (2000 if n < 69 else 1900)
        elif d == "I":
            fields["H"] = n % 12
        elif d == "f":
            fields["f"] = n * 10 ** (6 - (k - j))
        elif d == "j":
            fields["j"] = n
        else:
            fields[d] = n
        j = k
    if j != len(text):
        raise ValueError("unconverted data remains: %s" % text[j:])
    if pm is not None:
        fields["H"] = fields["H"] % 12 + (12 if pm else 0)
    if "j" in fields:
        y, m, d = _ord2ymd(_ymd2ord(fields["Y"], 1, 1) + fields["j"] - 1)
        fields["m"] = m
        fields["d"] = d
    return cls(fields["Y"], fields["m"], fields["d"], fields["H"], fields["M"], fields["S"], fields["f"])


datetime.min = datetime(1, 1, 1)
datetime.max = datetime(9999, 12, 31, 23, 59, 59, 999999)
date.min = date(1, 1, 1)
date.max = date(9999, 12, 31)
