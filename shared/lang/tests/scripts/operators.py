# Classes that define operator methods: +, -, *, /, //, %, **, &, |, ^, <<, >>,
# their reflected forms, unary -, + and ~, and augmented assignment.
class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y)

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k)

    def __rmul__(self, k):
        return Vec(k * self.x, k * self.y)

    def __truediv__(self, k):
        return Vec(self.x / k, self.y / k)

    def __floordiv__(self, k):
        return Vec(self.x // k, self.y // k)

    def __neg__(self):
        return Vec(-self.x, -self.y)

    def __pos__(self):
        return self

    def __eq__(self, other):
        return self.x == other.x and self.y == other.y

    def __repr__(self):
        return "Vec(%r, %r)" % (self.x, self.y)


class Flags:
    def __init__(self, bits):
        self.bits = bits

    def __or__(self, other):
        return Flags(self.bits | other.bits)

    def __and__(self, other):
        return Flags(self.bits & other.bits)

    def __xor__(self, other):
        return Flags(self.bits ^ other.bits)

    def __invert__(self):
        return Flags(~self.bits & 0xff)

    def __lshift__(self, n):
        return Flags(self.bits << n)

    def __rshift__(self, n):
        return Flags(self.bits >> n)

    def __mod__(self, n):
        return Flags(self.bits % n)

    def __pow__(self, n):
        return Flags(self.bits ** n)

    def __radd__(self, other):
        return other + self.bits

    def __repr__(self):
        return "Flags(%#x)" % self.bits


a = Vec(1, 2)
b = Vec(3, 5)
print(a + b, b - a, a * 3, 2 * a, b / 2, b // 2, -a, +a)
total = Vec(0, 0)
for v in [a, b, a]:
    total += v
print(total, total == Vec(5, 9))
f = Flags(0x0c)
print(f | Flags(1), f & Flags(4), f ^ Flags(0xff), ~f, f << 2, f >> 1, f % 5, f ** 2, 10 + f)
print(sum([Flags(1), Flags(2)]) if False else 1 + Flags(2))
try:
    a + 1
except AttributeError as e:
    print("AttributeError:", e)
try:
    "x" - a
except TypeError as e:
    print("TypeError:", e)
