# str.format calls __format__ (and __str__/__repr__) as f-strings and format() do.
class Money:
    def __init__(self, amount):
        self.amount = amount

    def __format__(self, spec):
        print("format", repr(spec))
        return "$" + format(self.amount, spec or ".2f")

    def __str__(self):
        return "Money(str)"

    def __repr__(self):
        return "Money(%r)" % self.amount


m = Money(3.5)
print("{}".format(m))
print("[{:>10.1f}]".format(m))
print("{0} and {0:.3f} and {x:08.2f}".format(m, x=m))
print("{!s} {!r}".format(m, m))
print("{:{w}.{p}f}|".format(m, w=9, p=1))
print("{0[0]:.1f} {1.amount}".format([m], m))
print(f"{m} {m:.0f} {m!r}", format(m), format(m, "6.1f"))


class Plain:
    def __str__(self):
        return "plain"


print("{} {:} {!r:>3}".format(Plain(), Plain(), 1))
try:
    "{:>5}".format(Plain())
except TypeError as e:
    print("TypeError:", e)


class Bad:
    def __format__(self, spec):
        return 42


for template in ("{}", "{:x}"):
    try:
        template.format(Bad())
    except TypeError as e:
        print("TypeError:", e)
try:
    format(Bad(), "")
except TypeError as e:
    print("TypeError:", e)


class Raising:
    def __format__(self, spec):
        raise ValueError("bad spec " + repr(spec))


try:
    "{:q}".format(Raising())
except ValueError as e:
    print("ValueError:", e)
print("{:>6}|{:<4}|{}".format("ab", 7, [Money(1)]))
