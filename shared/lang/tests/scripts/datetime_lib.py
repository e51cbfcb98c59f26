# datetime and time's calendar functions (local time is UTC in socklab; run CPython with TZ=UTC).
import datetime
from datetime import datetime as DT, timedelta, date, timezone
import time
d = DT(2024, 1, 2, 3, 4, 5)
print(d, repr(d))
print(d.isoformat(), d.strftime("%Y-%m-%d %H:%M:%S.%f %a %b %j %p"))
print(d + timedelta(days=1, hours=25), d - timedelta(seconds=1))
e = DT(2024, 3, 1, 12, 0, 0, 123456)
print(e - d, repr(e - d), (e - d).total_seconds())
print(d < e, d == DT(2024, 1, 2, 3, 4, 5), d > e)
print(DT.fromtimestamp(0), DT.utcfromtimestamp(1700000000.5))
print(date(2024, 2, 29).weekday(), date(2024, 2, 29) + timedelta(days=1), repr(date(2020, 1, 1)))
print(timedelta(0), timedelta(days=-1, seconds=5), repr(timedelta(hours=-1)), str(timedelta(days=2, microseconds=7)))
print(timedelta(minutes=90) // timedelta(minutes=30), timedelta(hours=1) / 4, timedelta(seconds=3) * 2)
print(DT.strptime("2023-11-14 22:13:20", "%Y-%m-%d %H:%M:%S"))
print(DT.fromisoformat("2023-11-14T22:13:20.5"), DT(2020, 5, 17, tzinfo=timezone.utc))
print(datetime.datetime(2021, 6, 1).timestamp(), datetime.date.fromordinal(738000))
print(time.strftime("%H:%M:%S", time.gmtime(3661)), time.ctime(0), time.asctime(time.gmtime(1700000000)))
print(f"{d:%d/%m/%Y}", f"{d.date():%y}", f"{d}")
n = DT.now()
print(type(n).__name__, n.year >= 2023, isinstance(n, date))
try:
    DT(2023, 2, 29)
except ValueError as e:
    print("ValueError:", e)

# As dict keys and set items: equal values are one key.
day = datetime.date(2020, 1, 2)
when = datetime.datetime(2020, 1, 2, 3, 4, 5)
span = datetime.timedelta(seconds=5)
keys = {day: "day", when: "when", span: "span", datetime.time(1, 2): "time"}
print(keys[datetime.date(2020, 1, 2)], keys[datetime.datetime(2020, 1, 2, 3, 4, 5)], keys[datetime.timedelta(seconds=5)])
print(keys[datetime.time(1, 2)], datetime.timedelta(minutes=1) in keys, len({span, datetime.timedelta(0, 5), span * 2}))
print(hash(day) == hash(datetime.date(2020, 1, 2)), hash(span) == hash(datetime.timedelta(seconds=5)))
