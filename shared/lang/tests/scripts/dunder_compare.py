class Version:
    def __init__(self, n):
        self.n = n

    def __eq__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self.n == other.n

    def __lt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self.n < other.n

    __hash__ = None


class Any:
    def __eq__(self, other):
        print("Any eq", type(other).__name__)
        return True

    def __gt__(self, other):
        print("Any gt")
        return True


v = Version(1)
print(v == Version(1), v != Version(1), v == 1, v != 1, v == v, v < Version(2))
print(v == Any(), Any() == v, 3 == Any(), v < Any(), v != Any())
for a, b in ((v, 2), (2, v), (v, "x")):
    try:
        print(a < b)
    except TypeError as e:
        print("TypeError", e)
try:
    print(v > Version(0))
except TypeError as e:
    print("TypeError", e)
